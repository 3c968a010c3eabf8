package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/books-platform/books/app/internal/emfspec"
)

// send is one request with optional headers; it returns the status.
func (p *proc) send(t *testing.T, method, path, body string, header map[string]string) int {
	t.Helper()
	status, _, err := p.request(method, path, body, header)
	if err != nil {
		t.Fatal(err)
	}
	return status
}

// TestMetricsCountTheRequestsSent drives the real binary against PostgreSQL
// and Redis with a known mix of requests, stops it with SIGTERM, and checks
// the EMF documents it wrote on stdout: valid against the specification,
// the configured namespace and dimensions, and counts equal to what was
// sent. The interval is an hour, so everything lands in the shutdown flush:
// no line per request, and no timing in the test.
func TestMetricsCountTheRequestsSent(t *testing.T) {
	p := start(t, "METRICS_NAMESPACE=BooksTest", "METRICS_STACK=ci", "METRICS_SERVICE=books-api-test", "METRICS_INTERVAL=1h")
	const creates = 4
	var ids []string
	for range creates {
		ids = append(ids, p.createBook(t))
	}
	want := map[string]int{"POST /book 2xx": creates}
	expect := func(route string, status, got int) {
		t.Helper()
		if got != status {
			t.Fatalf("%s answered %d, want %d", route, got, status)
		}
		want[fmt.Sprintf("%s %dxx", route, status/100)]++
	}
	book := `{"title":"t2","author":"a","year":2001}`
	// Reads: two of each of two books, and one of a book that does not exist.
	for _, id := range ids[:2] {
		expect("GET /book/{bookId}", 200, p.send(t, "GET", "/book/"+id, "", nil))
		expect("GET /book/{bookId}", 200, p.send(t, "GET", "/book/"+id, "", nil))
	}
	expect("GET /book/{bookId}", 404, p.send(t, "GET", "/book/0193c4a2-1f56-7d0e-9a3b-3c1d2e4f5a6b", "", nil))
	// Writes: 3 updates (one with a matching If-Match), 2 conflicts, 1 delete.
	expect("PUT /book/{bookId}", 200, p.send(t, "PUT", "/book/"+ids[0], book, nil))
	expect("PUT /book/{bookId}", 200, p.send(t, "PUT", "/book/"+ids[1], book, map[string]string{"If-Match": `"1"`}))
	expect("PUT /book/{bookId}", 200, p.send(t, "PUT", "/book/"+ids[2], book, nil))
	expect("PUT /book/{bookId}", 412, p.send(t, "PUT", "/book/"+ids[1], book, map[string]string{"If-Match": `"1"`}))
	expect("DELETE /book/{bookId}", 412, p.send(t, "DELETE", "/book/"+ids[3], "", map[string]string{"If-Match": `"9"`}))
	expect("DELETE /book/{bookId}", 204, p.send(t, "DELETE", "/book/"+ids[3], "", nil))
	expect("GET /book", 200, p.send(t, "GET", "/book?limit=5", "", nil))
	expect("GET /healthz", 200, p.send(t, "GET", "/healthz", "", nil))
	expect("other", 404, p.send(t, "GET", "/no/such/path", "", nil))

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not exit after SIGTERM")
	}
	p.done <- nil

	var counters *emfspec.Event
	got := map[string]int{}
	lines := 0
	for _, line := range strings.Split(p.logs.String(), "\n") {
		if !emfspec.IsEMF([]byte(line)) {
			continue
		}
		lines++
		ev, err := emfspec.Parse([]byte(line))
		if err != nil {
			t.Fatalf("invalid EMF: %v\n%s", err, line)
		}
		d := ev.Directives[0]
		if d.Namespace != "BooksTest" || ev.String("Stack") != "ci" || ev.String("Service") != "books-api-test" {
			t.Fatalf("namespace %q, Stack %q, Service %q", d.Namespace, ev.String("Stack"), ev.String("Service"))
		}
		if h, ok := ev.Histogram("RequestLatency"); ok {
			got[ev.String("Route")+" "+ev.String("StatusClass")] += int(h.Count)
			continue
		}
		if counters != nil {
			t.Fatalf("two counter documents in one interval:\n%s", line)
		}
		counters = ev
	}
	if counters == nil {
		t.Fatalf("no counter document on stdout:\n%s", p.logs)
	}
	t.Logf("%d EMF lines for %d requests", lines, creates+18)
	for name, n := range map[string]float64{
		"BooksCreated": creates, "BooksUpdated": 3, "BooksDeleted": 1, "WriteConflicts": 2, "CacheErrors": 0,
	} {
		if v, ok := counters.Number(name); !ok || v != n {
			t.Errorf("%s = %v, want %v", name, v, n)
		}
	}
	// One outcome per GET /book/{bookId} (5); the second read of each of
	// the two books is served from Redis whatever the first one did.
	hits, _ := counters.Number("CacheHits")
	misses, _ := counters.Number("CacheMisses")
	if hits+misses != 5 || hits < 2 {
		t.Errorf("CacheHits %v + CacheMisses %v, want 5 reads with at least 2 hits", hits, misses)
	}
	// Every request that reached PostgreSQL took a connection: the
	// creates, 2 cache misses, the 404, 4 PUTs, 2 DELETEs and the list (the
	// cache hits and /healthz did not).
	if v, _ := counters.Number("DbPoolAcquires"); v < creates+10 {
		t.Errorf("DbPoolAcquires = %v, want at least %d", v, creates+10)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests per route and status class\n got %v\nwant %v", got, want)
	}
}
