package http_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	bookshttp "github.com/books-platform/books/app/http"
)

// TestAccessLogCarriesGatewayAndTraceIDs: a request as API Gateway sends it
// through the ALB — X-Request-Id from $context.requestId, X-Amzn-Trace-Id
// with the ALB's Self in front of the gateway's Root — is logged with both
// ids, so a line of the gateway's access log (requestId, xrayTraceId) finds
// the service's line.
func TestAccessLogCarriesGatewayAndTraceIDs(t *testing.T) {
	gwID := fmt.Sprintf("c0ffee%d-1111-4bad-8e5e-000000000001", time.Now().UnixNano())
	root := "1-67891233-abcdef012345678912345678"
	for _, c := range []struct {
		name, header, want string
	}{
		{"BehindALB", "Self=1-67891234-12456789abcdef012345678;Root=" + root + ";Parent=463ac35c9f6413ad;Sampled=1", root},
		{"RootOnly", "Root=" + root, root},
		{"Malformed", "Root=" + root + " <script>", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := gwID + c.name
			do(t, req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": id, "X-Amzn-Trace-Id": c.header}})
			line := logLine(t, id)
			if line["request_id"] != id || line["trace_id"] != c.want {
				t.Fatalf("request_id %v trace_id %v; want %s and %q", line["request_id"], line["trace_id"], id, c.want)
			}
		})
	}
}

// logLine returns the request log line that carries request id id.
func logLine(t *testing.T, id string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "request" && m["request_id"] == id {
			return m
		}
	}
	t.Fatalf("no request log line with request_id %s", id)
	return nil
}

// observed records what the server reports to its RequestObserver.
type observed struct {
	mu    sync.Mutex
	calls []string
}

func (o *observed) ObserveRequest(route string, status int, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d <= 0 {
		route += " (no duration)"
	}
	o.calls = append(o.calls, fmt.Sprintf("%s %d", route, status))
}

// TestRequestObserverSeesEveryResponse: one call per response, with the
// route pattern and status the access log shows (401s and 404s included).
func TestRequestObserverSeesEveryResponse(t *testing.T) {
	reset(t)
	var o observed
	base := startServer(t, bookshttp.Config{Books: testSvc, Ping: testDB.Ping, Username: testUser, Password: testPassword, Metrics: &o})
	created := do(t, req{base: base, method: "POST", path: "/book", body: `{"title":"t","author":"a","year":2000}`})
	wantStatus(t, created, 201, "")
	id := created.book(t).ID
	do(t, req{base: base, method: "GET", path: "/book/" + id})
	do(t, req{base: base, method: "PUT", path: "/book/" + id, body: `{"title":"t","author":"a","year":2000}`, header: map[string]string{"If-Match": `"7"`}})
	do(t, req{base: base, method: "GET", path: "/book", noAuth: true})
	do(t, req{base: base, method: "GET", path: "/nope"})
	want := []string{"POST /book 201", "GET /book/{bookId} 200", "PUT /book/{bookId} 412", "GET /book 401", "unmatched 404"}
	o.mu.Lock()
	defer o.mu.Unlock()
	if fmt.Sprint(o.calls) != fmt.Sprint(want) {
		t.Fatalf("observed %v\nwant     %v", o.calls, want)
	}
}
