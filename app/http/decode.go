package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/books-platform/books/app"
)

// MaxBodyBytes is the largest request body accepted (413 above).
const MaxBodyBytes = 1 << 20

// bookBody is the POST/PUT body. Pointers tell a missing field from a zero
// value, so "year": 0 is "out of range" while a missing year is "required".
type bookBody struct {
	Title  *string `json:"title"`
	Author *string `json:"author"`
	Year   *int    `json:"year"`
}

// decodeBookInput reads and validates a book body. Every failure is a 4xx
// error: 415 for a non-JSON content type, 413 above MaxBodyBytes, 400 for
// anything malformed, unknown, mistyped, missing or out of range.
func decodeBookInput(w http.ResponseWriter, r *http.Request) (books.BookInput, error) {
	var in books.BookInput
	if err := checkJSONContentType(r.Header.Get("Content-Type")); err != nil {
		return in, err
	}
	if r.ContentLength > MaxBodyBytes {
		return in, tooLarge()
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return in, tooLarge()
		}
		return in, invalid("the body could not be read")
	}
	// encoding/json would silently turn invalid UTF-8 into U+FFFD.
	if !utf8.Valid(raw) {
		return in, invalid("the body must be UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var b bookBody
	if err := dec.Decode(&b); err != nil {
		return in, decodeError(err)
	}
	// Exactly one JSON value: anything after it but whitespace is an error.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return in, invalid("the body must be a single JSON object")
	}
	switch {
	case b.Title == nil:
		return in, invalid("title is required")
	case b.Author == nil:
		return in, invalid("author is required")
	case b.Year == nil:
		return in, invalid("year is required")
	}
	in = books.BookInput{Title: *b.Title, Author: *b.Author, Year: *b.Year}
	if err := in.Validate(); err != nil {
		return in, err
	}
	return in, nil
}

func invalid(msg string) error { return books.Errorf(books.EINVALID, "%s", msg) }

func tooLarge() error {
	return errorf(http.StatusRequestEntityTooLarge, "payload_too_large", "the body must be at most %d bytes", MaxBodyBytes)
}

// checkJSONContentType accepts application/json with an optional UTF-8
// charset parameter.
func checkJSONContentType(ct string) error {
	bad := errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json")
	if ct == "" {
		return bad
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return bad
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return bad
	}
	return nil
}

// decodeError turns a json.Decoder error into a caller-readable 400.
func decodeError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return invalid("the body is empty; send a JSON object")
	case errors.As(err, &se):
		return books.Errorf(books.EINVALID, "malformed JSON at byte %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("malformed JSON: the body ends too early")
	case errors.As(err, &te):
		if te.Field == "" {
			return invalid("the body must be a JSON object")
		}
		want := map[string]string{"title": "a string", "author": "a string", "year": "an integer"}[te.Field]
		if want == "" {
			want = "of another type"
		}
		return books.Errorf(books.EINVALID, "%s must be %s", printable(te.Field, 64), want)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return books.Errorf(books.EINVALID, "unknown field %q; allowed: title, author, year", printable(name, 64))
	default:
		return invalid("malformed JSON")
	}
}

// printable shortens s and drops control characters so an echoed field
// name stays readable.
func printable(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
