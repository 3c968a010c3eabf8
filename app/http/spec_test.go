package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The spec-driven check: every response the tests of this package receive
// (do, and the raw protocol exchanges) is validated against openapi.yaml
// with kin-openapi's openapi3filter — status documented for the operation,
// headers and body per schema — so the spec and the app cannot drift.
var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error

	mu        sync.Mutex
	validated int
	seen      map[string]int // "METHOD path-template status" → count
}

func loadSpec() error {
	spec.once.Do(func() {
		ctx := context.Background()
		doc, err := openapi3.NewLoader().LoadFromFile("../openapi.yaml")
		if err == nil {
			err = doc.Validate(ctx)
		}
		if err != nil {
			spec.err = fmt.Errorf("openapi.yaml: %w", err)
			return
		}
		// Match any host and port: the tests serve on 127.0.0.1:0.
		doc.Servers = nil
		spec.doc = doc
		spec.router, spec.err = gorillamux.NewRouter(doc)
		spec.seen = map[string]int{}
	})
	return spec.err
}

// checkSpec validates one exchange; hr is the request as sent.
func checkSpec(t testing.TB, hr *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if err := loadSpec(); err != nil {
		t.Fatal(err)
	}
	key, err := validateExchange(hr, status, header, body)
	if err != nil {
		t.Fatalf("%s %s → %d does not conform to openapi.yaml: %v\nbody: %.300s", hr.Method, hr.URL.RequestURI(), status, err, body)
	}
	spec.mu.Lock()
	spec.validated++
	spec.seen[key]++
	spec.mu.Unlock()
}

func validateExchange(hr *http.Request, status int, header http.Header, body []byte) (string, error) {
	ctx := context.Background()
	lookup := hr.Clone(ctx)
	if lookup.Method == http.MethodHead { // HEAD is GET without a body
		lookup.Method = http.MethodGet
	}
	route, params, err := spec.router.FindRoute(lookup)
	switch {
	case errors.Is(err, routers.ErrPathNotFound), errors.Is(err, routers.ErrMethodNotAllowed):
		// No operation: the spec promises 404 for an unknown path and 405
		// (with Allow) for a known path with another method, both with the
		// Error body.
		want := map[bool]int{true: http.StatusNotFound, false: http.StatusMethodNotAllowed}[errors.Is(err, routers.ErrPathNotFound)]
		if status != want {
			return "", fmt.Errorf("no operation matches; want %d, got %d", want, status)
		}
		if status == http.StatusMethodNotAllowed && header.Get("Allow") == "" {
			return "", errors.New("405 without Allow")
		}
		return fmt.Sprintf("(no operation) %d", status), validateErrorBody(header, body, hr.Method == http.MethodHead)
	case err != nil:
		return "", err
	}
	key := fmt.Sprintf("%s %s %d", lookup.Method, route.Path, status)
	if route.Operation.Responses.Status(status) == nil {
		return key, fmt.Errorf("status %d is not documented for %s %s", status, lookup.Method, route.Path)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: lookup, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: hr.Method == http.MethodHead},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return key, err
	}
	if status >= 300 && status != http.StatusNotModified {
		return key, validateErrorBody(header, body, hr.Method == http.MethodHead)
	}
	return key, nil
}

// validateErrorBody checks a body against components.schemas.Error.
func validateErrorBody(header http.Header, body []byte, head bool) error {
	if ct := header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("error Content-Type %q, want application/json", ct)
	}
	if head {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("error body is not JSON: %w", err)
	}
	return spec.doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.MultiErrors())
}

// specReport prints what the spec-driven check covered (TestMain, -v).
func specReport(w io.Writer) {
	spec.mu.Lock()
	defer spec.mu.Unlock()
	if spec.validated == 0 {
		return
	}
	keys := make([]string, 0, len(spec.seen))
	for k := range spec.seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "openapi.yaml: %d responses validated, %d distinct operation/status pairs: %s\n", spec.validated, len(keys), strings.Join(keys, "; "))
}

// TestSpecLoadsAndValidates: openapi.yaml is a valid OpenAPI 3 document.
func TestSpecLoadsAndValidates(t *testing.T) {
	if err := loadSpec(); err != nil {
		t.Fatal(err)
	}
}

// TestSpecValidatorCatchesDrift proves the check can fail: a response that
// breaks the spec is rejected.
func TestSpecValidatorCatchesDrift(t *testing.T) {
	if err := loadSpec(); err != nil {
		t.Fatal(err)
	}
	get, _ := http.NewRequest("GET", "http://127.0.0.1/book/"+missingID, nil)
	list, _ := http.NewRequest("GET", "http://127.0.0.1/book", nil)
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	for name, c := range map[string]struct {
		hr     *http.Request
		status int
		header http.Header
		body   string
	}{
		"UndocumentedStatus":  {get, 418, jsonCT, `{"error":{"code":"invalid","message":"x"}}`},
		"BookMissingField":    {get, 200, jsonCT, `{"id":"` + missingID + `","title":"t"}`},
		"ListWithoutCursor":   {list, 200, jsonCT, `{"items":[]}`},
		"UnknownErrorCode":    {get, 404, jsonCT, `{"error":{"code":"gone","message":"x"}}`},
		"TextErrorBody":       {get, 404, http.Header{"Content-Type": {"text/plain"}}, "404 page not found"},
		"WrongVersionType":    {get, 200, jsonCT, `{"id":"` + missingID + `","title":"t","author":"a","year":1,"createdAt":"2024-01-01T00:00:00Z","updatedAt":"2024-01-01T00:00:00Z","version":"1","createdBy":"","updatedBy":""}`},
		"ErrorWithoutMessage": {list, 400, jsonCT, `{"error":{"code":"invalid"}}`},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := validateExchange(c.hr, c.status, c.header, []byte(c.body)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("ConformingResponseAccepted", func(t *testing.T) {
		if _, err := validateExchange(get, 404, jsonCT, []byte(`{"error":{"code":"not_found","message":"x"}}`)); err != nil {
			t.Fatal(err)
		}
	})
}

// readAll reads and closes a response body.
func readAll(t testing.TB, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
