package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
)

// net/http answers some requests itself, before any handler runs, with a
// fixed-format text/plain reply written straight to the connection (see
// conn.serve in net/http/server.go): 431 for headers over MaxHeaderBytes,
// 400 for a malformed request line or header, 501 for an unknown
// Transfer-Encoding, 505 for an unsupported HTTP version; and 417 (empty
// body) for an Expect other than 100-continue. No Server option or
// handler can change them, so protocolListener wraps each accepted
// connection and rewrites exactly those replies into the spec's JSON
// error. Handler responses pass through untouched.
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// protocolErrorCodes are the error codes of those replies (openapi.yaml's
// Error.code); another status of that form would map by class.
var protocolErrorCodes = map[int]string{
	http.StatusBadRequest:                  "invalid",
	http.StatusExpectationFailed:           "expectation_failed",
	http.StatusRequestHeaderFieldsTooLarge: "headers_too_large",
	http.StatusNotImplemented:              "not_implemented",
	http.StatusHTTPVersionNotSupported:     "http_version_not_supported",
}

type protocolListener struct {
	net.Listener
	logger *slog.Logger
}

func (l protocolListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &protocolConn{Conn: c, logger: l.logger}, nil
}

type protocolConn struct {
	net.Conn
	logger *slog.Logger
}

func (c *protocolConn) Write(p []byte) (int, error) {
	status, msg, ok := netHTTPErrorReply(p)
	if !ok {
		return c.Conn.Write(p)
	}
	c.logger.Warn("request rejected by the HTTP server", "status", status, "reason", msg)
	if _, err := c.Conn.Write(jsonErrorReply(status, msg)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite keeps net/http's half-close after a 431 (closeWriteAndWait).
func (c *protocolConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// netHTTPErrorReply recognizes one of net/http's own replies and returns
// its status and reason.
func netHTTPErrorReply(p []byte) (int, string, bool) {
	if !bytes.HasPrefix(p, []byte("HTTP/1.")) || len(p) < 13 || p[8] != ' ' {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(p[9:12]))
	if err != nil || status < 400 {
		return 0, "", false
	}
	// Only a header block holds a raw CR LF: JSON bodies escape them, so a
	// chunk of a response body (a book title "HTTP/1.1 417 …" at a flush
	// boundary) is never taken for a reply.
	line, rest, ok := bytes.Cut(p, []byte("\r\n"))
	if !ok {
		return 0, "", false
	}
	if status == http.StatusExpectationFailed && string(line[9:]) == "417 Expectation Failed" { // no handler of ours answers 417
		return status, "only Expect: 100-continue is supported", true
	}
	if !bytes.HasPrefix(rest, []byte(netHTTPErrorHeaders[2:])) {
		return 0, "", false
	}
	reason := string(line[13:])
	if _, detail, ok := bytes.Cut(rest[len(netHTTPErrorHeaders)-2:], []byte(": ")); ok {
		reason = string(detail)
	}
	return status, reason, true
}

func jsonErrorReply(status int, reason string) []byte {
	code := protocolErrorCodes[status]
	if code == "" {
		code = "invalid"
		if status >= 500 {
			code = "internal"
		}
	}
	var body errorBody
	body.Error.Code, body.Error.Message = code, "the HTTP request was rejected: "+reason
	data, _ := json.Marshal(body) // a struct of two strings always marshals
	data = append(data, '\n')
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\nX-Request-Id: %s\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), newRequestID(), len(data), data)
}
