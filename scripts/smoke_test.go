package scripts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// localApp is the books API binary running against the machine's PostgreSQL
// and Redis, in a database of its own.
type localApp struct {
	url      string
	password string
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startApp builds app/cmd/books, creates a database for it and starts it on
// a free port; everything is stopped and dropped when the test ends.
func startApp(t *testing.T) localApp {
	t.Helper()
	psql := requireProgram(t, "psql", "apt-get install postgresql-client")
	adminURL := envOr("BOOKS_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	redisURL := envOr("BOOKS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

	dir := t.TempDir()
	bin := filepath.Join(dir, "books")
	// The app's own build settings (app/Makefile, the Dockerfile), so this
	// build shares what `make -C app vet` compiled.
	build := exec.Command("go", "build", "-buildvcs=false", "-trimpath", "-o", bin, "./cmd/books")
	build.Dir = filepath.Join("..", "app")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build app/cmd/books: %v\n%s", err, out)
	}

	db := "books_test_scripts_" + strconv.Itoa(os.Getpid())
	sql := func(stmt string) {
		t.Helper()
		cmd := exec.Command(psql, adminURL, "-v", "ON_ERROR_STOP=1", "-qc", stmt)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("psql %q: %v\n%s", stmt, err, out)
		}
	}
	sql("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)")
	sql("CREATE DATABASE " + db)
	dbURL, err := url.Parse(adminURL)
	if err != nil {
		t.Fatal(err)
	}
	dbURL.Path = "/" + db

	port := freePort(t)
	app := localApp{url: "http://127.0.0.1:" + strconv.Itoa(port), password: "local-" + randomHex(t, 16)}
	logFile, err := os.Create(filepath.Join(dir, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "BASIC_AUTH_PASSWORD="+app.password,
		"DATABASE_URL="+dbURL.String(), "REDIS_URL="+redisURL, "LOG_LEVEL=warn", "SHUTDOWN_TIMEOUT=5s", "SHUTDOWN_GRACE=0s")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	exited := make(chan struct{})
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if err := logFile.Close(); err != nil {
			t.Error(err)
		}
		sql("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)")
	})

	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(app.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return app
			}
		}
		select {
		case <-exited:
			t.Fatalf("the app exited: %v\n%s", exitErr, readFile(t, logFile.Name()))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app did not become ready\n%s", readFile(t, logFile.Name()))
		}
	}
}

// gateway stands in for API Gateway in front of the app: GET /book is
// public, every other book route needs the Cognito token in Authorization
// (401 {"message":"Unauthorized"} otherwise), the integration replaces it
// with the backend's Basic credentials, GET responses go through a stage
// cache (stageCache), and the limits demo answers like the real one (504
// for the 30 s Lambda, 413 above 10 MB) without waiting.
type gateway struct {
	token          string
	openWrites     bool // a broken authorizer: writes pass without a token
	limitsTimeCode int  // status of /limits/time/exceed (504 when right)
	failPut        bool // a broken integration: PUT answers 500
	// ignoreCacheControl is the seed's stage: requireAuthorizationForCacheControl
	// on a Cognito-authorized method, so Cache-Control: max-age=0 is ignored.
	ignoreCacheControl bool
}

// stageCache stands in for the API Gateway stage cache: 200 responses of
// GET are kept for 60 s, keyed by path and query string (the cache keys the
// stage uses: bookId and the list's parameters). A request with
// Cache-Control: max-age=0 is sent to the backend and its response replaces
// the entry, unless the stage ignores the header.
type stageCache struct {
	mu                 sync.Mutex
	entries            map[string]*httptest.ResponseRecorder
	expires            map[string]time.Time
	ignoreCacheControl bool
}

func (c *stageCache) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Method != http.MethodGet {
		next.ServeHTTP(w, r)
		return
	}
	key := r.URL.Path + "?" + r.URL.RawQuery
	refresh := !c.ignoreCacheControl && strings.Contains(r.Header.Get("Cache-Control"), "max-age=0")
	c.mu.Lock()
	rec, ok := c.entries[key]
	fresh := ok && time.Now().Before(c.expires[key])
	c.mu.Unlock()
	if !fresh || refresh {
		rec = httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			c.mu.Lock()
			c.entries[key], c.expires[key] = rec, time.Now().Add(60*time.Second)
			c.mu.Unlock()
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (g gateway) start(t *testing.T, app localApp) string {
	t.Helper()
	backend, err := url.Parse(app.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(backend)
	cache := &stageCache{entries: map[string]*httptest.ResponseRecorder{}, expires: map[string]time.Time{}, ignoreCacheControl: g.ignoreCacheControl}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/book", g.authorize(false, proxy, app, cache))
	mux.HandleFunc("/v1/book/{bookId}", g.authorize(true, proxy, app, cache))
	mux.HandleFunc("GET /v1/limits/time/exceed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(g.limitsTimeCode)
		fmt.Fprint(w, `{"message": "Endpoint request timed out"}`)
	})
	mux.HandleFunc("PUT /v1/limits/payload/{key}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		if n > 10*1024*1024 {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			fmt.Fprint(w, `{"message":"Request Too Long"}`)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

func (g gateway) authorize(always bool, proxy http.Handler, app localApp, cache *stageCache) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/v1")
		public := r.Method == http.MethodGet && !always
		authorizerSkipped := public || (g.openWrites && r.Method == http.MethodPost)
		if !authorizerSkipped && r.Header.Get("Authorization") != g.token {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Unauthorized"}`)
			return
		}
		if g.failPut && r.Method == http.MethodPut {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"message":"Internal server error"}`)
			return
		}
		r.Header.Del("Authorization")
		r.SetBasicAuth("books", app.password)
		r.Header.Set("X-User-Sub", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
		cache.serve(w, r, proxy)
	}
}

func (app localApp) countSmokeBooks(t *testing.T) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, app.url+"/book?author=Smoke&limit=100", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("books", app.password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /book: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	return len(page.Items)
}

var bookSteps = []string{
	"GET /book without credentials", "POST /book without credentials", "POST /book",
	"GET /book/{id}", "GET /book/{id} without credentials", "GET /book",
	"PUT /book/{id} without credentials", "PUT /book/{id}",
	"GET /book/{id} with Cache-Control: max-age=0 after the PUT", "DELETE /book/{id} without credentials",
	"DELETE /book/{id}", "DELETE /book/{id} again",
}

func TestSmokeTestAgainstLocalApp(t *testing.T) {
	t.Parallel()
	requireProgram(t, "curl", "apt-get install curl")
	requireProgram(t, "jq", "apt-get install jq")
	app := startApp(t)
	const smokeTimeout = 60 * time.Second

	t.Run("ServiceDirectlyTokenSkipped", func(t *testing.T) {
		r := run(t, smokeTimeout, []string{"BASIC_AUTH_PASSWORD=" + app.password}, "smoke-test.sh", "--url", app.url, "--skip-token")
		if r.code != 0 || !strings.Contains(r.stdout, "smoke test passed: "+app.url) {
			t.Fatalf("want success, got %s", r)
		}
		for _, step := range bookSteps {
			if !strings.Contains(r.stdout, " "+step+"\n") {
				t.Errorf("step %q not reported ok:\n%s", step, r.stdout)
			}
		}
		got := 0
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.HasPrefix(line, "ok    ") {
				got++
			}
		}
		if got != len(bookSteps) {
			t.Errorf("want %d ok lines, got %d:\n%s", len(bookSteps), got, r.stdout)
		}
		if !strings.Contains(r.stdout, "ok    401 GET /book without credentials") {
			t.Errorf("without the gateway the list needs credentials too:\n%s", r.stdout)
		}
		if strings.Contains(r.stdout+r.stderr, app.password) {
			t.Error("the password was printed")
		}
		if n := app.countSmokeBooks(t); n != 0 {
			t.Errorf("the smoke test left %d books behind", n)
		}
	})

	t.Run("WrongPassword", func(t *testing.T) {
		r := run(t, smokeTimeout, []string{"BASIC_AUTH_PASSWORD=not-the-" + app.password}, "smoke-test.sh", "--url", app.url, "--skip-token")
		if r.code != 1 || !strings.Contains(r.stdout, "FAIL  401 POST /book (expected 201)") {
			t.Fatalf("want a failure at the first authenticated request, got %s", r)
		}
	})

	t.Run("NothingListening", func(t *testing.T) {
		r := run(t, smokeTimeout, []string{"BASIC_AUTH_PASSWORD=x"}, "smoke-test.sh", "--url", "http://127.0.0.1:"+strconv.Itoa(freePort(t)), "--skip-token", "--wait", "1")
		if r.code != 1 || !strings.Contains(r.stdout, "FAIL  000 GET /book without credentials") || !strings.Contains(r.stderr, "retrying") {
			t.Fatalf("want a connection failure after retrying, got %s", r)
		}
	})

	token := "eyJraWQiOiJzbW9rZSJ9." + randomHex(t, 24) + ".c2ln"

	t.Run("GatewayWithTokenAndLimits", func(t *testing.T) {
		gw := gateway{token: token, limitsTimeCode: http.StatusGatewayTimeout}.start(t, app)
		r := run(t, smokeTimeout, []string{"BOOKS_ID_TOKEN=" + token}, "smoke-test.sh", "--url", gw, "--limits")
		if r.code != 0 {
			t.Fatalf("want success, got %s", r)
		}
		for _, want := range []string{"ok    200 GET /book without credentials", "ok    201 POST /book\n",
			"ok    504 GET /limits/time/exceed", "ok    413 PUT /limits/payload/{key} with 11 MB"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("missing %q in:\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stdout+r.stderr, token) {
			t.Error("the token was printed")
		}
	})

	t.Run("GatewayFromStackOutputs", func(t *testing.T) {
		gw := gateway{token: token, limitsTimeCode: http.StatusGatewayTimeout}.start(t, app)
		dir := t.TempDir()
		outputs := writeFile(t, dir, "outputs.json", `{"apiUrl":"`+gw+`/","limitsDemoEnabled":true,"region":"eu-west-1"}`)
		env := []string{fakeBinPath(t), "FAKE_PULUMI_OUTPUTS=" + outputs, "FAKE_PULUMI_LOG=" + filepath.Join(dir, "pulumi.log")}
		r := run(t, smokeTimeout, env, "smoke-test.sh", "--stack", "dev", "--token", token)
		if r.code != 0 || !strings.Contains(r.stdout, "ok    413 PUT /limits/payload") || !strings.Contains(r.stderr, "limits demo: true") {
			t.Fatalf("want the limits demo run from the stack outputs, got %s", r)
		}
		r = run(t, smokeTimeout, env, "smoke-test.sh", "--stack", "dev", "--token", token, "--no-limits")
		if r.code != 0 || strings.Contains(r.stdout, "/limits/") {
			t.Fatalf("--no-limits must win over the stack output, got %s", r)
		}
	})

	t.Run("GatewayRefreshAfterPut", func(t *testing.T) {
		gw := gateway{token: token, limitsTimeCode: http.StatusGatewayTimeout}.start(t, app)
		r := run(t, smokeTimeout, []string{"BOOKS_ID_TOKEN=" + token}, "smoke-test.sh", "--url", gw)
		if r.code != 0 || !strings.Contains(r.stdout, "ok    200 GET /book/{id} with Cache-Control: max-age=0 after the PUT") {
			t.Fatalf("want the refreshed read of the PUT, got %s", r)
		}
	})

	t.Run("GatewayIgnoresCacheControl", func(t *testing.T) {
		// The seed's stage: the GET from before the PUT stays cached and
		// max-age=0 is ignored, so the client cannot read its own write.
		gw := gateway{token: token, limitsTimeCode: http.StatusGatewayTimeout, ignoreCacheControl: true}.start(t, app)
		r := run(t, smokeTimeout, []string{"BOOKS_ID_TOKEN=" + token}, "smoke-test.sh", "--url", gw)
		if r.code != 1 || !strings.Contains(r.stdout, "FAIL  GET /book/{id} after the PUT: title is") {
			t.Fatalf("want the stale read after the PUT caught, got %s", r)
		}
	})

	t.Run("GatewayLimitsDemoBroken", func(t *testing.T) {
		gw := gateway{token: token, limitsTimeCode: http.StatusOK}.start(t, app)
		r := run(t, smokeTimeout, []string{"BOOKS_ID_TOKEN=" + token}, "smoke-test.sh", "--url", gw, "--limits")
		if r.code != 1 || !strings.Contains(r.stdout, "FAIL  200 GET /limits/time/exceed (integration timeout) (expected 504)") {
			t.Fatalf("want the limits failure, got %s", r)
		}
	})

	t.Run("GatewayAuthorizerMissing", func(t *testing.T) {
		gw := gateway{token: token, limitsTimeCode: http.StatusGatewayTimeout, openWrites: true}.start(t, app)
		r := run(t, smokeTimeout, []string{"BOOKS_ID_TOKEN=" + token}, "smoke-test.sh", "--url", gw)
		if r.code != 1 || !strings.Contains(r.stdout, "FAIL  201 POST /book without credentials (expected 401)") {
			t.Fatalf("want the unauthenticated write caught, got %s", r)
		}
	})

	t.Run("WrongToken", func(t *testing.T) {
		gw := gateway{token: token, limitsTimeCode: http.StatusGatewayTimeout}.start(t, app)
		r := run(t, smokeTimeout, nil, "smoke-test.sh", "--url", gw, "--token", "expired."+token)
		if r.code != 1 || !strings.Contains(r.stdout, "FAIL  401 POST /book (expected 201)") || !strings.Contains(r.stdout, `"message":"Unauthorized"`) {
			t.Fatalf("want a failure showing the gateway's answer, got %s", r)
		}
	})

	t.Run("FailureMidwayCleansUp", func(t *testing.T) {
		before := app.countSmokeBooks(t)
		gw := gateway{token: token, limitsTimeCode: http.StatusGatewayTimeout, failPut: true}.start(t, app)
		r := run(t, smokeTimeout, []string{"BOOKS_ID_TOKEN=" + token}, "smoke-test.sh", "--url", gw)
		if r.code != 1 || !strings.Contains(r.stdout, "FAIL  500 PUT /book/{id} (expected 200)") {
			t.Fatalf("want the PUT failure, got %s", r)
		}
		if after := app.countSmokeBooks(t); after != before {
			t.Fatalf("the book created before the failure was not deleted: %d smoke books before, %d after", before, after)
		}
	})
}
