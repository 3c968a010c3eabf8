// Package books holds the domain of the books API: the Book type, the
// validation rules for client input, the BookService interface that the
// storage adapters implement, and the error codes every adapter speaks.
//
// Adapters live in sub-packages (postgres, redis, http); wiring lives in
// cmd/books. This package imports none of them.
package books

import (
	"context"
	"time"
)

// Book is a stored book.
type Book struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Author    string    `json:"author"`
	Year      int       `json:"year"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Version starts at 1 and grows by one on every update; it is the ETag.
	Version   int64  `json:"version"`
	CreatedBy string `json:"createdBy"`
	UpdatedBy string `json:"updatedBy"`
}

// BookInput is the client-supplied part of a book (POST and PUT bodies).
// Build one with ParseBookInput or validate it with Validate before use.
type BookInput struct {
	Title  string
	Author string
	Year   int
}

// Precondition is a parsed If-Match header.
// The zero value means "no precondition": the write is unconditional.
type Precondition struct {
	// Any is true for "If-Match: *" (the book must exist).
	Any bool
	// Versions lists the acceptable current versions; a non-nil empty slice
	// matches nothing (e.g. only weak or malformed tags were sent).
	Versions []int64
}

// Conditional reports whether the write depends on the current version.
func (p Precondition) Conditional() bool { return !p.Any && p.Versions != nil }

// Matches reports whether a book at version v satisfies the precondition.
func (p Precondition) Matches(v int64) bool {
	if !p.Conditional() {
		return true
	}
	for _, want := range p.Versions {
		if want == v {
			return true
		}
	}
	return false
}

// BookFilter selects a page of books, newest first.
type BookFilter struct {
	// Author, when not empty, keeps only books by exactly this author.
	Author string
	// Limit is the page size, MinLimit..MaxLimit.
	Limit int
	// After is the position to continue from (nil for the first page).
	After *Cursor
}

// Cursor is a position in the newest-first order (created_at DESC, id DESC).
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// Page is one page of books. Next is nil on the last page.
type Page struct {
	Books []*Book
	Next  *Cursor
}

// Page size bounds for BookFilter.Limit.
const (
	MinLimit     = 1
	MaxLimit     = 100
	DefaultLimit = 20
)

// BookService is the storage of books. Implementations: postgres.BookService
// (the source of truth) and redis.CachedBookService (a cache-aside decorator).
//
// Errors are *Error values with the codes below when the caller is at fault
// (ENOTFOUND, EPRECONDITION, EINVALID) or the service cannot be reached
// (EUNAVAILABLE); anything else is an internal error.
type BookService interface {
	FindBookByID(ctx context.Context, id string) (*Book, error)
	FindBooks(ctx context.Context, filter BookFilter) (*Page, error)
	// CreateBook stores a new book; by is the caller identity (may be empty).
	CreateBook(ctx context.Context, in BookInput, by string) (*Book, error)
	// UpdateBook replaces title, author and year when pre matches the
	// current version, and returns the new state.
	UpdateBook(ctx context.Context, id string, in BookInput, pre Precondition, by string) (*Book, error)
	// DeleteBook removes the book when pre matches the current version.
	DeleteBook(ctx context.Context, id string, pre Precondition) error
}

// BookJSONFinder is implemented by stores that keep a book's encoded form
// (the Redis cache): FindBookJSON returns exactly the JSON object the HTTP
// adapter would encode for FindBookByID's result (json.Marshal of the
// Book), and the book's version, without decoding and re-encoding it.
type BookJSONFinder interface {
	FindBookJSON(ctx context.Context, id string) (data []byte, version int64, err error)
}
