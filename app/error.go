package books

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP adapter maps each to a status code.
const (
	EINVALID      = "invalid"             // 400: the input breaks a rule
	ENOTFOUND     = "not_found"           // 404
	EPRECONDITION = "precondition_failed" // 412: If-Match did not match
	EUNAVAILABLE  = "unavailable"         // 503: a dependency is down
	EINTERNAL     = "internal"            // 500: a bug
)

// Error is an application error with a machine-readable code and a message
// that is safe to show to the caller.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("books: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the caller-safe message of err: the *Error message,
// or "internal error" for anything else.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
