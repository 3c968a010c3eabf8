package http_test

import (
	stdjson "encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/books-platform/books/app"
	bookshttp "github.com/books-platform/books/app/http"
)

// FuzzDecodeBookBody: whatever the decoder accepts, openapi.yaml's
// BookInput allows — checked by an oracle that shares no code with the
// decoder: encoding/json v1's token stream (exactly one object, each member
// once, names exactly title/author/year) and kin-openapi's schema
// validation of the value. Whatever it rejects is a 400 (EINVALID), never
// another error. Seeded with the cases of issue 16; `go test` runs the
// seeds, `make fuzz` explores.
func FuzzDecodeBookBody(f *testing.F) {
	for _, c := range append(badBodies(), strictBodies()...) {
		f.Add([]byte(c.body))
	}
	for _, s := range []string{
		`{"title":"t","author":"a","year":2000}`, `{"title":"\ud83d\udcda","author":"a","year":-700}`,
		`{"title":"  t  ","author":"a","year":0}`, `{"year":1,"author":"a","title":"t"}`, ` {"title":"t","author":"a","year":1}` + "\n",
		`{"title":"t","author":"a","year":2000,"title":"t"}`, `{"title":"\ud800\udc00","author":"a","year":1}`, `{"title":"\u00e9","author":"a","year":1}`,
	} {
		f.Add([]byte(s))
	}
	if err := loadSpec(); err != nil {
		f.Fatal(err)
	}
	schema := spec.doc.Components.Schemas["BookInput"].Value
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, err := bookshttp.ParseBookInput(raw)
		if err != nil {
			if books.ErrorCode(err) != books.EINVALID {
				t.Fatalf("%q: error %v is not EINVALID", raw, err)
			}
			return
		}
		names, err := objectMemberNames(raw)
		if err != nil {
			t.Fatalf("accepted %q, which is not one JSON object: %v", raw, err)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				t.Fatalf("accepted %q with member %q twice", raw, n)
			}
			seen[n] = true
		}
		var v map[string]any
		if err := stdjson.Unmarshal(raw, &v); err != nil {
			t.Fatalf("accepted %q: %v", raw, err)
		}
		if err := schema.VisitJSON(v); err != nil {
			t.Fatalf("accepted %q, which openapi.yaml's BookInput rejects: %v", raw, err)
		}
		title, _ := v["title"].(string)
		author, _ := v["author"].(string)
		if in.Title != strings.TrimSpace(title) || in.Author != strings.TrimSpace(author) || float64(in.Year) != v["year"] {
			t.Fatalf("accepted %q as %+v, but it says %q/%q/%v", raw, in, title, author, v["year"])
		}
		if strings.ContainsRune(title+author, '\uFFFD') && !strings.Contains(string(raw), "\uFFFD") && !strings.Contains(strings.ToLower(string(raw)), `\ufffd`) {
			t.Fatalf("accepted %q: a U+FFFD the sender did not send (a lone surrogate or invalid UTF-8 replaced)", raw)
		}
	})
}

// objectMemberNames returns the top-level member names of raw, which must
// be exactly one JSON object (encoding/json v1 tokens, independent of the
// decoder under test).
func objectMemberNames(raw []byte) ([]string, error) {
	dec := stdjson.NewDecoder(strings.NewReader(string(raw)))
	if tok, err := dec.Token(); err != nil || tok != stdjson.Delim('{') {
		return nil, errors.New("not an object")
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		names = append(names, tok.(string))
		var skip stdjson.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return names, nil
}

// FuzzParseListQuery: whatever the query parser accepts is a well-formed
// query string with each documented parameter at most once, which
// kin-openapi's request validation of GET /book accepts too, and the
// filter is what it says (limit written in canonical digits). Rejections
// are EINVALID.
func FuzzParseListQuery(f *testing.F) {
	for _, q := range append(badQueries, "", "limit=5", "limit=100", "limit=1&cursor=&author=x", "unknown=%41", "author=%C3%A9", "a&b&c", "limit=20&x=1&x=2") {
		f.Add(q)
	}
	if err := loadSpec(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		flt, err := bookshttp.ParseListQuery(raw)
		if err != nil {
			if books.ErrorCode(err) != books.EINVALID {
				t.Fatalf("%q: error %v is not EINVALID", raw, err)
			}
			return
		}
		q, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("accepted malformed query %q: %v", raw, err)
		}
		for _, name := range []string{"limit", "cursor", "author"} {
			if len(q[name]) > 1 {
				t.Fatalf("accepted %q with %s %d times", raw, name, len(q[name]))
			}
		}
		want := books.DefaultLimit
		if vs, ok := q["limit"]; ok {
			if strconv.Itoa(flt.Limit) != vs[0] {
				t.Fatalf("accepted limit %q as %d", vs[0], flt.Limit)
			}
			want = flt.Limit
		}
		if flt.Limit != want || flt.Limit < books.MinLimit || flt.Limit > books.MaxLimit {
			t.Fatalf("%q: limit %d", raw, flt.Limit)
		}
		hr, err := http.NewRequest("GET", "http://127.0.0.1/book", nil)
		if err != nil {
			t.Fatal(err)
		}
		hr.URL.RawQuery = raw
		route, params, err := spec.router.FindRoute(hr)
		if err != nil {
			t.Fatal(err)
		}
		in := &openapi3filter.RequestValidationInput{Request: hr, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if err := openapi3filter.ValidateRequest(hr.Context(), in); err != nil {
			t.Fatalf("accepted %q, which openapi.yaml rejects: %v", raw, err)
		}
	})
}
