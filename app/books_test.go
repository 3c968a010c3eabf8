package books_test

import (
	"strings"
	"testing"
	"time"

	"github.com/books-platform/books/app"
)

func TestBookInputValidate(t *testing.T) {
	ok := []books.BookInput{
		{Title: "Dune", Author: "Frank Herbert", Year: 1965},
		{Title: strings.Repeat("é", books.MaxTitleLen), Author: strings.Repeat("a", books.MaxAuthorLen), Year: books.MaxYear},
		{Title: " padded ", Author: "a", Year: books.MinYear},
	}
	for _, in := range ok {
		if err := in.Validate(); err != nil {
			t.Errorf("%+v: %v", in, err)
		}
	}
	bad := map[string]books.BookInput{
		"BlankTitle":    {Title: " \t", Author: "a", Year: 1},
		"BlankAuthor":   {Title: "t", Author: "", Year: 1},
		"LongTitle":     {Title: strings.Repeat("x", books.MaxTitleLen+1), Author: "a", Year: 1},
		"LongAuthor":    {Title: "t", Author: strings.Repeat("x", books.MaxAuthorLen+1), Year: 1},
		"YearLow":       {Title: "t", Author: "a", Year: books.MinYear - 1},
		"YearHigh":      {Title: "t", Author: "a", Year: books.MaxYear + 1},
		"NUL":           {Title: "a\x00", Author: "a", Year: 1},
		"Newline":       {Title: "a\nb", Author: "a", Year: 1},
		"InvalidUTF8":   {Title: "a\xff", Author: "a", Year: 1},
		"C1ControlChar": {Title: "t", Author: "a\u0085b", Year: 1},
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			if err := in.Validate(); books.ErrorCode(err) != books.EINVALID {
				t.Fatalf("got %v, want EINVALID", err)
			}
		})
	}
	t.Run("Trims", func(t *testing.T) {
		in := books.BookInput{Title: "  x ", Author: "\ty\n", Year: 1}
		if err := in.Validate(); err != nil || in.Title != "x" || in.Author != "y" {
			t.Fatalf("%v %+v", err, in)
		}
	})
}

func TestParseID(t *testing.T) {
	const id = "0193c4a2-1f56-7d0e-9a3b-3c1d2e4f5a6b"
	if got, ok := books.ParseID(strings.ToUpper(id)); !ok || got != id {
		t.Fatalf("upper case: %q %v", got, ok)
	}
	for _, s := range []string{"", "x", strings.ReplaceAll(id, "-", ""), "{" + id + "}", "urn:uuid:" + id, id[:35] + "g"} {
		if _, ok := books.ParseID(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestCursor(t *testing.T) {
	c := &books.Cursor{CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC), ID: "0193c4a2-1f56-7d0e-9a3b-3c1d2e4f5a6b"}
	got, err := books.ParseCursor(c.String())
	if err != nil || !got.CreatedAt.Equal(c.CreatedAt) || got.ID != c.ID {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	for _, s := range []string{"", "!!", "MTp4Onk", c.String() + "x", strings.Repeat("A", 200)} {
		if _, err := books.ParseCursor(s); books.ErrorCode(err) != books.EINVALID {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func TestPrecondition(t *testing.T) {
	if !(books.Precondition{}).Matches(5) || !(books.Precondition{Any: true}).Matches(5) {
		t.Fatal("unconditional must match")
	}
	if (books.Precondition{Versions: []int64{}}).Matches(1) {
		t.Fatal("empty version list must match nothing")
	}
	if !(books.Precondition{Versions: []int64{3, 5}}).Matches(5) || (books.Precondition{Versions: []int64{3}}).Matches(5) {
		t.Fatal("version list")
	}
}
