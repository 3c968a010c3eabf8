package http

import (
	"strings"
	"testing"
)

// TestNetHTTPErrorReplyOnlyMatchesHeaderBlocks: bytes of a response body
// that happen to start like a status line are passed through.
func TestNetHTTPErrorReplyOnlyMatchesHeaderBlocks(t *testing.T) {
	for _, p := range []string{
		`HTTP/1.1 417 Expectation Failed","author":"a"}`,
		`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8`, // escaped, as in JSON
		"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n{}",
		"HTTP/1.1 200 OK\r\n\r\n",
	} {
		if _, _, ok := netHTTPErrorReply([]byte(p)); ok {
			t.Errorf("%q taken for a net/http error reply", p)
		}
	}
	for p, want := range map[string]int{
		"HTTP/1.1 431 Request Header Fields Too Large" + netHTTPErrorHeaders + "431 Request Header Fields Too Large":                     431,
		"HTTP/1.1 400 Bad Request: missing required Host header" + netHTTPErrorHeaders + "400 Bad Request: missing required Host header": 400,
		"HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n":                                              417,
	} {
		status, reason, ok := netHTTPErrorReply([]byte(p))
		if !ok || status != want || strings.Contains(reason, "\r") {
			t.Errorf("%q → %d %q %v", p, status, reason, ok)
		}
	}
}
