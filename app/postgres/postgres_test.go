package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/books-platform/books/app"
	"github.com/books-platform/books/app/internal/testenv"
	"github.com/books-platform/books/app/postgres"
)

var (
	testURL string
	testDB  *postgres.DB
	quiet   = slog.New(slog.NewTextHandler(io.Discard, nil))
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		var err error
		testURL, err = testenv.CreateDatabase("books_test_postgres")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		ctx := context.Background()
		testDB, err = postgres.Open(ctx, postgres.Config{URL: testURL})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer testDB.Close()
		if err := postgres.Migrate(ctx, testDB, quiet); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}())
}

func newService(t *testing.T) *postgres.BookService {
	t.Helper()
	testenv.Truncate(t, testDB.Pool)
	return postgres.NewBookService(testDB)
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := books.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func create(t *testing.T, s books.BookService, title, author string, year int) *books.Book {
	t.Helper()
	b, err := s.CreateBook(context.Background(), books.BookInput{Title: title, Author: author, Year: year}, "sub-1")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return b
}

func TestBookService(t *testing.T) {
	ctx := context.Background()

	t.Run("CreateAndFind", func(t *testing.T) {
		s := newService(t)
		b := create(t, s, "  The Go Programming Language ", "Donovan", 2015)
		if b.Title != "The Go Programming Language" || b.Version != 1 || b.CreatedBy != "sub-1" || b.UpdatedBy != "sub-1" {
			t.Fatalf("created %+v", b)
		}
		if _, ok := books.ParseID(b.ID); !ok {
			t.Fatalf("id %q is not a UUID", b.ID)
		}
		got, err := s.FindBookByID(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if *got != *b {
			t.Fatalf("found %+v, want %+v", got, b)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newService(t)
		_, err := s.FindBookByID(ctx, "0193c4a2-1f56-7d0e-9a3b-3c1d2e4f5a6b")
		wantCode(t, err, books.ENOTFOUND)
	})

	t.Run("CreateInvalidStoresNothing", func(t *testing.T) {
		s := newService(t)
		for _, in := range []books.BookInput{
			{Title: " ", Author: "a", Year: 2000},
			{Title: "t", Author: "", Year: 2000},
			{Title: "t", Author: "a", Year: books.MaxYear + 1},
			{Title: "t\x00", Author: "a", Year: 2000},
		} {
			_, err := s.CreateBook(ctx, in, "")
			wantCode(t, err, books.EINVALID)
		}
		page, err := s.FindBooks(ctx, books.BookFilter{Limit: 10})
		if err != nil || len(page.Books) != 0 {
			t.Fatalf("after invalid creates: %v, %d books", err, len(page.Books))
		}
	})

	t.Run("UpdateUnconditional", func(t *testing.T) {
		s := newService(t)
		b := create(t, s, "t", "a", 2000)
		u, err := s.UpdateBook(ctx, b.ID, books.BookInput{Title: "t2", Author: "a2", Year: 2001}, books.Precondition{}, "sub-2")
		if err != nil {
			t.Fatal(err)
		}
		if u.Title != "t2" || u.Author != "a2" || u.Year != 2001 || u.Version != 2 || u.CreatedBy != "sub-1" || u.UpdatedBy != "sub-2" || !u.UpdatedAt.After(u.CreatedAt) || !u.CreatedAt.Equal(b.CreatedAt) {
			t.Fatalf("updated %+v", u)
		}
	})

	t.Run("UpdateMatchingVersion", func(t *testing.T) {
		s := newService(t)
		b := create(t, s, "t", "a", 2000)
		u, err := s.UpdateBook(ctx, b.ID, books.BookInput{Title: "t2", Author: "a", Year: 2000}, books.Precondition{Versions: []int64{7, 1}}, "")
		if err != nil || u.Version != 2 {
			t.Fatalf("update: %v %+v", err, u)
		}
	})

	t.Run("UpdateStaleVersion", func(t *testing.T) {
		s := newService(t)
		b := create(t, s, "t", "a", 2000)
		_, err := s.UpdateBook(ctx, b.ID, books.BookInput{Title: "t2", Author: "a", Year: 2000}, books.Precondition{Versions: []int64{2}}, "")
		wantCode(t, err, books.EPRECONDITION)
		_, err = s.UpdateBook(ctx, b.ID, books.BookInput{Title: "t2", Author: "a", Year: 2000}, books.Precondition{Versions: []int64{}}, "")
		wantCode(t, err, books.EPRECONDITION)
		got, _ := s.FindBookByID(ctx, b.ID)
		if got.Title != "t" || got.Version != 1 {
			t.Fatalf("stale update changed the book: %+v", got)
		}
	})

	t.Run("UpdateNotFound", func(t *testing.T) {
		s := newService(t)
		_, err := s.UpdateBook(ctx, "0193c4a2-1f56-7d0e-9a3b-3c1d2e4f5a6b", books.BookInput{Title: "t", Author: "a", Year: 2000}, books.Precondition{Any: true}, "")
		wantCode(t, err, books.ENOTFOUND)
	})

	t.Run("UpdateInvalid", func(t *testing.T) {
		s := newService(t)
		b := create(t, s, "t", "a", 2000)
		_, err := s.UpdateBook(ctx, b.ID, books.BookInput{Title: "", Author: "a", Year: 2000}, books.Precondition{}, "")
		wantCode(t, err, books.EINVALID)
	})

	t.Run("DeleteStaleThenMatching", func(t *testing.T) {
		s := newService(t)
		b := create(t, s, "t", "a", 2000)
		wantCode(t, s.DeleteBook(ctx, b.ID, books.Precondition{Versions: []int64{5}}), books.EPRECONDITION)
		if err := s.DeleteBook(ctx, b.ID, books.Precondition{Versions: []int64{1}}); err != nil {
			t.Fatal(err)
		}
		_, err := s.FindBookByID(ctx, b.ID)
		wantCode(t, err, books.ENOTFOUND)
		wantCode(t, s.DeleteBook(ctx, b.ID, books.Precondition{}), books.ENOTFOUND)
	})

	t.Run("ListNewestFirstWithAuthorFilter", func(t *testing.T) {
		s := newService(t)
		a1 := create(t, s, "one", "Ann", 2001)
		b1 := create(t, s, "two", "Bob", 2002)
		a2 := create(t, s, "three", "Ann", 2003)
		page, err := s.FindBooks(ctx, books.BookFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if ids(page.Books) != fmt.Sprint([]string{a2.ID, b1.ID, a1.ID}) || page.Next != nil {
			t.Fatalf("list = %v next=%v", ids(page.Books), page.Next)
		}
		page, err = s.FindBooks(ctx, books.BookFilter{Limit: 1, Author: "Ann"})
		if err != nil {
			t.Fatal(err)
		}
		if ids(page.Books) != fmt.Sprint([]string{a2.ID}) || page.Next == nil {
			t.Fatalf("Ann page 1 = %v next=%v", ids(page.Books), page.Next)
		}
		page, err = s.FindBooks(ctx, books.BookFilter{Limit: 1, Author: "Ann", After: page.Next})
		if err != nil {
			t.Fatal(err)
		}
		if ids(page.Books) != fmt.Sprint([]string{a1.ID}) || page.Next != nil {
			t.Fatalf("Ann page 2 = %v next=%v", ids(page.Books), page.Next)
		}
	})

	t.Run("ListLimitOutOfRange", func(t *testing.T) {
		s := newService(t)
		for _, n := range []int{0, -1, books.MaxLimit + 1} {
			_, err := s.FindBooks(ctx, books.BookFilter{Limit: n})
			wantCode(t, err, books.EINVALID)
		}
	})

	t.Run("DatabaseUnreachableIsUnavailable", func(t *testing.T) {
		port := testenv.FreePort(t)
		db, err := postgres.Open(ctx, postgres.Config{URL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/x?sslmode=disable&connect_timeout=1", port)})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, err = postgres.NewBookService(db).FindBookByID(ctx, "0193c4a2-1f56-7d0e-9a3b-3c1d2e4f5a6b")
		wantCode(t, err, books.EUNAVAILABLE)
	})
}

func ids(bs []*books.Book) string {
	var out []string
	for _, b := range bs {
		out = append(out, b.ID)
	}
	return fmt.Sprint(out)
}

// TestFindBooks_PaginationWithConcurrentInserts pages through the list while
// other goroutines insert: every book that existed before paging started is
// seen exactly once, nothing is seen twice, and the order never goes back.
func TestFindBooks_PaginationWithConcurrentInserts(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	before := map[string]bool{}
	for i := range 45 {
		before[create(t, s, fmt.Sprintf("before %d", i), "Pager", 2000).ID] = true
	}

	var wg sync.WaitGroup
	var inserted atomic.Int64
	stop := make(chan struct{})
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.CreateBook(ctx, books.BookInput{Title: fmt.Sprintf("during %d-%d", w, i), Author: "Pager", Year: 2001}, ""); err != nil {
					t.Error(err)
					return
				}
				inserted.Add(1)
			}
		}()
	}

	seen := map[string]bool{}
	var last *books.Book
	var cursor *books.Cursor
	pages := 0
	for {
		page, err := s.FindBooks(ctx, books.BookFilter{Limit: 7, Author: "Pager", After: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, b := range page.Books {
			if seen[b.ID] {
				t.Fatalf("book %s seen twice", b.ID)
			}
			seen[b.ID] = true
			if last != nil && (b.CreatedAt.After(last.CreatedAt) || b.CreatedAt.Equal(last.CreatedAt) && b.ID > last.ID) {
				t.Fatalf("order went back: %v after %v", b.CreatedAt, last.CreatedAt)
			}
			last = b
		}
		if page.Next == nil {
			break
		}
		cursor = page.Next
		time.Sleep(2 * time.Millisecond) // let the writers interleave
	}
	close(stop)
	wg.Wait()
	for id := range before {
		if !seen[id] {
			t.Errorf("book %s that existed before paging was skipped", id)
		}
	}
	if inserted.Load() == 0 {
		t.Error("no book was inserted while paging; the test proved nothing")
	}
	if pages < 7 {
		t.Errorf("only %d pages for 45+ books at 7 per page", pages)
	}
}

// TestUpdateBook_ConcurrentSameVersion: writers racing with the same
// If-Match version: exactly one wins, the rest get EPRECONDITION.
func TestUpdateBook_ConcurrentSameVersion(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	b := create(t, s, "t", "a", 2000)
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.UpdateBook(ctx, b.ID, books.BookInput{Title: fmt.Sprintf("writer %d", i), Author: "a", Year: 2000}, books.Precondition{Versions: []int64{1}}, "")
		}()
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch books.ErrorCode(err) {
		case "":
			wins++
		case books.EPRECONDITION:
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d writers won, want exactly 1", wins)
	}
	got, _ := s.FindBookByID(ctx, b.ID)
	if got.Version != 2 {
		t.Fatalf("version = %d, want 2", got.Version)
	}
}

// TestMigrate_TwoInstancesAtOnce runs the migrations from two pools (two
// "tasks") at the same moment on an empty database: both succeed and the
// schema is applied once.
func TestMigrate_TwoInstancesAtOnce(t *testing.T) {
	ctx := context.Background()
	url, err := testenv.CreateDatabase("books_test_migrate")
	if err != nil {
		t.Fatal(err)
	}
	var dbs []*postgres.DB
	for range 2 {
		db, err := postgres.Open(ctx, postgres.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs = append(dbs, db)
	}
	errs := make([]error, len(dbs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = postgres.Migrate(ctx, db, quiet)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	var applied int
	if err := dbs[0].Pool.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(files) {
		t.Fatalf("%d migrations recorded, want %d (each once)", applied, len(files))
	}
	if _, err := postgres.NewBookService(dbs[1]).CreateBook(ctx, books.BookInput{Title: "t", Author: "a", Year: 1}, ""); err != nil {
		t.Fatalf("schema not usable: %v", err)
	}
	if err := postgres.Migrate(ctx, dbs[1], quiet); err != nil {
		t.Fatalf("re-running migrations: %v", err)
	}
}

// fakeSource is a credentials source whose value the test changes, standing
// in for Secrets Manager.
type fakeSource struct {
	mu    sync.Mutex
	creds postgres.Credentials
	reads int
}

func (f *fakeSource) Credentials(context.Context) (postgres.Credentials, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.creds, nil
}

func (f *fakeSource) set(c postgres.Credentials) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creds = c
}

// TestCredentials_Rotation runs against a private cluster that checks
// passwords (scram-sha-256): after ALTER ROLE … PASSWORD and a new secret
// value, new connections of the same pool succeed without a restart.
func TestCredentials_Rotation(t *testing.T) {
	ctx := context.Background()
	c := testenv.StartScramCluster(t)
	c.Exec(t,
		`CREATE ROLE books_app LOGIN PASSWORD 'first-password'`,
		`CREATE DATABASE books OWNER books_app`,
	)
	src := &fakeSource{creds: postgres.Credentials{Username: "books_app", Password: "first-password"}}
	creds := &postgres.CachedCredentials{Source: src, TTL: time.Hour, MinRefresh: -1}
	// The URL carries a wrong user and password: the secret must win.
	db, err := postgres.Open(ctx, postgres.Config{URL: c.URL("nobody", "wrong", "books"), Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	t.Run("WrongPasswordIsRejected", func(t *testing.T) {
		// Proves the cluster checks passwords, so the rest proves something.
		bad, err := postgres.Open(ctx, postgres.Config{URL: c.URL("books_app", "not-the-password", "books")})
		if err != nil {
			t.Fatal(err)
		}
		defer bad.Close()
		err = bad.Ping(ctx)
		if !postgres.IsAuthFailure(err) {
			t.Fatalf("ping with a wrong password: %v, want an authentication failure", err)
		}
	})

	t.Run("InitialSecretWorks", func(t *testing.T) {
		if err := postgres.Migrate(ctx, db, quiet); err != nil {
			t.Fatal(err)
		}
		if _, err := postgres.NewBookService(db).CreateBook(ctx, books.BookInput{Title: "t", Author: "a", Year: 2000}, ""); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("RotatedPasswordWithoutRestart", func(t *testing.T) {
		readsBefore := creds.Reads()
		c.Exec(t, `ALTER ROLE books_app PASSWORD 'second-password'`)
		src.set(postgres.Credentials{Username: "books_app", Password: "second-password"})
		// Existing connections stay authenticated; drop them so the next
		// query must open a new one, which first tries the cached (old)
		// password, fails with 28P01, re-reads the secret and succeeds.
		db.Pool.Reset()
		page, err := postgres.NewBookService(db).FindBooks(ctx, books.BookFilter{Limit: 10})
		if err != nil {
			t.Fatalf("query after rotation: %v", err)
		}
		if len(page.Books) != 1 {
			t.Fatalf("%d books, want 1", len(page.Books))
		}
		if creds.Reads() != readsBefore+1 {
			t.Fatalf("secret read %d times after rotation, want exactly 1", creds.Reads()-readsBefore)
		}
		// The new password is now cached: more new connections need no read.
		db.Pool.Reset()
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if creds.Reads() != readsBefore+1 {
			t.Fatalf("secret re-read without an auth failure")
		}
	})

	t.Run("OldPasswordNoLongerWorks", func(t *testing.T) {
		old, err := postgres.Open(ctx, postgres.Config{URL: c.URL("books_app", "first-password", "books")})
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		if err := old.Ping(ctx); !postgres.IsAuthFailure(err) {
			t.Fatalf("old password: %v, want an authentication failure", err)
		}
	})
}

func TestCachedCredentials(t *testing.T) {
	ctx := context.Background()
	t.Run("CachesForTTL", func(t *testing.T) {
		src := &fakeSource{creds: postgres.Credentials{Password: "p"}}
		c := &postgres.CachedCredentials{Source: src, TTL: time.Hour}
		for range 3 {
			if _, err := c.Get(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if src.reads != 1 {
			t.Fatalf("reads = %d, want 1", src.reads)
		}
	})
	t.Run("ExpiresAfterTTL", func(t *testing.T) {
		src := &fakeSource{creds: postgres.Credentials{Password: "p"}}
		c := &postgres.CachedCredentials{Source: src, TTL: time.Millisecond}
		if _, err := c.Get(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if _, err := c.Get(ctx); err != nil {
			t.Fatal(err)
		}
		if src.reads != 2 {
			t.Fatalf("reads = %d, want 2", src.reads)
		}
	})
	t.Run("InvalidateRespectsMinRefresh", func(t *testing.T) {
		src := &fakeSource{creds: postgres.Credentials{Password: "p"}}
		c := &postgres.CachedCredentials{Source: src, TTL: time.Hour, MinRefresh: time.Hour}
		if _, err := c.Get(ctx); err != nil {
			t.Fatal(err)
		}
		if c.Invalidate() {
			t.Fatal("invalidated a value younger than MinRefresh")
		}
		if _, err := c.Get(ctx); err != nil {
			t.Fatal(err)
		}
		if src.reads != 1 {
			t.Fatalf("reads = %d, want 1", src.reads)
		}
	})
	t.Run("SourceErrorIsReturned", func(t *testing.T) {
		c := &postgres.CachedCredentials{Source: errSource{}}
		if _, err := c.Get(ctx); err == nil {
			t.Fatal("no error")
		}
	})
}

type errSource struct{}

func (errSource) Credentials(context.Context) (postgres.Credentials, error) {
	return postgres.Credentials{}, errors.New("secrets manager down")
}

// TestCreateBook_TimestampsEqual: a new book's createdAt and updatedAt are
// the same instant (repeated, since a race of clock readings is what broke).
func TestCreateBook_TimestampsEqual(t *testing.T) {
	s := newService(t)
	for range 200 {
		b := create(t, s, "t", "a", 2000)
		if !b.CreatedAt.Equal(b.UpdatedAt) {
			t.Fatalf("createdAt %v != updatedAt %v", b.CreatedAt, b.UpdatedAt)
		}
	}
}
