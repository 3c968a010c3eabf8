package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/books-platform/books/app/internal/testenv"
)

var dbURL string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		var err error
		dbURL, err = testenv.CreateDatabase("books_test_cmd")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		code := m.Run()
		if binDir != "" {
			os.RemoveAll(binDir)
		}
		return code
	}())
}

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestRunUnknownCommand(t *testing.T) {
	if err := run(context.Background(), []string{"serve-please"}, env(nil), io.Discard); err == nil {
		t.Fatal("no error")
	}
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// binary builds cmd/books once per test run, the way the Dockerfile does
// (and app/Makefile builds the tests, so this build reuses their packages).
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "books-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "books")
		cmd := exec.Command("go", "build", "-buildvcs=false", "-trimpath", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running books process.
type proc struct {
	cmd  *exec.Cmd
	addr string
	logs *lockedLines
	done chan error
}

type lockedLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *lockedLines) add(s string) { l.mu.Lock(); l.lines = append(l.lines, s); l.mu.Unlock() }
func (l *lockedLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// start runs the binary with PORT=0 and waits for its "listening" line.
func start(t *testing.T, extra ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t))
	// A clean environment plus the libpq PG* variables (e.g. PGPASSWORD
	// when the test server needs one); later entries override earlier ones.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PORT=0", "BASIC_AUTH_PASSWORD=pw", "DATABASE_URL="+dbURL, "REDIS_URL="+testenv.RedisURL())
	cmd.Env = append(cmd.Env, extra...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: &lockedLines{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			p.logs.add(line)
			var m struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &m) == nil && m.Msg == "listening" {
				addr <- m.Addr
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		// Kill fails only when the process has exited already (a test
		// stopped it, read p.done and put a nil back); either way wait for
		// the reader goroutine. "signal: killed" is the expected status.
		_ = cmd.Process.Kill()
		if err := <-p.done; err != nil {
			t.Logf("books exited: %v", err)
		}
	})
	select {
	case a := <-addr:
		_, port, _ := net.SplitHostPort(a)
		p.addr = "127.0.0.1:" + port
	case err := <-p.done:
		t.Fatalf("books exited before listening: %v\n%s", err, p.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("books did not start listening\n%s", p.logs)
	}
	return p
}

// request sends one request (with optional extra headers) and returns the
// status and the body (read and closed here).
func (p *proc) request(method, path, body string, header ...map[string]string) (int, []byte, error) {
	req, err := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth("books", "pw")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range header {
		for k, v := range h {
			req.Header.Set(k, v)
		}
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

func (p *proc) createBook(t *testing.T) string {
	t.Helper()
	status, body, err := p.request("POST", "/book", `{"title":"t","author":"a","year":2000}`)
	if err != nil || status != 201 {
		t.Fatalf("create: %v %s", err, body)
	}
	var b struct{ ID string }
	if err := json.Unmarshal(body, &b); err != nil || b.ID == "" {
		t.Fatalf("create: no id in %s (%v)", body, err)
	}
	return b.ID
}

// lockBook holds a row lock on the book in an open transaction, so a PUT on
// it blocks inside the server until release is called.
func lockBook(t *testing.T, id string) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM books WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			// Closing the connection rolls back too, so a failed Rollback
			// (connection already gone) still releases the lock.
			_ = tx.Rollback(ctx)
			conn.Close(ctx)
		})
	}
	t.Cleanup(release)
	return release
}

// waitForBlockedUpdate waits until the server's UPDATE waits on the lock,
// i.e. the request is truly in flight.
func waitForBlockedUpdate(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE books%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the PUT never reached the database")
}

// TestGracefulShutdown sends SIGTERM to the real binary while a request is
// in flight: the process stops accepting connections, finishes the request
// with a normal response, and exits 0.
func TestGracefulShutdown(t *testing.T) {
	t.Run("RequestInFlightCompletes", func(t *testing.T) {
		p := start(t, "SHUTDOWN_GRACE=500ms")
		id := p.createBook(t)
		release := lockBook(t, id)

		type result struct {
			status int
			err    error
		}
		res := make(chan result, 1)
		go func() {
			status, _, err := p.request("PUT", "/book/"+id, `{"title":"during shutdown","author":"a","year":2000}`)
			if err != nil {
				res <- result{err: err}
				return
			}
			res <- result{status: status}
		}()
		waitForBlockedUpdate(t)

		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		// Still running while the request is in flight, but not accepting.
		deadline := time.Now().Add(5 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", p.addr, 200*time.Millisecond)
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatal("still accepting connections 5 s after SIGTERM")
			}
			time.Sleep(20 * time.Millisecond)
		}
		select {
		case err := <-p.done:
			t.Fatalf("exited with a request in flight: %v", err)
		case <-time.After(300 * time.Millisecond):
		}

		release()
		r := <-res
		if r.err != nil || r.status != 200 {
			t.Fatalf("in-flight PUT: status %d, err %v", r.status, r.err)
		}
		select {
		case err := <-p.done:
			if err != nil {
				t.Fatalf("exit: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("did not exit after the in-flight request finished")
		}
		p.done <- nil // for the cleanup
		if logs := p.logs.String(); !strings.Contains(logs, `"msg":"shutting down"`) || !strings.Contains(logs, `"msg":"stopped"`) {
			t.Fatalf("shutdown not logged:\n%s", logs)
		}
	})

	t.Run("DeadlineBoundsShutdown", func(t *testing.T) {
		p := start(t, "SHUTDOWN_TIMEOUT=1s", "SHUTDOWN_GRACE=0s")
		id := p.createBook(t)
		lockBook(t, id) // never released during the shutdown
		go func() {
			// Fails when the shutdown deadline closes its connection:
			// that is what this test provokes.
			_, _, _ = p.request("PUT", "/book/"+id, `{"title":"stuck","author":"a","year":2000}`)
		}()
		waitForBlockedUpdate(t)
		began := time.Now()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-p.done:
			if err != nil {
				t.Fatalf("exit: %v", err)
			}
			if d := time.Since(began); d < 900*time.Millisecond || d > 5*time.Second {
				t.Fatalf("exited %v after SIGTERM with SHUTDOWN_TIMEOUT=1s", d)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("did not exit within the shutdown deadline")
		}
		p.done <- nil
	})
}

func TestHealthcheckCommand(t *testing.T) {
	p := start(t)
	_, port, _ := net.SplitHostPort(p.addr)
	t.Run("Healthy", func(t *testing.T) {
		cmd := exec.Command(binary(t), "healthcheck")
		cmd.Env = []string{"PORT=" + port}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("healthcheck: %v %s", err, out)
		}
	})
	t.Run("NothingListening", func(t *testing.T) {
		cmd := exec.Command(binary(t), "healthcheck")
		cmd.Env = []string{fmt.Sprintf("PORT=%d", testenv.FreePort(t))}
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("healthcheck against a closed port: %v, want exit 1", err)
		}
	})
}

func TestRefusesToStartWithoutPassword(t *testing.T) {
	cmd := exec.Command(binary(t))
	cmd.Env = []string{"PORT=0", "DATABASE_URL=" + dbURL}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "BASIC_AUTH_PASSWORD is required") {
		t.Fatalf("exit %v, output %s", err, out)
	}
}

// TestTwoProcessesStartTogether starts two instances on the same empty
// database at once, as ECS does when scaling out: both migrate safely and
// serve.
func TestTwoProcessesStartTogether(t *testing.T) {
	url, err := testenv.CreateDatabase("books_test_cmd_twostart")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := testenv.DropDatabase("books_test_cmd_twostart"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	old := dbURL
	dbURL = url
	defer func() { dbURL = old }()
	var wg sync.WaitGroup
	procs := make([]*proc, 2)
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			procs[i] = start(t)
		}()
	}
	wg.Wait()
	for _, p := range procs {
		if p == nil {
			t.FailNow()
		}
		p.createBook(t)
	}
}

// TestSecretRotationWithoutRestart runs the binary with DB_SECRET_ARN
// against a password-checking cluster and a stand-in Secrets Manager, then
// rotates the password (ALTER ROLE plus a new secret value) and checks the
// running process keeps serving once its old connections are recycled.
func TestSecretRotationWithoutRestart(t *testing.T) {
	c := testenv.StartScramCluster(t)
	c.Exec(t, `CREATE ROLE books_app LOGIN PASSWORD 'first-password'`, `CREATE DATABASE books OWNER books_app`)
	sm := testenv.StartSecretsManager(t, `{"username":"books_app","password":"first-password","engine":"postgres"}`)
	p := start(t,
		// No user or password in the URL: both come from the secret. Short
		// connection lifetimes so the pool opens new connections soon.
		fmt.Sprintf("DATABASE_URL=postgres://127.0.0.1:%d/books?sslmode=disable&pool_max_conn_lifetime=300ms&pool_max_conn_idle_time=300ms&pool_health_check_period=100ms", c.Port),
		"DB_SECRET_ARN=arn:aws:secretsmanager:eu-west-1:123456789012:secret:books-db",
		"AWS_ENDPOINT_URL="+sm.URL, "AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=example", "AWS_EC2_METADATA_DISABLED=true", "CACHE_DISABLED=true",
	)
	began := time.Now() // the secret was read during start-up, before this
	id := p.createBook(t)
	readsBefore := sm.Reads()

	c.Exec(t, `ALTER ROLE books_app PASSWORD 'second-password'`)
	sm.Set(`{"username":"books_app","password":"second-password","engine":"postgres"}`)
	// Let the old connections expire, and pass the 1 s floor between secret
	// re-reads (which stops a wrong secret from hammering the API).
	time.Sleep(max(time.Second, 1500*time.Millisecond-time.Since(began)))

	for _, path := range []string{"/book", "/book/" + id, "/readyz"} {
		status, body, err := p.request("GET", path, "")
		if err != nil || status != 200 {
			t.Fatalf("GET %s after rotation: %v %s\n%s", path, err, body, p.logs)
		}
	}
	if sm.Reads() <= readsBefore {
		t.Fatalf("the secret was not re-read after the rotation (reads %d → %d)", readsBefore, sm.Reads())
	}
	if strings.Contains(p.logs.String(), "second-password") || strings.Contains(p.logs.String(), "first-password") {
		t.Fatal("a password reached the log")
	}
}
