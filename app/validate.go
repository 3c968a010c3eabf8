package books

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Validation limits. Lengths count Unicode code points after trimming.
const (
	MaxTitleLen  = 500
	MaxAuthorLen = 200
	// MinYear and MaxYear bound the publication year. Negative years are
	// BCE (the Odyssey is about -700); the upper bound leaves room for
	// announced books.
	MinYear = -3000
	MaxYear = 2100
)

// Validate trims the text fields and checks every rule, returning an
// EINVALID *Error that names the first broken rule.
func (in *BookInput) Validate() error {
	var err error
	if in.Title, err = cleanText("title", in.Title, MaxTitleLen); err != nil {
		return err
	}
	if in.Author, err = cleanText("author", in.Author, MaxAuthorLen); err != nil {
		return err
	}
	if in.Year < MinYear || in.Year > MaxYear {
		return Errorf(EINVALID, "year must be between %d and %d", MinYear, MaxYear)
	}
	return nil
}

// cleanText trims s and checks it is non-blank, at most max code points,
// valid UTF-8 and free of control characters (PostgreSQL text cannot hold
// NUL, and nothing else in a title needs them).
func cleanText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Errorf(EINVALID, "%s must not be blank", field)
	}
	if !utf8.ValidString(s) {
		return "", Errorf(EINVALID, "%s must be valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", Errorf(EINVALID, "%s must be at most %d characters", field, max)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", Errorf(EINVALID, "%s must not contain control characters", field)
	}
	return s, nil
}

// CleanAuthorFilter validates the author query parameter of a list request.
// Empty means no filter.
func CleanAuthorFilter(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	return cleanText("author", s, MaxAuthorLen)
}

// ParseID returns the canonical (lower-case, hyphenated) form of a book id,
// and false when id is not a UUID in the canonical 36-character form.
func ParseID(id string) (string, bool) {
	if len(id) != 36 {
		return "", false
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
