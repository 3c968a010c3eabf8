package http

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/books-platform/books/app"
)

// bookList is the GET /book response.
type bookList struct {
	Items []*books.Book `json:"items"`
	// NextCursor is null on the last page.
	NextCursor *string `json:"nextCursor"`
}

func (s *Server) handleListBooks(w http.ResponseWriter, r *http.Request) error {
	f, err := parseListQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	page, err := s.books.FindBooks(r.Context(), f)
	if err != nil {
		return err
	}
	out := bookList{Items: page.Books}
	if page.Next != nil {
		c := page.Next.String()
		out.NextCursor = &c
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleCreateBook(w http.ResponseWriter, r *http.Request) error {
	by, err := callerSub(r)
	if err != nil {
		return err
	}
	in, err := decodeBookInput(w, r)
	if err != nil {
		return err
	}
	b, err := s.books.CreateBook(r.Context(), in, by)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/book/"+b.ID)
	writeBook(w, http.StatusCreated, b)
	return nil
}

func (s *Server) handleGetBook(w http.ResponseWriter, r *http.Request) error {
	id, err := bookID(r)
	if err != nil {
		return err
	}
	if s.booksJSON != nil {
		// The cache hands over the stored JSON: no decode and re-encode.
		data, version, err := s.booksJSON.FindBookJSON(r.Context(), id)
		if err != nil {
			return err
		}
		if !s.notModified(w, r, version) {
			w.Header().Set("ETag", etag(version))
			writeJSONBytes(w, http.StatusOK, data)
		}
		return nil
	}
	b, err := s.books.FindBookByID(r.Context(), id)
	if err != nil {
		return err
	}
	if !s.notModified(w, r, b.Version) {
		writeBook(w, http.StatusOK, b)
	}
	return nil
}

// notModified answers 304 when If-None-Match matches version.
func (s *Server) notModified(w http.ResponseWriter, r *http.Request, version int64) bool {
	if inm := r.Header.Get("If-None-Match"); inm == "" || !noneMatch(inm, version) {
		return false
	}
	w.Header().Set("ETag", etag(version))
	w.WriteHeader(http.StatusNotModified)
	return true
}

func (s *Server) handleUpdateBook(w http.ResponseWriter, r *http.Request) error {
	id, err := bookID(r)
	if err != nil {
		return err
	}
	by, err := callerSub(r)
	if err != nil {
		return err
	}
	in, err := decodeBookInput(w, r)
	if err != nil {
		return err
	}
	b, err := s.books.UpdateBook(r.Context(), id, in, ifMatch(r), by)
	if err != nil {
		return err
	}
	writeBook(w, http.StatusOK, b)
	return nil
}

func (s *Server) handleDeleteBook(w http.ResponseWriter, r *http.Request) error {
	id, err := bookID(r)
	if err != nil {
		return err
	}
	if err := s.books.DeleteBook(r.Context(), id, ifMatch(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleHealthz is liveness: the process serves HTTP. It checks no
// dependency, so a database outage does not make ECS kill healthy tasks.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// handleReadyz is readiness: the database answers, and the server is not
// shutting down.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	if s.draining.Load() {
		return errorf(http.StatusServiceUnavailable, "unavailable", "shutting down")
	}
	if s.ping != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.ping(ctx); err != nil {
			return errorf(http.StatusServiceUnavailable, "unavailable", "the database is unavailable")
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func writeBook(w http.ResponseWriter, status int, b *books.Book) {
	w.Header().Set("ETag", etag(b.Version))
	writeJSON(w, status, b)
}

// bookID returns the canonical id from the path; a non-UUID is a 404 (no
// such book can exist), not a 400.
func bookID(r *http.Request) (string, error) {
	id, ok := books.ParseID(r.PathValue("bookId"))
	if !ok {
		return "", books.Errorf(books.ENOTFOUND, "book not found")
	}
	return id, nil
}

// callerSub returns the caller identity the API gateway forwards (the
// Cognito sub), or "" when absent.
func callerSub(r *http.Request) (string, error) {
	sub := strings.TrimSpace(r.Header.Get("X-User-Sub"))
	if len(sub) > 256 || strings.IndexFunc(sub, func(c rune) bool { return unicode.IsControl(c) || c == unicode.ReplacementChar }) >= 0 {
		return "", books.Errorf(books.EINVALID, "X-User-Sub header is not valid")
	}
	return sub, nil
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// parseETags parses an If-Match / If-None-Match value into the versions it
// names. Weak tags (W/"…") are returned with weak set; an entry that is not
// an entity tag is skipped. A tag names version n only when its opaque part
// is exactly etag(n)'s ("04" and "+4" are other tags, RFC 9110 8.8.3.2).
func parseETags(v string) (star bool, strong, weak []int64) {
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "*" {
			star = true
			continue
		}
		isWeak := strings.HasPrefix(part, "W/")
		part = strings.TrimPrefix(part, "W/")
		if len(part) < 2 || part[0] != '"' || part[len(part)-1] != '"' {
			continue
		}
		n, err := strconv.ParseInt(part[1:len(part)-1], 10, 64)
		if err != nil || etag(n) != part {
			continue
		}
		if isWeak {
			weak = append(weak, n)
		} else {
			strong = append(strong, n)
		}
	}
	return star, strong, weak
}

// ifMatch turns If-Match into a precondition. If-Match uses the strong
// comparison (RFC 9110 13.1.1), so weak tags match nothing; a header with no
// usable tag matches nothing and the write fails with 412.
func ifMatch(r *http.Request) books.Precondition {
	vals := r.Header.Values("If-Match")
	if len(vals) == 0 {
		return books.Precondition{}
	}
	star, strong, _ := parseETags(strings.Join(vals, ","))
	if star {
		return books.Precondition{Any: true}
	}
	if strong == nil {
		strong = []int64{}
	}
	return books.Precondition{Versions: strong}
}

// noneMatch reports whether If-None-Match matches version (weak comparison).
func noneMatch(v string, version int64) bool {
	star, strong, weak := parseETags(v)
	if star {
		return true
	}
	for _, n := range append(strong, weak...) {
		if n == version {
			return true
		}
	}
	return false
}
