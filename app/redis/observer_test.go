package redis_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/books-platform/books/app"
	"github.com/books-platform/books/app/internal/testenv"
	"github.com/books-platform/books/app/redis"
)

// outcomes counts what the cache reports to its Observer.
type outcomes struct{ hits, misses, errors atomic.Int64 }

func (o *outcomes) CacheHit()   { o.hits.Add(1) }
func (o *outcomes) CacheMiss()  { o.misses.Add(1) }
func (o *outcomes) CacheError() { o.errors.Add(1) }

func (o *outcomes) get() [3]int64 { return [3]int64{o.hits.Load(), o.misses.Load(), o.errors.Load()} }

// TestObserverSeesEveryReadOnce: each FindBookByID reports exactly one
// outcome — a miss then hits while Redis works, a miss for a book that
// does not exist, errors while Redis is down (the failing call and every
// read skipped during the cooldown), hits again after it is back.
func TestObserverSeesEveryReadOnce(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t)
	mem := newMem()
	var o outcomes
	s := redis.NewCachedBookService(mem, client(t, srv.URL()), redis.Options{
		TTL: time.Minute, Timeout: 100 * time.Millisecond, Cooldown: time.Hour, Logger: quiet, Observer: &o,
	})
	b, _ := s.CreateBook(ctx, books.BookInput{Title: "t", Author: "a", Year: 2000}, "")
	for range 3 {
		if _, err := s.FindBookByID(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.FindBookByID(ctx, "0193c4a2-1f56-7d0e-9a3b-3c1d2e4f5a6b"); books.ErrorCode(err) != books.ENOTFOUND {
		t.Fatalf("missing book: %v", err)
	}
	if got := o.get(); got != [3]int64{2, 2, 0} {
		t.Fatalf("hits/misses/errors = %v, want [2 2 0]", got)
	}

	srv.Stop()
	for range 4 {
		if _, err := s.FindBookByID(ctx, b.ID); err != nil {
			t.Fatalf("read during the outage: %v", err)
		}
	}
	// The first read fails at Redis, the next three skip it (cooldown).
	if got := o.get(); got != [3]int64{2, 2, 4} {
		t.Fatalf("after the outage hits/misses/errors = %v, want [2 2 4]", got)
	}
}
