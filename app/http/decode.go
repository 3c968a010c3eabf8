package http

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/books-platform/books/app"
)

// MaxBodyBytes is the largest request body accepted (413 above).
const MaxBodyBytes = 1 << 20

// bookBody is the POST/PUT body as raw JSON values, so a missing member
// (nil) is told apart from an explicit null and each member's type error
// names it.
type bookBody struct {
	Title  jsontext.Value `json:"title"`
	Author jsontext.Value `json:"author"`
	Year   jsontext.Value `json:"year"`
}

// decodeBookInput reads and validates a book body. Every failure is a 4xx
// error: 415 for a non-JSON content type, 413 above MaxBodyBytes, 400 for
// anything malformed, unknown, mistyped, missing or out of range.
func decodeBookInput(w http.ResponseWriter, r *http.Request) (books.BookInput, error) {
	if err := checkJSONContentType(r.Header.Get("Content-Type")); err != nil {
		return books.BookInput{}, err
	}
	if r.ContentLength > MaxBodyBytes {
		return books.BookInput{}, tooLarge()
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return books.BookInput{}, tooLarge()
		}
		return books.BookInput{}, invalid("the body could not be read")
	}
	return parseBookInput(raw)
}

// parseBookInput accepts exactly the bodies openapi.yaml's BookInput allows
// (and the rules its descriptions add). The JSON v2 decoder (the mirror of
// Go 1.27's encoding/json/v2) does the syntax: member names match exactly
// (encoding/json v1 matches "TITLE" to title), a duplicate name is an error
// (v1: last wins), invalid UTF-8 and unpaired surrogate escapes ("\ud800")
// are errors (v1: U+FFFD), one value only. maxLength is checked on the value
// as sent, before trimming, as JSON Schema does.
func parseBookInput(raw []byte) (books.BookInput, error) {
	var in books.BookInput
	if v := bytes.TrimLeft(raw, " \t\r\n"); len(v) == 0 {
		return in, invalid("the body is empty; send a JSON object")
	} else if v[0] != '{' {
		return in, invalid("the body must be a JSON object")
	}
	var b bookBody
	if err := json.Unmarshal(raw, &b, json.RejectUnknownMembers(true)); err != nil {
		return in, decodeError(err)
	}
	var err error
	if in.Title, err = stringMember("title", b.Title, books.MaxTitleLen); err != nil {
		return in, err
	}
	if in.Author, err = stringMember("author", b.Author, books.MaxAuthorLen); err != nil {
		return in, err
	}
	if in.Year, err = yearMember(b.Year); err != nil {
		return in, err
	}
	if err := in.Validate(); err != nil {
		return in, err
	}
	return in, nil
}

// stringMember decodes a required string member and applies the schema's
// maxLength (code points) to the value as sent.
func stringMember(name string, v jsontext.Value, maxLen int) (string, error) {
	if v == nil {
		return "", books.Errorf(books.EINVALID, "%s is required", name)
	}
	var s string
	if v.Kind() != '"' || json.Unmarshal(v, &s) != nil {
		return "", books.Errorf(books.EINVALID, "%s must be a string", name)
	}
	if utf8.RuneCountInString(s) > maxLen {
		return "", books.Errorf(books.EINVALID, "%s must be at most %d characters", name, maxLen)
	}
	return s, nil
}

// yearMember decodes the required integer year: digits with an optional
// minus sign (no fraction, no exponent), as the schema's type integer.
func yearMember(v jsontext.Value) (int, error) {
	if v == nil {
		return 0, invalid("year is required")
	}
	var n int
	if v.Kind() != '0' || json.Unmarshal(v, &n) != nil {
		return 0, books.Errorf(books.EINVALID, "year must be an integer between %d and %d", books.MinYear, books.MaxYear)
	}
	return n, nil
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

// decodeError turns a JSON v2 decoding error into a caller-readable 400.
func decodeError(err error) error {
	var synErr *jsontext.SyntacticError
	var semErr *json.SemanticError
	switch {
	case errors.As(err, &synErr) && errors.Is(synErr.Err, jsontext.ErrDuplicateName):
		return books.Errorf(books.EINVALID, "duplicate field %q", printable(memberName(synErr.JSONPointer), 64))
	case errors.As(err, &semErr) && errors.Is(semErr.Err, json.ErrUnknownName):
		return books.Errorf(books.EINVALID, "unknown field %q; allowed: title, author, year", printable(memberName(semErr.JSONPointer), 64))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("malformed JSON: the body ends too early")
	case errors.As(err, &synErr):
		where := ""
		if name := memberName(synErr.JSONPointer); name != "" {
			where = " in " + printable(name, 64)
		}
		return books.Errorf(books.EINVALID, "malformed JSON at byte %d%s (JSON text must be UTF-8 with paired surrogate escapes)", synErr.ByteOffset, where)
	default:
		return invalid("malformed JSON")
	}
}

// memberName is the first member name of a JSON pointer ("/title" → title).
func memberName(p jsontext.Pointer) string {
	for name := range p.Tokens() {
		return name
	}
	return ""
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
