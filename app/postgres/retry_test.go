package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/books-platform/books/app"
	"github.com/books-platform/books/app/internal/testenv"
	"github.com/books-platform/books/app/postgres"
)

// TestTerminatedConnectionsCostNoErrors kills the pool's backends
// (pg_terminate_backend, as a failover or an idle-connection reaper does)
// again and again while workers create, read, list, update and delete
// books: no operation fails, and none is applied twice (versions grow by
// exactly one per update, every created book exists once, deleted books
// are gone).
func TestTerminatedConnectionsCostNoErrors(t *testing.T) {
	name := fmt.Sprintf("books_test_pgkill_%d", os.Getpid())
	url, err := testenv.CreateDatabase(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testenv.DropDatabase(name) })
	ctx := context.Background()
	const app = "books_kill_target"
	db, err := postgres.Open(ctx, postgres.Config{URL: url + "&application_name=" + app, MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := postgres.Migrate(ctx, db, quiet); err != nil {
		t.Fatal(err)
	}
	svc := postgres.NewBookService(db)

	admin, err := pgx.Connect(ctx, testenv.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)

	var stop atomic.Bool
	var ops, killed, rounds atomic.Int64
	var errMu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		errMu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		errMu.Unlock()
	}
	var created sync.Map // id → true when it must exist at the end
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := books.BookInput{Title: fmt.Sprintf("w%d", w), Author: fmt.Sprintf("author %d", w), Year: 2000}
			for i := 0; !stop.Load(); i++ {
				b, err := svc.CreateBook(ctx, in, "kill-test")
				ops.Add(1)
				if err != nil {
					fail("create: %v", err)
					continue
				}
				created.Store(b.ID, true)
				for v := int64(1); v <= 3; v++ {
					pre := books.Precondition{}
					if v%2 == 0 {
						pre = books.Precondition{Versions: []int64{v}}
					}
					u, err := svc.UpdateBook(ctx, b.ID, in, pre, "kill-test")
					ops.Add(1)
					if err != nil {
						fail("update %d (If-Match %v): %v", v, pre.Versions, err)
						break
					}
					if u.Version != v+1 {
						fail("update %d gave version %d: applied twice?", v, u.Version)
					}
				}
				if _, err := svc.FindBookByID(ctx, b.ID); err != nil {
					fail("get: %v", err)
				}
				if _, err := svc.FindBooks(ctx, books.BookFilter{Limit: 5, Author: in.Author}); err != nil {
					fail("list: %v", err)
				}
				ops.Add(2)
				if i%2 == 0 {
					err := svc.DeleteBook(ctx, b.ID, books.Precondition{Versions: []int64{4}})
					ops.Add(1)
					if err != nil {
						fail("delete: %v", err)
					} else {
						created.Store(b.ID, false)
					}
				}
			}
		}()
	}
	// Each round is one event (a failover cuts every connection at once);
	// the next comes after every worker finished two more operations, so
	// what is counted is recovery from each event, not two events landing
	// on one operation faster than maxRetries new connections) on a loaded machine.
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) || rounds.Load() < 10 {
		for before := ops.Load(); ops.Load() < before+12; {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		var n int64
		if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`, name, app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		killed.Add(n)
		rounds.Add(1)
	}
	stop.Store(true)
	wg.Wait()

	want := 0
	missing := 0
	created.Range(func(k, v any) bool {
		_, err := svc.FindBookByID(ctx, k.(string))
		switch {
		case v.(bool) && err != nil:
			missing++
		case !v.(bool) && books.ErrorCode(err) != books.ENOTFOUND:
			fail("deleted book %s still readable (%v)", k, err)
		}
		if v.(bool) {
			want++
		}
		return true
	})
	var stored int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM books`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d operations, %d backends terminated in %d rounds, %d failures", ops.Load(), killed.Load(), rounds.Load(), len(failures))
	if killed.Load() < 10 {
		t.Fatalf("only %d backends terminated: the test did not exercise anything", killed.Load())
	}
	if missing > 0 || stored != want {
		t.Errorf("%d books stored, %d expected, %d missing: a create or delete was lost or doubled", stored, want, missing)
	}
	if len(failures) > 0 {
		t.Fatalf("%d of %d operations failed:\n%s", len(failures), ops.Load(), strings.Join(failures[:min(len(failures), 15)], "\n"))
	}
}
