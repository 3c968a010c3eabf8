// Package http is the HTTP adapter: routes, Basic auth, request decoding and
// validation, the JSON error format, access logs, and the http.Server with
// its timeouts and graceful shutdown.
package http

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/books-platform/books/app"
)

// Server timeouts. WriteTimeout exceeds RequestTimeout so a slow request
// still gets its error response; IdleTimeout exceeds the ALB's 60 s idle
// timeout so the load balancer, not the server, closes idle connections
// (otherwise the ALB can reuse a connection the server just closed: 502).
const (
	ReadHeaderTimeout     = 5 * time.Second
	ReadTimeout           = 15 * time.Second
	WriteTimeout          = 20 * time.Second
	IdleTimeout           = 75 * time.Second
	DefaultRequestTimeout = 10 * time.Second
	MaxHeaderBytes        = 64 << 10
)

// Config is what the server needs from main.
type Config struct {
	Books books.BookService
	// Ping checks the database for /readyz.
	Ping func(context.Context) error
	// Username and Password are the Basic-auth credentials of book routes.
	Username, Password string
	Logger             *slog.Logger
	// RequestTimeout bounds each book request's work (default 10 s).
	RequestTimeout time.Duration
	// Metrics, when set, is told every response (the metrics recorder).
	Metrics RequestObserver
}

// RequestObserver receives one call per response: the route pattern the
// access log shows, the status and the time to the last byte.
type RequestObserver interface {
	ObserveRequest(route string, status int, d time.Duration)
}

// Server serves the books API.
type Server struct {
	books          books.BookService
	booksJSON      books.BookJSONFinder // nil unless the store keeps encoded books (see jsonFinder)
	ping           func(context.Context) error
	userHash       [32]byte
	passHash       [32]byte
	logger         *slog.Logger
	requestTimeout time.Duration
	metrics        RequestObserver
	draining       atomic.Bool
	handler        http.Handler
	srv            *http.Server
}

// NewServer builds the router and the http.Server.
func NewServer(cfg Config) *Server {
	s := &Server{
		books:          cfg.Books,
		booksJSON:      jsonFinder(cfg.Books),
		ping:           cfg.Ping,
		userHash:       sha256.Sum256([]byte(cfg.Username)),
		passHash:       sha256.Sum256([]byte(cfg.Password)),
		logger:         cfg.Logger,
		requestTimeout: cfg.RequestTimeout,
		metrics:        cfg.Metrics,
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.requestTimeout <= 0 {
		s.requestTimeout = DefaultRequestTimeout
	}
	s.handler = s.closeWhenDraining(s.accessLog(s.recoverPanics(s.rejectUncleanPaths(s.newMux()))))
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	return s
}

// Handler returns the full handler (router plus middleware).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve accepts connections on ln until Shutdown. It returns nil after a
// shutdown (http.ErrServerClosed is the normal end).
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(protocolListener{Listener: ln, logger: s.logger})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Drain starts a graceful stop without stopping: /readyz answers 503 so
// the load balancer stops routing here, and every response carries
// "Connection: close", so each client's next request opens a new
// connection (to another target) instead of racing the server's close of
// an idle kept-alive one. Requests are still served. (Not
// http.Server.SetKeepAlivesEnabled(false): it also closes idle
// connections at once, which is exactly that race.)
func (s *Server) Drain() { s.draining.Store(true) }

// Shutdown drains, stops accepting connections, closes idle ones and waits
// for in-flight requests until ctx ends; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Drain()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return err
}

// closeWhenDraining asks the client to close the connection after the
// response once Drain was called.
func (s *Server) closeWhenDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// authorized checks HTTP Basic credentials in constant time: both values
// are hashed first so neither their content nor their length leaks.
func (s *Server) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	uh, ph := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	userOK := subtle.ConstantTimeCompare(uh[:], s.userHash[:])
	passOK := subtle.ConstantTimeCompare(ph[:], s.passHash[:])
	return userOK&passOK == 1
}

// jsonFinder finds the store's BookJSONFinder, also behind a decorator that
// exposes the one it wraps (metrics.BookService).
func jsonFinder(svc books.BookService) books.BookJSONFinder {
	if f, ok := svc.(books.BookJSONFinder); ok {
		return f
	}
	if d, ok := svc.(interface{ JSONFinder() books.BookJSONFinder }); ok {
		return d.JSONFinder()
	}
	return nil
}
