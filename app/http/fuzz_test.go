package http_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzBookBody sends arbitrary bodies, content types and If-Match values to
// POST /book and PUT /book/{id} on the real stack (PostgreSQL included, so
// input that the database would reject, like NUL bytes, is covered) and
// asserts that nothing produces a 5xx, and that whatever is accepted reads
// back. `go test` runs the seed corpus; `go test -fuzz=FuzzBookBody ./http`
// explores further.
func FuzzBookBody(f *testing.F) {
	seeds := []struct{ body, ct, ifMatch string }{
		{`{"title":"t","author":"a","year":2000}`, "application/json", ""},
		{`{"title":"t","author":"a","year":2000}`, "application/json; charset=utf-8", `"1"`},
		{`{"title":"a\u0000b","author":"a","year":2000}`, "application/json", ""},
		{`{"title":"\ud800","author":"a","year":2000}`, "application/json", ""},
		{"{\"title\":\"\xff\",\"author\":\"a\",\"year\":1}", "application/json", ""},
		{`{"title":"t","author":"a","year":1e309}`, "application/json", "*"},
		{`{"title":"t","author":"a","year":-9223372036854775809}`, "application/json", ""},
		{`{"title":"t","author":"a","year":2000,"title":"dup"}`, "application/json", ""},
		{`{"TITLE":"t","Author":"a","YEAR":2000}`, "application/json", ""},
		{`[]`, "application/json", `W/"1"`},
		{`{`, "application/json", ""},
		{``, "", ""},
		{`{"title":"t","author":"a","year":2000}`, "text/plain", ""},
		{`{"title":"t","author":"a","year":2000}`, "application/json; charset=\x00", ""},
		{`{"title":"` + strings.Repeat("x", 600) + `","author":"a","year":2000}`, "application/json", `"99999999999999999999"`},
		{`{"title":" ","author":" ","year":0}`, "application/json", `"1", "2"`},
		{`{"title":"\u202e\u200b","author":"\u0085","year":2}`, "application/json", ""},
	}
	for _, s := range seeds {
		f.Add(s.body, s.ct, s.ifMatch)
	}
	reset(f)
	target := createBook(f, "fuzz target", "fuzz", 2000)
	f.Fuzz(func(t *testing.T, body, ct, ifMatch string) {
		for _, m := range []struct{ method, path string }{{"POST", "/book"}, {"PUT", "/book/" + target.ID}} {
			h := map[string]string{}
			if validHeader(ct) {
				h["Content-Type"] = ct
			}
			if validHeader(ifMatch) && ifMatch != "" {
				h["If-Match"] = ifMatch
			}
			r := do(t, req{method: m.method, path: m.path, body: body, header: h})
			if r.status >= 500 {
				t.Fatalf("%s %q (Content-Type %q, If-Match %q) → %d %s", m.method, body, ct, ifMatch, r.status, r.body)
			}
			if r.status >= 400 && r.errorCode() == "" {
				t.Fatalf("%s %q → %d without a JSON error body: %s", m.method, body, r.status, r.body)
			}
			if r.status == http.StatusCreated {
				b := r.book(t)
				got := do(t, req{method: "GET", path: "/book/" + b.ID})
				if got.status != 200 || *got.book(t) != *b {
					t.Fatalf("created %s but read back %d %s", r.body, got.status, got.body)
				}
			}
		}
	})
}

// FuzzListQuery sends arbitrary query strings to GET /book: never a 5xx.
func FuzzListQuery(f *testing.F) {
	for _, q := range []string{"", "limit=5", "limit=0", "limit=-1", "limit=1e2", "cursor=", "cursor=%00", "cursor=MTo5OTk5OTk5OTk5OTk5OTk5OTk5OTo0",
		"author=%00", "author=%ff%fe", "limit=100&cursor=abc&author=x", "a=%zz", "limit=1&limit=2", "cursor=MTotOTIyMzM3MjAzNjg1NDc3NTgwODow"} {
		f.Add(q)
	}
	reset(f)
	createBook(f, "t", "a", 2000)
	f.Fuzz(func(t *testing.T, q string) {
		u, err := url.Parse("/book?" + q)
		if err != nil || strings.ContainsAny(q, "# \x00\r\n") {
			t.Skip()
		}
		r := do(t, req{method: "GET", path: u.String()})
		if r.status >= 500 {
			t.Fatalf("GET /book?%s → %d %s", q, r.status, r.body)
		}
	})
}

func validHeader(v string) bool {
	for _, c := range []byte(v) {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
