package http_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/books-platform/books/app"
)

// badQueries are list query strings the spec does not allow: each is a 400,
// never a silently ignored parameter and the default page.
var badQueries = []string{
	"%%%", "%zz", ";", "limit=5;cursor=x", "a=%zz", "limit=5&%",
	"limit=%2B5", "limit=+5", "limit=05", "limit= 5", "limit=5 ", "limit=", "limit=0x10", "limit=1_0",
	"limit=1&limit=2", "limit=5&limit=5", "author=a&author=b", "cursor=x&cursor=y",
}

// TestListQueryStrict: query strings are parsed with errors checked, limit
// is a canonical decimal integer, and a parameter given twice is an error.
func TestListQueryStrict(t *testing.T) {
	reset(t)
	createBook(t, "t", "a", 2000)
	for _, q := range badQueries {
		t.Run("Invalid_"+q, func(t *testing.T) {
			r := do(t, req{method: "GET", path: "/book?" + q})
			wantStatus(t, r, 400, "invalid")
		})
	}
	for _, q := range []string{"", "limit=5", "limit=100", "author=", "author=a", "unknown=1", "cursor=", "limit=5&author=a"} {
		t.Run("Valid_"+q, func(t *testing.T) {
			wantStatus(t, do(t, req{method: "GET", path: "/book?" + q}), 200, "")
		})
	}
	t.Run("DuplicateMessageNamesTheParameter", func(t *testing.T) {
		r := do(t, req{method: "GET", path: "/book?limit=1&limit=2"})
		if m := r.errorMessage(); !strings.Contains(m, "limit") || !strings.Contains(m, "once") {
			t.Fatalf("message does not say which parameter is repeated: %s", r.body)
		}
	})
}

// strictBodies are bodies encoding/json's defaults accept but the spec
// (additionalProperties: false, maxLength on the raw value, JSON strings
// of Unicode text) does not.
func strictBodies() []badBody {
	pad := func(n int) string { return "  " + strings.Repeat("x", n) + "  " }
	return []badBody{
		{"UpperCaseKeys", `{"TITLE":"t","AUTHOR":"a","YEAR":2000}`, nil, 400, "invalid"},
		{"MixedCaseKey", `{"Title":"t","author":"a","year":2000}`, nil, 400, "invalid"},
		{"DuplicateKey", `{"title":"t","author":"a","year":2000,"title":"u"}`, nil, 400, "invalid"},
		{"DuplicateKeyDifferentCase", `{"title":"t","author":"a","year":2000,"tItle":"u"}`, nil, 400, "invalid"},
		{"DuplicateKeyEscaped", `{"title":"t","author":"a","year":2000,"\u0074itle":"u"}`, nil, 400, "invalid"},
		{"LoneHighSurrogate", `{"title":"\ud800","author":"a","year":2000}`, nil, 400, "invalid"},
		{"LoneLowSurrogate", `{"title":"x\udc00y","author":"a","year":2000}`, nil, 400, "invalid"},
		{"ReversedSurrogates", `{"title":"\ude00\ud83d","author":"a","year":2000}`, nil, 400, "invalid"},
		{"PaddedTitleOverMaxLength", fmt.Sprintf(`{"title":%q,"author":"a","year":2000}`, pad(books.MaxTitleLen-1)), nil, 400, "invalid"},
		{"PaddedAuthorOverMaxLength", fmt.Sprintf(`{"title":"t","author":%q,"year":2000}`, pad(books.MaxAuthorLen)), nil, 400, "invalid"},
		{"YearNull", `{"title":"t","author":"a","year":null}`, nil, 400, "invalid"},
		{"ByteOrderMark", "\ufeff" + `{"title":"t","author":"a","year":2000}`, nil, 400, "invalid"},
	}
}

// TestBodyStrict: what the spec allows beyond the rejections (each of
// strictBodies is sent by TestCreateBook with the other bad bodies).
func TestBodyStrict(t *testing.T) {
	t.Run("SurrogatePairAccepted", func(t *testing.T) {
		reset(t)
		r := do(t, req{method: "POST", path: "/book", body: `{"title":"\ud83d\udcda","author":"a","year":2000}`})
		wantStatus(t, r, 201, "")
		if got := r.book(t).Title; got != "📚" {
			t.Fatalf("title = %q", got)
		}
	})
	t.Run("PaddingWithinMaxLengthIsTrimmed", func(t *testing.T) {
		reset(t)
		title := " " + strings.Repeat("x", books.MaxTitleLen-2) + " "
		r := do(t, req{method: "POST", path: "/book", body: fmt.Sprintf(`{"title":%q,"author":"a","year":2000}`, title)})
		wantStatus(t, r, 201, "")
		if got := r.book(t).Title; got != strings.TrimSpace(title) {
			t.Fatalf("title not trimmed: %d characters", len(got))
		}
	})
	t.Run("MessagesNameTheField", func(t *testing.T) {
		reset(t)
		for body, want := range map[string]string{
			`{"TITLE":"t","author":"a","year":2000}`:               `unknown field "TITLE"`,
			`{"title":"t","author":"a","year":2000,"title":"u"}`:   `duplicate field "title"`,
			`{"title":"\ud800","author":"a","year":2000}`:          `title`,
			`{"title":"t","author":"a","year":null}`:               `year must be an integer`,
			`{"title":"t","author":"a","year":"2000"}`:             `year must be an integer`,
			`{"title":"t","author":["a"],"year":2000}`:             `author must be a string`,
			`{"title":"t","author":"a","year":2000,"x":{"y":[1]}}`: `unknown field "x"`,
		} {
			r := do(t, req{method: "POST", path: "/book", body: body})
			wantStatus(t, r, 400, "invalid")
			if !strings.Contains(r.errorMessage(), want) {
				t.Errorf("%s → %s, want a message containing %q", body, r.body, want)
			}
		}
	})
}

// TestEntityTagsCompareExactly: RFC 9110 8.8.3.2 strong comparison compares
// the opaque tags character by character, so "04" is not version 4.
func TestEntityTagsCompareExactly(t *testing.T) {
	reset(t)
	b := createBook(t, "t", "a", 2000)
	body := `{"title":"u","author":"a","year":2000}`
	for _, im := range []string{`"01"`, `"+1"`, `"1 "`, `" 1"`, `"1.0"`} {
		t.Run("IfMatch_"+im, func(t *testing.T) {
			wantStatus(t, do(t, req{method: "PUT", path: "/book/" + b.ID, body: body, header: map[string]string{"If-Match": im}}), 412, "precondition_failed")
			wantStatus(t, do(t, req{method: "DELETE", path: "/book/" + b.ID, header: map[string]string{"If-Match": im}}), 412, "precondition_failed")
		})
		t.Run("IfNoneMatch_"+im, func(t *testing.T) {
			wantStatus(t, do(t, req{method: "GET", path: "/book/" + b.ID, header: map[string]string{"If-None-Match": im}}), 200, "")
		})
	}
	t.Run("ExactTagMatches", func(t *testing.T) {
		wantStatus(t, do(t, req{method: "GET", path: "/book/" + b.ID, header: map[string]string{"If-None-Match": `W/"1"`}}), 304, "")
		wantStatus(t, do(t, req{method: "PUT", path: "/book/" + b.ID, body: body, header: map[string]string{"If-Match": `"01", "1"`}}), 200, "")
	})
}

// rawExchange writes raw bytes on a new connection and reads one response.
// The response is checked against openapi.yaml's Error schema (these
// requests reach no operation).
func rawExchange(t *testing.T, raw string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(baseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no HTTP response to %.60q: %v", raw, err)
	}
	body := readAll(t, resp.Body)
	if err := validateErrorBody(resp.Header, body, false); err != nil {
		t.Fatalf("%.60q → %d: %v", raw, resp.StatusCode, err)
	}
	return resp, string(body)
}

// TestEveryErrorIsJSON: responses net/http would write itself — the path
// cleaning redirect, and protocol errors answered before any handler runs —
// carry the spec's JSON error too.
func TestEveryErrorIsJSON(t *testing.T) {
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"//book", "/book//", "/./book", "/book/../book", "/book/./" + missingID, "//healthz", "/book/" + missingID + "/.."} {
		t.Run("UncleanPath_"+p, func(t *testing.T) {
			hr, _ := http.NewRequest("GET", baseURL+p, nil)
			hr.URL.Opaque = p // send the path as it is
			hr.SetBasicAuth(testUser, testPassword)
			resp, err := noRedirect.Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp.Body)
			checkSpec(t, hr, resp.StatusCode, resp.Header, body)
			wantStatus(t, &response{status: resp.StatusCode, header: resp.Header, body: body}, 404, "not_found")
		})
	}
	host := strings.TrimPrefix(baseURL, "http://")
	cases := []struct {
		name, raw string
		status    int
		code      string
	}{
		{"HeadersTooLarge", "GET /book HTTP/1.1\r\nHost: " + host + "\r\nX-Big: " + strings.Repeat("x", 80<<10) + "\r\n\r\n", 431, "headers_too_large"},
		{"MalformedRequestLine", "GET\r\n\r\n", 400, "invalid"},
		{"MalformedHeader", "GET /book HTTP/1.1\r\nHost: " + host + "\r\nno colon here\r\n\r\n", 400, "invalid"},
		{"MissingHost", "GET /book HTTP/1.1\r\n\r\n", 400, "invalid"},
		{"UnsupportedTransferEncoding", "POST /book HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "not_implemented"},
		{"UnsupportedVersion", "GET /book HTTP/2.0\r\nHost: " + host + "\r\n\r\n", 505, "http_version_not_supported"},
		{"UnknownExpectation", "GET /book HTTP/1.1\r\nHost: " + host + "\r\nExpect: teapot\r\n\r\n", 417, "expectation_failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := rawExchange(t, c.raw)
			wantStatus(t, &response{status: resp.StatusCode, header: resp.Header, body: []byte(body)}, c.status, c.code)
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
}
