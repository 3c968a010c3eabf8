package http

import (
	"net/url"
	"strconv"

	"github.com/books-platform/books/app"
)

// listParams are the query parameters of GET /book. Others are ignored, as
// OpenAPI allows; each of these may appear at most once.
var listParams = []string{"limit", "cursor", "author"}

// parseListQuery parses the raw query of GET /book with every error
// checked: a malformed query string (bad %-escape, ';' separator), a
// parameter given twice, a limit that is not a canonical decimal integer in
// range, or a bad cursor or author is a 400, never the default page.
func parseListQuery(raw string) (books.BookFilter, error) {
	f := books.BookFilter{Limit: books.DefaultLimit}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return f, books.Errorf(books.EINVALID, "the query string is malformed: separate parameters with & and escape %% as %%25")
	}
	for _, name := range listParams {
		if len(q[name]) > 1 {
			return f, books.Errorf(books.EINVALID, "%s must be given at most once", name)
		}
	}
	if vs, ok := q["limit"]; ok {
		n, ok := canonicalInt(vs[0])
		if !ok || n < books.MinLimit || n > books.MaxLimit {
			return f, books.Errorf(books.EINVALID, "limit must be an integer between %d and %d (digits only)", books.MinLimit, books.MaxLimit)
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		c, err := books.ParseCursor(v)
		if err != nil {
			return f, err
		}
		f.After = c
	}
	f.Author, err = books.CleanAuthorFilter(q.Get("author"))
	return f, err
}

// canonicalInt parses a decimal integer written the one way strconv
// writes it: strconv.Atoi alone also takes "+5" and "05".
func canonicalInt(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && strconv.Itoa(n) == s
}
