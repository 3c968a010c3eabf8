package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/books-platform/books/app"
	bookshttp "github.com/books-platform/books/app/http"
	"github.com/books-platform/books/app/internal/testenv"
	"github.com/books-platform/books/app/postgres"
	"github.com/books-platform/books/app/redis"
)

const (
	testUser     = "books"
	testPassword = "correct horse battery staple"
)

var (
	testDB   *postgres.DB
	baseURL  string
	logs     = &syncBuffer{}
	testSvc  books.BookService
	httpc    = &http.Client{Timeout: 10 * time.Second}
	serveErr = make(chan error, 1)
)

// syncBuffer collects the server's log lines for the logging tests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestMain starts one server on a fresh database (books_test_http_PID) with the
// shared Redis as cache, the way cmd/books wires it.
func TestMain(m *testing.M) {
	os.Exit(func() int {
		// One database per process: `go test -fuzz` runs TestMain again in
		// each fuzzing worker, which must not drop the coordinator's data.
		dbName := fmt.Sprintf("books_test_http_%d", os.Getpid())
		url, err := testenv.CreateDatabase(dbName)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer func() {
			if err := testenv.DropDatabase(dbName); err != nil {
				fmt.Fprintln(os.Stderr, "drop test database:", err)
			}
		}()
		ctx := context.Background()
		testDB, err = postgres.Open(ctx, postgres.Config{URL: url})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer testDB.Close()
		logger := slog.New(slog.NewJSONHandler(logs, nil))
		if err := postgres.Migrate(ctx, testDB, logger); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		rc, err := redis.NewClient(testenv.RedisURL())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer rc.Close()
		if err := rc.Ping(ctx).Err(); err != nil {
			fmt.Fprintf(os.Stderr, "shared Redis at %s not reachable (set BOOKS_TEST_REDIS_URL): %v\n", testenv.RedisURL(), err)
			return 1
		}
		testSvc = redis.NewCachedBookService(postgres.NewBookService(testDB), rc, redis.Options{Logger: logger})
		srv := bookshttp.NewServer(bookshttp.Config{
			Books: testSvc, Ping: testDB.Ping, Username: testUser, Password: testPassword, Logger: logger,
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		baseURL = "http://" + ln.Addr().String()
		go func() { serveErr <- srv.Serve(ln) }()
		defer func() {
			if err := srv.Shutdown(context.Background()); err != nil {
				fmt.Fprintln(os.Stderr, "shutdown test server:", err)
			}
		}()
		code := m.Run()
		specReport(os.Stdout)
		return code
	}())
}

// startServer serves cfg on a fresh 127.0.0.1:0 listener until the test ends.
func startServer(t testing.TB, cfg bookshttp.Config) string {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return testenv.Serve(t, bookshttp.NewServer(cfg))
}

func reset(t testing.TB) {
	t.Helper()
	testenv.Truncate(t, testDB.Pool)
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) errorCode() string {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		return fmt.Sprintf("(not a JSON error body: %v)", err)
	}
	return e.Error.Code
}

func (r *response) errorMessage() string {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e) // "" when the body is not an error
	return e.Error.Message
}

func (r *response) book(t testing.TB) *books.Book {
	t.Helper()
	var b books.Book
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("decode book %q: %v", r.body, err)
	}
	return &b
}

// req describes a request; zero values mean: authorized, JSON content type.
type req struct {
	method, path, body string
	header             map[string]string
	noAuth             bool
	user, password     string
	base               string
}

func do(t testing.TB, rq req) *response {
	t.Helper()
	base := rq.base
	if base == "" {
		base = baseURL
	}
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	hr, err := http.NewRequest(rq.method, base+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if !rq.noAuth {
		u, p := testUser, testPassword
		if rq.user != "" || rq.password != "" {
			u, p = rq.user, rq.password
		}
		hr.SetBasicAuth(u, p)
	}
	for k, v := range rq.header {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	resp, err := httpc.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	checkSpec(t, hr, resp.StatusCode, resp.Header, data)
	return &response{status: resp.StatusCode, header: resp.Header, body: data}
}

func wantStatus(t testing.TB, r *response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if code != "" {
		if got := r.errorCode(); got != code {
			t.Fatalf("error code = %q, want %q; body %s", got, code, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("error Content-Type = %q", ct)
		}
	}
}

func createBook(t testing.TB, title, author string, year int) *books.Book {
	t.Helper()
	r := do(t, req{method: "POST", path: "/book", body: fmt.Sprintf(`{"title":%q,"author":%q,"year":%d}`, title, author, year)})
	wantStatus(t, r, 201, "")
	return r.book(t)
}

func countBooks(t testing.TB) int {
	t.Helper()
	var n int
	if err := testDB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM books").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
