package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/books-platform/books/app"
)

// BookService implements books.BookService on PostgreSQL.
type BookService struct {
	db *DB
}

var _ books.BookService = (*BookService)(nil)

// NewBookService returns a BookService that uses db.
func NewBookService(db *DB) *BookService { return &BookService{db: db} }

const bookColumns = `id, title, author, year, created_at, updated_at, version, created_by, updated_by`

func scanBook(row pgx.Row) (*books.Book, error) {
	var b books.Book
	var id uuid.UUID
	if err := row.Scan(&id, &b.Title, &b.Author, &b.Year, &b.CreatedAt, &b.UpdatedAt, &b.Version, &b.CreatedBy, &b.UpdatedBy); err != nil {
		return nil, err
	}
	b.ID = id.String()
	b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	return &b, nil
}

func notFound() error { return books.Errorf(books.ENOTFOUND, "book not found") }

// FindBookByID returns the book or ENOTFOUND.
func (s *BookService) FindBookByID(ctx context.Context, id string) (*books.Book, error) {
	var b *books.Book
	err := s.db.run(ctx, true, func(q querier, _ bool) error {
		var err error
		b, err = scanBook(q.QueryRow(ctx, `SELECT `+bookColumns+` FROM books WHERE id = $1`, id))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound()
	}
	return b, domainError(err)
}

// FindBooks returns one page, newest first, using keyset pagination on
// (created_at, id): rows inserted while a client pages through sort before
// its cursor, so they never shift later pages (no duplicates, no gaps).
func (s *BookService) FindBooks(ctx context.Context, f books.BookFilter) (*books.Page, error) {
	if f.Limit < books.MinLimit || f.Limit > books.MaxLimit {
		return nil, books.Errorf(books.EINVALID, "limit must be between %d and %d", books.MinLimit, books.MaxLimit)
	}
	q := `SELECT ` + bookColumns + ` FROM books WHERE true`
	var args []any
	if f.Author != "" {
		args = append(args, f.Author)
		q += fmt.Sprintf(` AND author = $%d`, len(args))
	}
	if f.After != nil {
		args = append(args, f.After.CreatedAt, f.After.ID)
		q += fmt.Sprintf(` AND (created_at, id) < ($%d, $%d::uuid)`, len(args)-1, len(args))
	}
	args = append(args, f.Limit+1)
	q += fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args))

	var list []*books.Book
	err := s.db.run(ctx, true, func(db querier, _ bool) error {
		list = list[:0]
		rows, err := db.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			b, err := scanBook(rows)
			if err != nil {
				return err
			}
			list = append(list, b)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, domainError(err)
	}
	page := &books.Page{Books: list}
	if len(list) > f.Limit {
		page.Books = list[:f.Limit]
		last := page.Books[f.Limit-1]
		page.Next = &books.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if page.Books == nil {
		page.Books = []*books.Book{}
	}
	return page, nil
}

// CreateBook validates in and inserts a new book with a time-ordered UUIDv7 id.
func (s *BookService) CreateBook(ctx context.Context, in books.BookInput, by string) (*books.Book, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	var b *books.Book
	// Idempotent on retry: the id is this call's own, so a row with it is
	// the first attempt's, committed before its connection died.
	err = s.db.run(ctx, true, func(q querier, retry bool) error {
		var err error
		if retry {
			b, err = scanBook(q.QueryRow(ctx, `SELECT `+bookColumns+` FROM books WHERE id = $1`, id))
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		// One clock reading for both timestamps (two column defaults would
		// call clock_timestamp() twice and differ by a microsecond).
		b, err = scanBook(q.QueryRow(ctx,
			`WITH now AS (SELECT clock_timestamp() AS ts)
			 INSERT INTO books (id, title, author, year, created_by, updated_by, created_at, updated_at)
			 SELECT $1, $2, $3, $4, $5, $5, now.ts, now.ts FROM now
			 RETURNING `+bookColumns,
			id, in.Title, in.Author, in.Year, by))
		return err
	})
	return b, domainError(err)
}

// versions is the If-Match condition as a query argument: NULL for an
// unconditional write.
func versions(pre books.Precondition) []int64 {
	if !pre.Conditional() {
		return nil
	}
	if len(pre.Versions) == 0 {
		return []int64{}
	}
	return pre.Versions
}

// UpdateBook replaces the book when pre matches. The version check is in the
// UPDATE's WHERE clause, which PostgreSQL re-evaluates after waiting for a
// concurrent writer's row lock, so of several writers sending the same
// If-Match exactly one succeeds and the others get EPRECONDITION.
func (s *BookService) UpdateBook(ctx context.Context, id string, in books.BookInput, pre books.Precondition, by string) (*books.Book, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	// Idempotent on retry: the row records this call's write id, so a retry
	// first looks for it and returns that row instead of updating again.
	writeID, err := uuid.NewRandom()
	if err != nil {
		return nil, err
	}
	var b *books.Book
	err = s.db.run(ctx, true, func(q querier, retry bool) error {
		var err error
		if retry {
			b, err = scanBook(q.QueryRow(ctx, `SELECT `+bookColumns+` FROM books WHERE id = $1 AND write_id = $2`, id, writeID))
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		b, err = scanBook(q.QueryRow(ctx,
			`UPDATE books SET title = $2, author = $3, year = $4, updated_by = $5,
			        updated_at = clock_timestamp(), version = version + 1, write_id = $7
			  WHERE id = $1 AND ($6::bigint[] IS NULL OR version = ANY($6))
			  RETURNING `+bookColumns,
			id, in.Title, in.Author, in.Year, by, versions(pre), writeID))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, s.whyNoRow(ctx, id)
	}
	return b, domainError(err)
}

// DeleteBook removes the book when pre matches.
func (s *BookService) DeleteBook(ctx context.Context, id string, pre books.Precondition) error {
	var n int64
	retried := false
	err := s.db.run(ctx, true, func(q querier, retry bool) error {
		retried = retry
		tag, err := q.Exec(ctx,
			`DELETE FROM books WHERE id = $1 AND ($2::bigint[] IS NULL OR version = ANY($2))`,
			id, versions(pre))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return domainError(err)
	}
	if n == 0 {
		err := s.whyNoRow(ctx, id)
		// A retry after a lost connection that finds the book gone: the
		// first attempt deleted it (a row leaves no trace to tell; a book
		// deleted by someone else in that instant is equally gone).
		if retried && books.ErrorCode(err) == books.ENOTFOUND {
			return nil
		}
		return err
	}
	return nil
}

// whyNoRow tells apart a missing book from a failed precondition after a
// conditional write touched no row.
func (s *BookService) whyNoRow(ctx context.Context, id string) error {
	var exists bool
	err := s.db.run(ctx, true, func(q querier, _ bool) error {
		return q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM books WHERE id = $1)`, id).Scan(&exists)
	})
	switch {
	case err != nil:
		return domainError(err)
	case exists:
		return books.Errorf(books.EPRECONDITION, "the book has changed; fetch it again and retry with its current ETag")
	default:
		return notFound()
	}
}
