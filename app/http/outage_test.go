package http_test

import (
	"testing"
	"time"

	bookshttp "github.com/books-platform/books/app/http"
	"github.com/books-platform/books/app/internal/testenv"
	"github.com/books-platform/books/app/postgres"
	"github.com/books-platform/books/app/redis"
)

// TestRedisOutage kills a private redis-server in the middle of the test:
// the API keeps answering 200 from PostgreSQL within a bounded latency,
// writes succeed, and reads see them.
func TestRedisOutage(t *testing.T) {
	reset(t)
	srv := testenv.StartRedis(t)
	rc, err := redis.NewClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	cached := redis.NewCachedBookService(postgres.NewBookService(testDB), rc, redis.Options{Timeout: 100 * time.Millisecond})
	base := startServer(t, bookshttp.Config{Books: cached, Ping: testDB.Ping, Username: testUser, Password: testPassword})

	b := createBook(t, "t", "a", 2000)
	path := "/book/" + b.ID
	wantStatus(t, do(t, req{base: base, method: "GET", path: path}), 200, "")
	wantStatus(t, do(t, req{base: base, method: "GET", path: path}), 200, "")
	if hits, _ := cached.Stats(); hits != 1 {
		t.Fatalf("cache hits before the outage = %d, want 1", hits)
	}

	srv.Stop()

	t.Run("ReadsStill200", func(t *testing.T) {
		for i := range 30 {
			start := time.Now()
			r := do(t, req{base: base, method: "GET", path: path})
			wantStatus(t, r, 200, "")
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Fatalf("read %d took %v with Redis down", i, d)
			}
		}
	})
	t.Run("WritesStillSucceed", func(t *testing.T) {
		r := do(t, req{base: base, method: "PUT", path: path, body: `{"title":"updated while Redis was down","author":"a","year":2000}`})
		wantStatus(t, r, 200, "")
		got := do(t, req{base: base, method: "GET", path: path})
		if got.book(t).Title != "updated while Redis was down" {
			t.Fatalf("read after write: %s", got.body)
		}
	})
	t.Run("ListAndReadyzUnaffected", func(t *testing.T) {
		wantStatus(t, do(t, req{base: base, method: "GET", path: "/book"}), 200, "")
		wantStatus(t, do(t, req{base: base, method: "GET", path: "/readyz"}), 200, "")
	})
}
