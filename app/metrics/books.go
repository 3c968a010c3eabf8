package metrics

import (
	"context"

	"github.com/books-platform/books/app"
)

// BookService counts the writes of the service it wraps: books created,
// updated and deleted, and writes refused with EPRECONDITION (the HTTP
// layer's 412). Reads pass through untouched.
type BookService struct {
	books.BookService
	rec *Recorder
}

var _ books.BookService = (*BookService)(nil)

// JSONFinder returns the wrapped service's BookJSONFinder (nil when it has
// none): reads pass through untouched, so the HTTP adapter may use it.
func (s *BookService) JSONFinder() books.BookJSONFinder {
	f, _ := s.BookService.(books.BookJSONFinder)
	return f
}

// CountWrites wraps inner so rec counts its writes.
func CountWrites(inner books.BookService, rec *Recorder) *BookService {
	return &BookService{BookService: inner, rec: rec}
}

func (s *BookService) CreateBook(ctx context.Context, in books.BookInput, by string) (*books.Book, error) {
	b, err := s.BookService.CreateBook(ctx, in, by)
	if err == nil {
		s.rec.BookCreated()
	}
	return b, err
}

func (s *BookService) UpdateBook(ctx context.Context, id string, in books.BookInput, pre books.Precondition, by string) (*books.Book, error) {
	b, err := s.BookService.UpdateBook(ctx, id, in, pre, by)
	s.count(err, s.rec.BookUpdated)
	return b, err
}

func (s *BookService) DeleteBook(ctx context.Context, id string, pre books.Precondition) error {
	err := s.BookService.DeleteBook(ctx, id, pre)
	s.count(err, s.rec.BookDeleted)
	return err
}

func (s *BookService) count(err error, success func()) {
	switch {
	case err == nil:
		success()
	case books.ErrorCode(err) == books.EPRECONDITION:
		s.rec.WriteConflict()
	}
}
