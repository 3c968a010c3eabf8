package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
)

type ctxKey int

const infoKey ctxKey = 0

// reqInfo is filled in while a request is served and read by the access log.
type reqInfo struct {
	id    string
	route string
}

func infoFrom(ctx context.Context) *reqInfo {
	info, _ := ctx.Value(infoKey).(*reqInfo)
	return info
}

func requestID(ctx context.Context) string {
	if info := infoFrom(ctx); info != nil {
		return info.id
	}
	return ""
}

// Request id headers, in order of preference: our own, then what AWS load
// balancers and API Gateway send.
var requestIDHeaders = []string{"X-Request-Id", "X-Amzn-Request-Id", "X-Amzn-Trace-Id"}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog assigns the request id, echoes it in X-Request-Id, and writes
// one log line per request: method, route pattern (never the raw path, which
// holds ids, nor the query, body or headers), status, duration, bytes.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{id: incomingRequestID(r), route: "unmatched"}
		w.Header().Set("X-Request-Id", info.id)
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), infoKey, info)))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		elapsed := time.Since(start)
		if s.metrics != nil {
			s.metrics.ObserveRequest(info.route, rec.status, elapsed)
		}
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", sanitizeMethod(r.Method)),
			slog.String("route", info.route),
			slog.Int("status", rec.status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.Int64("bytes", rec.bytes),
			slog.String("request_id", info.id),
			slog.String("trace_id", traceRoot(r)),
		)
	})
}

// traceRoot returns the Root of the X-Ray trace header the load balancer
// (and API Gateway with tracing on) sends, "Root=1-…;Parent=…;Sampled=1",
// which is the xrayTraceId field of the gateway's access log; "" when the
// header is absent or malformed.
func traceRoot(r *http.Request) string {
	h := r.Header.Get("X-Amzn-Trace-Id")
	if !validRequestID(h) {
		return ""
	}
	for _, part := range strings.Split(h, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Root="); ok {
			return v
		}
	}
	return ""
}

// incomingRequestID returns a well-formed id from the request headers, or a
// new random one.
func incomingRequestID(r *http.Request) string {
	for _, h := range requestIDHeaders {
		if v := r.Header.Get(h); validRequestID(v) {
			return v
		}
	}
	return newRequestID()
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func validRequestID(v string) bool {
	if v == "" || len(v) > 128 {
		return false
	}
	for _, c := range []byte(v) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':' || c == '=' || c == ';' || c == '/' || c == '+'
		if !ok {
			return false
		}
	}
	return true
}

// recoverPanics turns a panic into a logged 500 instead of a dropped
// connection. (http.ErrAbortHandler is re-raised, as net/http expects.)
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				s.logger.Error("panic", "err", fmt.Sprint(v), "stack", string(debug.Stack()), "request_id", requestID(r.Context()))
				writeJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "internal", "message": "internal error"}})
			}
		}()
		next.ServeHTTP(w, r)
	})
}
