package redis_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/books-platform/books/app/internal/testenv"
	"github.com/books-platform/books/app/postgres"
)

// testDBURL is this package's own database (books_test_redis_PID) on the
// shared PostgreSQL, migrated, for the end-to-end coherence tests.
var testDBURL string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		name := fmt.Sprintf("books_test_redis_%d", os.Getpid())
		url, err := testenv.CreateDatabase(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer func() {
			if err := testenv.DropDatabase(name); err != nil {
				fmt.Fprintln(os.Stderr, "drop test database:", err)
			}
		}()
		db, err := postgres.Open(context.Background(), postgres.Config{URL: url})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		err = postgres.Migrate(context.Background(), db, slog.New(slog.NewTextHandler(io.Discard, nil)))
		db.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		testDBURL = url
		return m.Run()
	}())
}

// openDB opens a pool of its own on the package's database (one per app
// instance, as two tasks would have).
func openDB(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), postgres.Config{URL: testDBURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}
