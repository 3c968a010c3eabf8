package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/books-platform/books/app"
	bookshttp "github.com/books-platform/books/app/http"
	"github.com/books-platform/books/app/internal/testenv"
	"github.com/books-platform/books/app/postgres"
)

const missingID = "0193c4a2-1f56-7d0e-9a3b-3c1d2e4f5a6b"

func TestAuth(t *testing.T) {
	reset(t)
	b := createBook(t, "t", "a", 2000)
	routes := []req{
		{method: "GET", path: "/book"},
		{method: "POST", path: "/book", body: `{"title":"t","author":"a","year":2000}`},
		{method: "GET", path: "/book/" + b.ID},
		{method: "PUT", path: "/book/" + b.ID, body: `{"title":"t","author":"a","year":2000}`},
		{method: "DELETE", path: "/book/" + b.ID},
	}
	cases := []struct {
		name string
		mod  func(*req)
	}{
		{"NoCredentials", func(r *req) { r.noAuth = true }},
		{"WrongPassword", func(r *req) { r.user, r.password = testUser, "wrong" }},
		{"WrongUser", func(r *req) { r.user, r.password = "admin", testPassword }},
		{"PasswordPrefix", func(r *req) { r.user, r.password = testUser, testPassword[:5] }},
		{"NotBasicScheme", func(r *req) { r.noAuth = true; r.header = map[string]string{"Authorization": "Bearer " + testPassword} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, rq := range routes {
				c.mod(&rq)
				r := do(t, rq)
				wantStatus(t, r, 401, "unauthorized")
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic realm=") {
					t.Fatalf("%s %s: WWW-Authenticate = %q", rq.method, rq.path, got)
				}
			}
			if countBooks(t) != 1 {
				t.Fatal("an unauthorized request changed the data")
			}
			if got := do(t, req{method: "GET", path: "/book/" + b.ID}); got.status != 200 || got.book(t).Version != 1 {
				t.Fatalf("book changed by unauthorized requests: %d %s", got.status, got.body)
			}
		})
	}
	t.Run("HealthNeedsNoAuth", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz"} {
			wantStatus(t, do(t, req{method: "GET", path: p, noAuth: true}), 200, "")
		}
	})
}

func TestCreateBook(t *testing.T) {
	t.Run("Created", func(t *testing.T) {
		reset(t)
		r := do(t, req{method: "POST", path: "/book", body: `{"title":"The Go Programming Language","author":"Alan Donovan","year":2015}`,
			header: map[string]string{"X-User-Sub": "0c1d-sub"}})
		wantStatus(t, r, 201, "")
		b := r.book(t)
		if b.Title != "The Go Programming Language" || b.Author != "Alan Donovan" || b.Year != 2015 || b.Version != 1 ||
			b.CreatedBy != "0c1d-sub" || b.UpdatedBy != "0c1d-sub" || b.CreatedAt.IsZero() || !b.UpdatedAt.Equal(b.CreatedAt) {
			t.Fatalf("created %+v", b)
		}
		if loc := r.header.Get("Location"); loc != "/book/"+b.ID {
			t.Fatalf("Location = %q", loc)
		}
		if et := r.header.Get("ETag"); et != `"1"` {
			t.Fatalf("ETag = %q", et)
		}
		var raw map[string]any
		if err := json.Unmarshal(r.body, &raw); err != nil {
			t.Fatalf("create response is not a JSON object: %v: %s", err, r.body)
		}
		for _, k := range []string{"id", "title", "author", "year", "createdAt", "updatedAt", "version", "createdBy", "updatedBy"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("response lacks %q: %s", k, r.body)
			}
		}
		if len(raw) != 9 {
			t.Errorf("response has %d fields: %s", len(raw), r.body)
		}
		got := do(t, req{method: "GET", path: r.header.Get("Location")})
		wantStatus(t, got, 200, "")
		if *got.book(t) != *b {
			t.Fatalf("GET Location = %s", got.body)
		}
	})
	t.Run("TrimsText", func(t *testing.T) {
		reset(t)
		b := createBook(t, "  Dune ", "\tFrank Herbert ", 1965)
		if b.Title != "Dune" || b.Author != "Frank Herbert" {
			t.Fatalf("%+v", b)
		}
	})
	t.Run("CharsetParameter", func(t *testing.T) {
		reset(t)
		r := do(t, req{method: "POST", path: "/book", body: `{"title":"t","author":"a","year":1}`, header: map[string]string{"Content-Type": "application/json; charset=UTF-8"}})
		wantStatus(t, r, 201, "")
	})
	t.Run("BoundaryValues", func(t *testing.T) {
		reset(t)
		for _, body := range []string{
			fmt.Sprintf(`{"title":%q,"author":%q,"year":%d}`, strings.Repeat("é", books.MaxTitleLen), strings.Repeat("ß", books.MaxAuthorLen), books.MaxYear),
			fmt.Sprintf(`{"title":"t","author":"a","year":%d}`, books.MinYear),
			`{"year":-700,"author":"Homer","title":"Ὀδύσσεια"}`,
			`{"title":"t","author":"a","year":0}`,
		} {
			wantStatus(t, do(t, req{method: "POST", path: "/book", body: body}), 201, "")
		}
	})
	for _, c := range append(badBodies(), strictBodies()...) {
		t.Run(c.name, func(t *testing.T) {
			reset(t)
			r := do(t, req{method: "POST", path: "/book", body: c.body, header: c.header})
			wantStatus(t, r, c.status, c.code)
			if n := countBooks(t); n != 0 {
				t.Fatalf("a rejected request stored %d books", n)
			}
		})
	}
}

type badBody struct {
	name   string
	body   string
	header map[string]string
	status int
	code   string
}

// badBodies are POST/PUT bodies and headers that must be rejected with a 4xx.
func badBodies() []badBody {
	long := func(n int) string { return strings.Repeat("x", n) }
	return []badBody{
		{"MalformedJSON", `{"title":"t",`, nil, 400, "invalid"},
		{"SyntaxError", `{"title" "t"}`, nil, 400, "invalid"},
		{"EmptyBody", ``, map[string]string{"Content-Type": "application/json"}, 400, "invalid"},
		{"WhitespaceBody", `   `, nil, 400, "invalid"},
		{"UnknownField", `{"title":"t","author":"a","year":2000,"isbn":"x"}`, nil, 400, "invalid"},
		{"ServerFieldID", `{"id":"` + missingID + `","title":"t","author":"a","year":2000}`, nil, 400, "invalid"},
		{"ServerFieldVersion", `{"title":"t","author":"a","year":2000,"version":5}`, nil, 400, "invalid"},
		{"YearAsString", `{"title":"t","author":"a","year":"2000"}`, nil, 400, "invalid"},
		{"YearFractional", `{"title":"t","author":"a","year":2000.5}`, nil, 400, "invalid"},
		{"YearHuge", `{"title":"t","author":"a","year":1e400}`, nil, 400, "invalid"},
		{"YearOverflow", `{"title":"t","author":"a","year":99999999999999999999}`, nil, 400, "invalid"},
		{"TitleAsNumber", `{"title":5,"author":"a","year":2000}`, nil, 400, "invalid"},
		{"AuthorAsObject", `{"title":"t","author":{},"year":2000}`, nil, 400, "invalid"},
		{"TitleNull", `{"title":null,"author":"a","year":2000}`, nil, 400, "invalid"},
		{"ArrayBody", `[{"title":"t","author":"a","year":2000}]`, nil, 400, "invalid"},
		{"StringBody", `"book"`, nil, 400, "invalid"},
		{"NullBody", `null`, nil, 400, "invalid"},
		{"TrailingData", `{"title":"t","author":"a","year":2000}{}`, nil, 400, "invalid"},
		{"TrailingGarbage", `{"title":"t","author":"a","year":2000} x`, nil, 400, "invalid"},
		{"MissingTitle", `{"author":"a","year":2000}`, nil, 400, "invalid"},
		{"MissingAuthor", `{"title":"t","year":2000}`, nil, 400, "invalid"},
		{"MissingYear", `{"title":"t","author":"a"}`, nil, 400, "invalid"},
		{"BlankTitle", `{"title":"   ","author":"a","year":2000}`, nil, 400, "invalid"},
		{"EmptyAuthor", `{"title":"t","author":"","year":2000}`, nil, 400, "invalid"},
		{"TitleTooLong", fmt.Sprintf(`{"title":%q,"author":"a","year":2000}`, long(books.MaxTitleLen+1)), nil, 400, "invalid"},
		{"AuthorTooLong", fmt.Sprintf(`{"title":"t","author":%q,"year":2000}`, long(books.MaxAuthorLen+1)), nil, 400, "invalid"},
		{"YearTooLow", fmt.Sprintf(`{"title":"t","author":"a","year":%d}`, books.MinYear-1), nil, 400, "invalid"},
		{"YearTooHigh", fmt.Sprintf(`{"title":"t","author":"a","year":%d}`, books.MaxYear+1), nil, 400, "invalid"},
		{"YearWithDecimalPoint", `{"title":"t","author":"a","year":2000.0}`, nil, 400, "invalid"},
		{"YearExponent", `{"title":"t","author":"a","year":2e3}`, nil, 400, "invalid"},
		{"NULInTitle", `{"title":"a\u0000b","author":"a","year":2000}`, nil, 400, "invalid"},
		{"ControlCharInAuthor", `{"title":"t","author":"a\u001bb","year":2000}`, nil, 400, "invalid"},
		{"InvalidUTF8", "{\"title\":\"\xff\xfe\",\"author\":\"a\",\"year\":2000}", nil, 400, "invalid"},
		{"BodyTooLarge", `{"title":"` + long(bookshttp.MaxBodyBytes) + `","author":"a","year":2000}`, nil, 413, "payload_too_large"},
		{"BodyTooLargeWhitespace", `{"title":"t","author":"a","year":2000}` + strings.Repeat(" ", bookshttp.MaxBodyBytes), nil, 413, "payload_too_large"},
		{"TextPlain", `{"title":"t","author":"a","year":2000}`, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type"},
		{"FormEncoded", `title=t&author=a&year=2000`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"NoContentType", `{"title":"t","author":"a","year":2000}`, map[string]string{"Content-Type": ""}, 415, "unsupported_media_type"},
		{"Latin1Charset", `{"title":"t","author":"a","year":2000}`, map[string]string{"Content-Type": "application/json; charset=latin1"}, 415, "unsupported_media_type"},
		{"BadMediaType", `{"title":"t","author":"a","year":2000}`, map[string]string{"Content-Type": "application/json; ;;"}, 415, "unsupported_media_type"},
		{"BadUserSub", `{"title":"t","author":"a","year":2000}`, map[string]string{"X-User-Sub": long(300)}, 400, "invalid"},
	}
}

func TestGetBook(t *testing.T) {
	reset(t)
	b := createBook(t, "t", "a", 2000)
	t.Run("Found", func(t *testing.T) {
		r := do(t, req{method: "GET", path: "/book/" + b.ID})
		wantStatus(t, r, 200, "")
		if *r.book(t) != *b || r.header.Get("ETag") != `"1"` {
			t.Fatalf("%s ETag=%s", r.body, r.header.Get("ETag"))
		}
	})
	t.Run("UpperCaseID", func(t *testing.T) {
		r := do(t, req{method: "GET", path: "/book/" + strings.ToUpper(b.ID)})
		wantStatus(t, r, 200, "")
	})
	t.Run("IfNoneMatch", func(t *testing.T) {
		r := do(t, req{method: "GET", path: "/book/" + b.ID, header: map[string]string{"If-None-Match": `"1"`}})
		wantStatus(t, r, 304, "")
		r = do(t, req{method: "GET", path: "/book/" + b.ID, header: map[string]string{"If-None-Match": `"7"`}})
		wantStatus(t, r, 200, "")
	})
	t.Run("NotFound", func(t *testing.T) {
		wantStatus(t, do(t, req{method: "GET", path: "/book/" + missingID}), 404, "not_found")
	})
	for _, id := range []string{"123", "not-a-uuid", strings.ReplaceAll(missingID, "-", ""), "{" + missingID + "}", "urn:uuid:" + missingID, missingID + "0", "%00", url.PathEscape("ä-" + missingID[2:])} {
		t.Run("NonUUID_"+id, func(t *testing.T) {
			wantStatus(t, do(t, req{method: "GET", path: "/book/" + id}), 404, "not_found")
		})
	}
	t.Run("Head", func(t *testing.T) {
		wantStatus(t, do(t, req{method: "HEAD", path: "/book/" + b.ID}), 200, "")
	})
}

func TestUpdateBook(t *testing.T) {
	body := `{"title":"new title","author":"new author","year":2001}`
	t.Run("Replaced", func(t *testing.T) {
		reset(t)
		b := createBook(t, "t", "a", 2000)
		do(t, req{method: "GET", path: "/book/" + b.ID}) // fill the cache
		r := do(t, req{method: "PUT", path: "/book/" + b.ID, body: body, header: map[string]string{"X-User-Sub": "editor"}})
		wantStatus(t, r, 200, "")
		u := r.book(t)
		if u.Title != "new title" || u.Author != "new author" || u.Year != 2001 || u.Version != 2 || u.UpdatedBy != "editor" || u.CreatedBy != "" || r.header.Get("ETag") != `"2"` {
			t.Fatalf("%s ETag=%s", r.body, r.header.Get("ETag"))
		}
		// The cached copy was invalidated before the response.
		got := do(t, req{method: "GET", path: "/book/" + b.ID})
		if *got.book(t) != *u {
			t.Fatalf("GET after PUT = %s", got.body)
		}
	})
	t.Run("IfMatchCurrent", func(t *testing.T) {
		reset(t)
		b := createBook(t, "t", "a", 2000)
		wantStatus(t, do(t, req{method: "PUT", path: "/book/" + b.ID, body: body, header: map[string]string{"If-Match": `"1"`}}), 200, "")
		wantStatus(t, do(t, req{method: "PUT", path: "/book/" + b.ID, body: body, header: map[string]string{"If-Match": `"9", "2"`}}), 200, "")
		wantStatus(t, do(t, req{method: "PUT", path: "/book/" + b.ID, body: body, header: map[string]string{"If-Match": `*`}}), 200, "")
	})
	for _, im := range []string{`"2"`, `W/"1"`, `1`, `"abc"`, `""`} {
		t.Run("IfMatchStale_"+im, func(t *testing.T) {
			reset(t)
			b := createBook(t, "t", "a", 2000)
			do(t, req{method: "GET", path: "/book/" + b.ID})
			wantStatus(t, do(t, req{method: "PUT", path: "/book/" + b.ID, body: body, header: map[string]string{"If-Match": im}}), 412, "precondition_failed")
			if got := do(t, req{method: "GET", path: "/book/" + b.ID}).book(t); *got != *b {
				t.Fatalf("a failed PUT changed the book: %+v", got)
			}
		})
	}
	t.Run("NotFound", func(t *testing.T) {
		reset(t)
		wantStatus(t, do(t, req{method: "PUT", path: "/book/" + missingID, body: body}), 404, "not_found")
		wantStatus(t, do(t, req{method: "PUT", path: "/book/" + missingID, body: body, header: map[string]string{"If-Match": "*"}}), 404, "not_found")
		if countBooks(t) != 0 {
			t.Fatal("PUT created a book")
		}
	})
	t.Run("NonUUID", func(t *testing.T) {
		wantStatus(t, do(t, req{method: "PUT", path: "/book/42", body: body}), 404, "not_found")
	})
	for _, c := range badBodies() {
		t.Run(c.name, func(t *testing.T) {
			reset(t)
			b := createBook(t, "t", "a", 2000)
			wantStatus(t, do(t, req{method: "PUT", path: "/book/" + b.ID, body: c.body, header: c.header}), c.status, c.code)
			if got := do(t, req{method: "GET", path: "/book/" + b.ID}).book(t); *got != *b {
				t.Fatalf("a rejected PUT changed the book: %+v", got)
			}
		})
	}
	t.Run("ConcurrentSameIfMatch", func(t *testing.T) {
		reset(t)
		b := createBook(t, "t", "a", 2000)
		const n = 16
		statuses := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := do(t, req{method: "PUT", path: "/book/" + b.ID, body: fmt.Sprintf(`{"title":"writer %d","author":"a","year":2000}`, i), header: map[string]string{"If-Match": `"1"`}})
				statuses[i] = r.status
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, s := range statuses {
			switch s {
			case 200:
				wins++
			case 412:
			default:
				t.Errorf("status %d", s)
			}
		}
		if wins != 1 {
			t.Fatalf("%d PUTs won with the same If-Match, want exactly 1 (statuses %v)", wins, statuses)
		}
		if got := do(t, req{method: "GET", path: "/book/" + b.ID}).book(t); got.Version != 2 {
			t.Fatalf("version %d, want 2", got.Version)
		}
	})
}

func TestDeleteBook(t *testing.T) {
	t.Run("Deleted", func(t *testing.T) {
		reset(t)
		b := createBook(t, "t", "a", 2000)
		do(t, req{method: "GET", path: "/book/" + b.ID}) // fill the cache
		r := do(t, req{method: "DELETE", path: "/book/" + b.ID})
		wantStatus(t, r, 204, "")
		if len(r.body) != 0 {
			t.Fatalf("204 with a body: %q", r.body)
		}
		wantStatus(t, do(t, req{method: "GET", path: "/book/" + b.ID}), 404, "not_found")
		wantStatus(t, do(t, req{method: "DELETE", path: "/book/" + b.ID}), 404, "not_found")
	})
	t.Run("IfMatchCurrent", func(t *testing.T) {
		reset(t)
		b := createBook(t, "t", "a", 2000)
		wantStatus(t, do(t, req{method: "DELETE", path: "/book/" + b.ID, header: map[string]string{"If-Match": `"1"`}}), 204, "")
	})
	t.Run("IfMatchStale", func(t *testing.T) {
		reset(t)
		b := createBook(t, "t", "a", 2000)
		wantStatus(t, do(t, req{method: "DELETE", path: "/book/" + b.ID, header: map[string]string{"If-Match": `"2"`}}), 412, "precondition_failed")
		wantStatus(t, do(t, req{method: "GET", path: "/book/" + b.ID}), 200, "")
	})
	t.Run("NotFound", func(t *testing.T) {
		wantStatus(t, do(t, req{method: "DELETE", path: "/book/" + missingID}), 404, "not_found")
	})
	t.Run("NonUUID", func(t *testing.T) {
		wantStatus(t, do(t, req{method: "DELETE", path: "/book/x"}), 404, "not_found")
	})
}

type listBody struct {
	Items      []*books.Book `json:"items"`
	NextCursor *string       `json:"nextCursor"`
}

func list(t testing.TB, query string) (*response, *listBody) {
	t.Helper()
	r := do(t, req{method: "GET", path: "/book" + query})
	var l listBody
	if r.status == 200 {
		if err := json.Unmarshal(r.body, &l); err != nil {
			t.Fatal(err)
		}
	}
	return r, &l
}

func TestListBooks(t *testing.T) {
	t.Run("Empty", func(t *testing.T) {
		reset(t)
		r, _ := list(t, "")
		wantStatus(t, r, 200, "")
		if got := strings.TrimSpace(string(r.body)); got != `{"items":[],"nextCursor":null}` {
			t.Fatalf("empty list = %s", got)
		}
	})
	t.Run("DefaultLimitAndPages", func(t *testing.T) {
		reset(t)
		var created []*books.Book
		for i := range 25 {
			created = append(created, createBook(t, fmt.Sprintf("b%d", i), "a", 2000))
		}
		r, l := list(t, "")
		wantStatus(t, r, 200, "")
		if len(l.Items) != books.DefaultLimit || l.NextCursor == nil {
			t.Fatalf("page 1: %d items, next %v", len(l.Items), l.NextCursor)
		}
		if l.Items[0].ID != created[24].ID {
			t.Fatal("not newest first")
		}
		r, l2 := list(t, "?cursor="+url.QueryEscape(*l.NextCursor))
		wantStatus(t, r, 200, "")
		if len(l2.Items) != 5 || l2.NextCursor != nil || l2.Items[4].ID != created[0].ID {
			t.Fatalf("page 2: %d items, next %v", len(l2.Items), l2.NextCursor)
		}
		_, l3 := list(t, "?limit=100")
		if len(l3.Items) != 25 {
			t.Fatalf("limit=100: %d items", len(l3.Items))
		}
		_, l4 := list(t, "?limit=1")
		if len(l4.Items) != 1 || l4.NextCursor == nil {
			t.Fatalf("limit=1: %d items", len(l4.Items))
		}
	})
	t.Run("AuthorFilter", func(t *testing.T) {
		reset(t)
		createBook(t, "one", "Ursula K. Le Guin", 1969)
		createBook(t, "two", "Someone Else", 1970)
		createBook(t, "three", "Ursula K. Le Guin", 1974)
		_, l := list(t, "?author="+url.QueryEscape("Ursula K. Le Guin"))
		if len(l.Items) != 2 || l.Items[0].Title != "three" || l.Items[1].Title != "one" {
			t.Fatalf("filtered list: %+v", l.Items)
		}
		_, l = list(t, "?author=Nobody")
		if len(l.Items) != 0 {
			t.Fatalf("unknown author: %d items", len(l.Items))
		}
		_, l = list(t, "?author=%20")
		if len(l.Items) != 3 {
			t.Fatalf("blank author must not filter: %d items", len(l.Items))
		}
	})
	for _, q := range []string{"?limit=0", "?limit=101", "?limit=-1", "?limit=abc", "?limit=1.5", "?limit=99999999999999999999",
		"?cursor=abc", "?cursor=" + strings.Repeat("A", 300), "?cursor=MTpub3Q6YQ", "?author=a%00b", "?author=" + strings.Repeat("x", books.MaxAuthorLen+1), "?author=%ff"} {
		t.Run("Invalid_"+q, func(t *testing.T) {
			r, _ := list(t, q)
			wantStatus(t, r, 400, "invalid")
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	cases := []struct{ method, path, allow string }{
		{"PATCH", "/book", "GET, POST, HEAD"},
		{"DELETE", "/book", "GET, POST, HEAD"},
		{"PUT", "/book", "GET, POST, HEAD"},
		{"POST", "/book/" + missingID, "GET, PUT, DELETE, HEAD"},
		{"PATCH", "/book/" + missingID, "GET, PUT, DELETE, HEAD"},
		{"POST", "/healthz", "GET, HEAD"},
		{"DELETE", "/readyz", "GET, HEAD"},
		{"OPTIONS", "/book", "GET, POST, HEAD"},
	}
	for _, c := range cases {
		t.Run(c.method+"_"+c.path, func(t *testing.T) {
			r := do(t, req{method: c.method, path: c.path})
			wantStatus(t, r, 405, "method_not_allowed")
			if got := r.header.Get("Allow"); got != c.allow {
				t.Fatalf("Allow = %q, want %q", got, c.allow)
			}
		})
	}
}

func TestUnknownPath(t *testing.T) {
	for _, p := range []string{"/", "/books", "/book/", "/book/" + missingID + "/x", "/healthz/x"} {
		t.Run(p, func(t *testing.T) {
			wantStatus(t, do(t, req{method: "GET", path: p}), 404, "not_found")
		})
	}
}

func TestHealth(t *testing.T) {
	t.Run("Healthz", func(t *testing.T) {
		r := do(t, req{method: "GET", path: "/healthz", noAuth: true})
		wantStatus(t, r, 200, "")
	})
	t.Run("ReadyzDatabaseUp", func(t *testing.T) {
		wantStatus(t, do(t, req{method: "GET", path: "/readyz", noAuth: true}), 200, "")
	})
	t.Run("ReadyzDatabaseDown", func(t *testing.T) {
		base := startServer(t, bookshttp.Config{Books: testSvc, Username: "u", Password: "p",
			Ping: func(context.Context) error { return errors.New("down") }})
		wantStatus(t, do(t, req{base: base, method: "GET", path: "/readyz", noAuth: true}), 503, "unavailable")
		wantStatus(t, do(t, req{base: base, method: "GET", path: "/healthz", noAuth: true}), 200, "")
	})
}

// TestDatabaseDown: a database that cannot be reached gives 503, never 500.
func TestDatabaseDown(t *testing.T) {
	db, err := postgres.Open(context.Background(), postgres.Config{URL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/x?sslmode=disable&connect_timeout=1", testenv.FreePort(t))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := startServer(t, bookshttp.Config{Books: postgres.NewBookService(db), Ping: db.Ping, Username: testUser, Password: testPassword})
	for _, rq := range []req{
		{method: "GET", path: "/book"},
		{method: "POST", path: "/book", body: `{"title":"t","author":"a","year":2000}`},
		{method: "GET", path: "/book/" + missingID},
		{method: "PUT", path: "/book/" + missingID, body: `{"title":"t","author":"a","year":2000}`},
		{method: "DELETE", path: "/book/" + missingID},
		{method: "GET", path: "/readyz"},
	} {
		t.Run(rq.method+"_"+rq.path, func(t *testing.T) {
			rq.base = base
			r := do(t, rq)
			wantStatus(t, r, 503, "unavailable")
		})
	}
}

func TestRequestIDAndAccessLog(t *testing.T) {
	reset(t)
	t.Run("EchoesIncomingID", func(t *testing.T) {
		r := do(t, req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "req-abc-123"}})
		if got := r.header.Get("X-Request-Id"); got != "req-abc-123" {
			t.Fatalf("X-Request-Id = %q", got)
		}
	})
	t.Run("GatewayHeader", func(t *testing.T) {
		r := do(t, req{method: "GET", path: "/healthz", header: map[string]string{"X-Amzn-Request-Id": "gw-42"}})
		if got := r.header.Get("X-Request-Id"); got != "gw-42" {
			t.Fatalf("X-Request-Id = %q", got)
		}
	})
	t.Run("GeneratesWhenMissingOrInvalid", func(t *testing.T) {
		for _, h := range []string{"", "bad id with spaces", strings.Repeat("x", 200)} {
			r := do(t, req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": h}})
			if got := r.header.Get("X-Request-Id"); len(got) != 32 {
				t.Fatalf("for %q: X-Request-Id = %q", h, got)
			}
		}
	})
	t.Run("OneLinePerRequestWithoutSecrets", func(t *testing.T) {
		secretTitle := "secret-title-" + fmt.Sprint(time.Now().UnixNano())
		id := "log-test-" + fmt.Sprint(time.Now().UnixNano())
		r := do(t, req{method: "POST", path: "/book", body: fmt.Sprintf(`{"title":%q,"author":"a","year":2000}`, secretTitle),
			header: map[string]string{"X-Request-Id": id, "X-User-Sub": "sub-in-log?"}})
		wantStatus(t, r, 201, "")
		do(t, req{method: "GET", path: "/book/" + r.book(t).ID + "?x=querysecret", header: map[string]string{"X-Request-Id": id}})
		var lines []map[string]any
		for _, line := range strings.Split(logs.String(), "\n") {
			if !strings.Contains(line, id) {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("log line is not JSON: %s", line)
			}
			lines = append(lines, m)
		}
		if len(lines) != 2 {
			t.Fatalf("%d log lines for 2 requests", len(lines))
		}
		want := []map[string]any{
			{"msg": "request", "method": "POST", "route": "POST /book", "status": float64(201), "request_id": id},
			{"msg": "request", "method": "GET", "route": "GET /book/{bookId}", "status": float64(200), "request_id": id},
		}
		for i, w := range want {
			for k, v := range w {
				if lines[i][k] != v {
					t.Errorf("line %d: %s = %v, want %v", i, k, lines[i][k], v)
				}
			}
			if _, ok := lines[i]["duration_ms"]; !ok {
				t.Errorf("line %d has no duration_ms", i)
			}
		}
		all := logs.String()
		for _, secret := range []string{testPassword, secretTitle, "querysecret", "sub-in-log", "Basic "} {
			if strings.Contains(all, secret) {
				t.Errorf("the log contains %q", secret)
			}
		}
	})
}

// TestLargeResponsesAreNotChunked: a page of books is past net/http's 2 KB
// response buffer; it is sent with its Content-Length, not chunked.
func TestLargeResponsesAreNotChunked(t *testing.T) {
	reset(t)
	for i := range 20 {
		createBook(t, fmt.Sprintf("%03d %s", i, strings.Repeat("a long title ", 20)), "Author", 2000)
	}
	hr, err := http.NewRequest("GET", baseURL+"/book?limit=20", nil)
	if err != nil {
		t.Fatal(err)
	}
	hr.SetBasicAuth(testUser, testPassword)
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) < 4096 {
		t.Fatalf("body is %d bytes; the test needs one past net/http's buffers", len(body))
	}
	if len(resp.TransferEncoding) != 0 || resp.ContentLength != int64(len(body)) {
		t.Errorf("Transfer-Encoding %v, Content-Length %d for a %d-byte body; want no chunking and the exact length",
			resp.TransferEncoding, resp.ContentLength, len(body))
	}
}
