package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/books-platform/books/app/internal/testenv"
)

// TestSIGTERMDropsNothing sends SIGTERM while steady traffic flows over
// keep-alive connections, the way a load balancer sends it: a stand-in
// "load balancer" polls /readyz and stops routing new requests to the
// process a propagation delay after it first sees it not ready (or sees a
// failure). Every request sent before that must get a complete response —
// on a kept-alive connection or a new one — and the process must exit 0.
func TestSIGTERMDropsNothing(t *testing.T) {
	const (
		grace       = 2 * time.Second
		propagation = 700 * time.Millisecond // < grace: the LB reacts within the grace
		workers     = 8
	)
	p := start(t, "SHUTDOWN_GRACE="+grace.String(), "SHUTDOWN_TIMEOUT=10s", "CACHE_DISABLED=true")
	id := p.createBook(t)

	var routing atomic.Bool // the stand-in LB still sends requests here
	routing.Store(true)
	var sent, answered, closedByServer atomic.Int64
	var lostMu sync.Mutex
	var lost []string

	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("books:pw"))
	request := fmt.Sprintf("GET /book/%s HTTP/1.1\r\nHost: books\r\nAuthorization: %s\r\n\r\n", id, auth)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var conn net.Conn
			var br *bufio.Reader
			for i := 0; routing.Load(); i++ {
				if conn == nil {
					c, err := net.DialTimeout("tcp", p.addr, time.Second)
					sent.Add(1)
					if err != nil {
						lostMu.Lock()
						lost = append(lost, fmt.Sprintf("worker %d: dial: %v", w, err))
						lostMu.Unlock()
						time.Sleep(10 * time.Millisecond)
						continue
					}
					conn, br = c, bufio.NewReader(c)
				} else {
					sent.Add(1)
				}
				conn.SetDeadline(time.Now().Add(5 * time.Second))
				_, err := io.WriteString(conn, request)
				var resp *http.Response
				if err == nil {
					resp, err = http.ReadResponse(br, nil)
				}
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != 200 {
					lostMu.Lock()
					lost = append(lost, fmt.Sprintf("worker %d request %d: %v", w, i, errOrStatus(err, resp)))
					lostMu.Unlock()
					conn.Close()
					conn = nil
					continue
				}
				answered.Add(1)
				if resp.Close { // Connection: close — reconnect, as a client must
					closedByServer.Add(1)
					conn.Close()
					conn = nil
				}
				// Idle between requests, so connections sit idle in the
				// server's keep-alive state, where an abrupt close races.
				time.Sleep(time.Duration(5+w) * time.Millisecond)
			}
			if conn != nil {
				conn.Close()
			}
		}()
	}

	// The stand-in load balancer's health check.
	sawNotReady := make(chan time.Duration, 1)
	var term time.Time
	go func() {
		c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for {
			resp, err := c.Get("http://" + p.addr + "/readyz")
			status := 0
			if err == nil {
				status = resp.StatusCode
				resp.Body.Close()
			}
			if !term.IsZero() && status != 200 {
				sawNotReady <- time.Since(term)
				time.Sleep(propagation)
				routing.Store(false)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()

	time.Sleep(500 * time.Millisecond) // traffic flowing
	term = time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var notReadyAfter time.Duration
	select {
	case notReadyAfter = <-sawNotReady:
	case <-time.After(10 * time.Second):
		t.Fatal("/readyz never stopped answering 200 after SIGTERM")
	}
	wg.Wait()
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
		p.done <- nil
	case <-time.After(15 * time.Second):
		t.Fatal("did not exit")
	}
	refused := 0
	for _, l := range lost {
		if strings.Contains(l, ": dial: ") {
			refused++
		}
	}
	t.Logf("sent %d, answered %d, without a response %d (%d on open connections, %d connections refused); %d responses closed the connection; not ready %v after SIGTERM",
		sent.Load(), answered.Load(), len(lost), len(lost)-refused, refused, closedByServer.Load(), notReadyAfter.Round(time.Millisecond))
	if len(lost) > 0 {
		t.Fatalf("%d of %d requests got no response:\n%s", len(lost), sent.Load(), strings.Join(lost[:min(len(lost), 10)], "\n"))
	}
	if closedByServer.Load() == 0 {
		t.Error("no response during the grace period said Connection: close")
	}
	if !strings.Contains(p.logs.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped line:\n%s", p.logs)
	}
}

func errOrStatus(err error, resp *http.Response) string {
	if err != nil {
		return err.Error()
	}
	return resp.Status
}

// TestMigrationFailsFastOnPermanentErrors: errors that no amount of waiting
// fixes stop start-up at once (well inside MIGRATION_TIMEOUT) with a message
// saying what to fix; an unreachable server is retried until the timeout.
func TestMigrationFailsFastOnPermanentErrors(t *testing.T) {
	base := testenv.WithDatabase(dbURL, "books_test_cmd_does_not_exist")
	roleURL := createUnprivilegedRole(t)
	cases := []struct {
		name, url string
		want      []string
	}{
		{"DatabaseDoesNotExist", base, []string{"3D000", "PGDATABASE"}},
		{"NoCreatePrivilege", roleURL, []string{"42501", "CREATE"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			binary(t)
			began := time.Now()
			out, code := runToExit(t, 40*time.Second, "DATABASE_URL="+c.url, "MIGRATION_TIMEOUT=30s")
			took := time.Since(began)
			t.Logf("exit %d after %v", code, took.Round(time.Millisecond))
			if code != 1 {
				t.Fatalf("exit code %d, want 1\n%s", code, out)
			}
			if took > 10*time.Second {
				t.Errorf("took %v with MIGRATION_TIMEOUT=30s: a permanent error was retried", took)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not mention %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("UnreachableIsRetriedUntilTheTimeout", func(t *testing.T) {
		url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/books?sslmode=disable&connect_timeout=1", testenv.FreePort(t))
		began := time.Now()
		out, code := runToExit(t, 30*time.Second, "DATABASE_URL="+url, "MIGRATION_TIMEOUT=3s")
		took := time.Since(began)
		if code != 1 || took < 3*time.Second || !strings.Contains(out, "retrying") {
			t.Fatalf("exit %d after %v, want 1 after ≥ 3 s of retries\n%s", code, took, out)
		}
	})
}

// runToExit runs the binary with the test environment plus extra and
// returns its combined output and exit code.
func runToExit(t *testing.T, limit time.Duration, extra ...string) (string, int) {
	t.Helper()
	bin := binary(t) // built before the clock starts
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PORT=0", "BASIC_AUTH_PASSWORD=pw", "CACHE_DISABLED=true"}
	cmd.Env = append(cmd.Env, extra...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee) && ctx.Err() == nil:
		return string(out), ee.ExitCode()
	default:
		t.Fatalf("books did not exit within %v: %v\n%s", limit, err, out)
		return "", -1
	}
}

// createUnprivilegedRole creates a login role without CREATE on the
// schema and a database for it, and returns its URL; both are dropped when the test ends.
func createUnprivilegedRole(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("books_test_nopriv_%d", os.Getpid())
	dbu, err := testenv.CreateDatabase(name)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testenv.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	role := pgx.Identifier{name}.Sanitize()
	for _, q := range []string{"DROP ROLE IF EXISTS " + role, "CREATE ROLE " + role + " LOGIN"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if err := testenv.DropDatabase(name); err != nil {
			t.Errorf("drop database: %v", err)
		}
		c, err := pgx.Connect(ctx, testenv.AdminURL())
		if err != nil {
			t.Errorf("drop role: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP ROLE IF EXISTS "+role); err != nil {
			t.Errorf("drop role: %v", err)
		}
	})
	// PostgreSQL 15+ grants PUBLIC no CREATE on schema public; older
	// servers do, so take it away explicitly.
	in, err := pgx.Connect(ctx, dbu)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	if _, err := in.Exec(ctx, "REVOKE CREATE ON SCHEMA public FROM PUBLIC"); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbu)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(name)
	return u.String()
}
