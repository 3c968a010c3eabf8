package http_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/books-platform/books/app"
	bookshttp "github.com/books-platform/books/app/http"
	"github.com/books-platform/books/app/internal/testenv"
	"github.com/books-platform/books/app/postgres"
	"github.com/books-platform/books/app/redis"
)

// Handler benchmarks: one request through the whole handler chain (access
// log as JSON, auth, routing, the service, encoding) against the real
// PostgreSQL and Redis, without the network, so allocs/op is the server's
// allocation per request. bench/bench.sh prints these next to wrk's table.
//
//	go test ./http -run '^$' -bench . -benchmem

// cacheMode is how a benchmark's service caches: not at all, Redis only,
// or the near tier in front of Redis (the app's default).
type cacheMode int

const (
	noCache cacheMode = iota
	redisOnly
	nearAndRedis
)

func benchHandler(b *testing.B, mode cacheMode) (http.Handler, *books.Book) {
	b.Helper()
	var svc books.BookService = postgres.NewBookService(testDB)
	if mode != noCache {
		rc, err := redis.NewClient(testenv.RedisURL())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { rc.Close() })
		opt := redis.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
		if mode == nearAndRedis {
			opt.NearEntries = redis.DefaultNearEntries
		}
		cs := redis.NewCachedBookService(svc, rc, opt)
		b.Cleanup(func() {
			hits, misses := cs.Stats()
			near, _ := cs.NearStats()
			b.Logf("cache hits %d (near tier %d), misses %d, errors %d", hits, near, misses, cs.Errors())
			cs.Close()
		})
		svc = cs
	}
	srv := bookshttp.NewServer(bookshttp.Config{Books: svc, Ping: testDB.Ping, Username: testUser, Password: testPassword,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	bk, err := svc.CreateBook(context.Background(), books.BookInput{Title: "The Benchmark Book", Author: "Bench Marker", Year: 2024}, "")
	if err != nil {
		b.Fatal(err)
	}
	return srv.Handler(), bk
}

func benchRequests(b *testing.B, h http.Handler, want int, newReq func() *http.Request) {
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newReq())
		if rec.Code != want {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

func authed(method, target, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.SetBasicAuth(testUser, testPassword)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

func BenchmarkGetBookCached(b *testing.B) {
	h, bk := benchHandler(b, nearAndRedis)
	benchRequests(b, h, 200, func() *http.Request { return authed("GET", "/book/"+bk.ID, "") })
}

func BenchmarkGetBookRedisOnly(b *testing.B) {
	h, bk := benchHandler(b, redisOnly)
	benchRequests(b, h, 200, func() *http.Request { return authed("GET", "/book/"+bk.ID, "") })
}

func BenchmarkGetBookUncached(b *testing.B) {
	h, bk := benchHandler(b, noCache)
	benchRequests(b, h, 200, func() *http.Request { return authed("GET", "/book/"+bk.ID, "") })
}

func BenchmarkListBooks20(b *testing.B) {
	h, _ := benchHandler(b, noCache)
	benchRequests(b, h, 200, func() *http.Request { return authed("GET", "/book?limit=20", "") })
}

func BenchmarkCreateBook(b *testing.B) {
	h, _ := benchHandler(b, nearAndRedis)
	benchRequests(b, h, 201, func() *http.Request {
		return authed("POST", "/book", `{"title":"Bench","author":"Bench Marker","year":2024}`)
	})
}
