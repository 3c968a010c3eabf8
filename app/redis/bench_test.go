package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/books-platform/books/app"
	"github.com/books-platform/books/app/internal/testenv"
	"github.com/books-platform/books/app/postgres"
	"github.com/books-platform/books/app/redis"
)

// The cost of keeping the cache coherent on the write path: an update
// through CachedBookService (mark, write, install: two scripts) against the
// previous design's update (write, then one DEL; oldUpdate below), each with
// an in-memory store (the cache's own work only) and with PostgreSQL (what
// a request pays); and a cached read. Compare the pairs of one run:
//
//	go test ./redis -run '^$' -bench . -benchmem

func benchService(b *testing.B, inner books.BookService) (*redis.CachedBookService, *books.Book) {
	rc := client(b, testenv.RedisURL())
	s := redis.NewCachedBookService(inner, rc, redis.Options{TTL: time.Minute, Logger: quiet})
	bk, err := s.CreateBook(context.Background(), books.BookInput{Title: "bench", Author: "a", Year: 2000}, "")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.FindBookByID(context.Background(), bk.ID); err != nil {
		b.Fatal(err)
	}
	return s, bk
}

func benchUpdate(b *testing.B, inner books.BookService) {
	s, bk := benchService(b, inner)
	ctx := context.Background()
	in := books.BookInput{Title: "bench", Author: "a", Year: 2001}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.UpdateBook(ctx, bk.ID, in, books.Precondition{}, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdateMemory(b *testing.B)   { benchUpdate(b, newMem()) }
func BenchmarkUpdatePostgres(b *testing.B) { benchUpdate(b, postgres.NewBookService(openDB(b))) }

// oldUpdate is the write path before versioned entries: update the store,
// then delete the cache key.
func benchOldUpdate(b *testing.B, inner books.BookService) {
	rc := client(b, testenv.RedisURL())
	ctx := context.Background()
	bk, err := inner.CreateBook(ctx, books.BookInput{Title: "bench", Author: "a", Year: 2000}, "")
	if err != nil {
		b.Fatal(err)
	}
	key := "books:v1:book:" + bk.ID
	in := books.BookInput{Title: "bench", Author: "a", Year: 2001}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := inner.UpdateBook(ctx, bk.ID, in, books.Precondition{}, ""); err != nil {
			b.Fatal(err)
		}
		if err := rc.Del(ctx, key).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOldUpdateMemory(b *testing.B)   { benchOldUpdate(b, newMem()) }
func BenchmarkOldUpdatePostgres(b *testing.B) { benchOldUpdate(b, postgres.NewBookService(openDB(b))) }

func BenchmarkFindCached(b *testing.B) {
	s, bk := benchService(b, newMem())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.FindBookByID(ctx, bk.ID); err != nil {
			b.Fatal(err)
		}
	}
}
