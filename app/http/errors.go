package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/books-platform/books/app"
)

// apiError is an HTTP-level error (a status the domain does not know about,
// like 401 or 415).
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("http %d %s: %s", e.status, e.code, e.message) }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// statusOf maps domain error codes to HTTP status codes.
var statusOf = map[string]int{
	books.EINVALID:      http.StatusBadRequest,
	books.ENOTFOUND:     http.StatusNotFound,
	books.EPRECONDITION: http.StatusPreconditionFailed,
	books.EUNAVAILABLE:  http.StatusServiceUnavailable,
	books.EINTERNAL:     http.StatusInternalServerError,
}

// errorBody is the JSON error format of every non-2xx response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError writes err as {"error":{"code","message"}}. Internal errors are
// logged once here and shown only as "internal error"; unavailability is
// logged as a warning.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var body errorBody
	var status int
	var ae *apiError
	if errors.As(err, &ae) {
		status, body.Error.Code, body.Error.Message = ae.status, ae.code, ae.message
	} else {
		code := books.ErrorCode(err)
		status = statusOf[code]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		body.Error.Code, body.Error.Message = code, books.ErrorMessage(err)
	}
	switch {
	case status >= 500 && status != http.StatusServiceUnavailable:
		s.logger.ErrorContext(r.Context(), "internal error", "err", err.Error(), "request_id", requestID(r.Context()))
	case status == http.StatusServiceUnavailable:
		s.logger.WarnContext(r.Context(), "dependency unavailable", "err", err.Error(), "request_id", requestID(r.Context()))
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, body)
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	writeJSONBytes(w, status, data)
}

// writeJSONBytes writes an encoded JSON value (what json.Marshal returned)
// with the given status.
func writeJSONBytes(w http.ResponseWriter, status int, data []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	// The length up front: without it net/http switches to chunked
	// encoding for a body past its 2 KB buffer (a page of books), which
	// costs a chunk header per write and a terminating chunk.
	h.Set("Content-Length", strconv.Itoa(len(data)+len(newline)))
	w.WriteHeader(status)
	// The status line is sent; a failed body write means the client went
	// away, and there is no one left to answer. The newline is written
	// apart from data, which may be a cache's buffer.
	_, _ = w.Write(data)
	_, _ = w.Write(newline)
}

var newline = []byte{'\n'}
