package http

import (
	"context"
	"net/http"
	"path"
	"slices"
	"strings"
)

// route is one entry of the routing table. The table is the single source
// of truth: the mux is built from it, 405 responses compute Allow from it,
// and a test compares it with openapi.yaml.
type route struct {
	method string
	path   string
	// auth requires HTTP Basic credentials.
	auth bool
	// statuses are the status codes the operation can answer with; each
	// must be documented in openapi.yaml for that operation.
	statuses []int
	handle   func(*Server, http.ResponseWriter, *http.Request) error
}

var routes = []route{
	{"GET", "/book", true, []int{200, 400, 401, 503}, (*Server).handleListBooks},
	{"POST", "/book", true, []int{201, 400, 401, 413, 415, 503}, (*Server).handleCreateBook},
	{"GET", "/book/{bookId}", true, []int{200, 304, 401, 404, 503}, (*Server).handleGetBook},
	{"PUT", "/book/{bookId}", true, []int{200, 400, 401, 404, 412, 413, 415, 503}, (*Server).handleUpdateBook},
	{"DELETE", "/book/{bookId}", true, []int{204, 401, 404, 412, 503}, (*Server).handleDeleteBook},
	{"GET", "/healthz", false, []int{200}, (*Server).handleHealthz},
	{"GET", "/readyz", false, []int{200, 503}, (*Server).handleReadyz},
}

// newMux registers every route, a 405 handler per path (JSON body and
// Allow header) and a JSON 404 for every other path.
func (s *Server) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range routes {
		mux.Handle(rt.method+" "+rt.path, s.routeHandler(rt))
		if _, ok := allowed[rt.path]; !ok {
			paths = append(paths, rt.path)
		}
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	for _, p := range paths {
		methods := allowed[p]
		if slices.Contains(methods, "GET") {
			methods = append(methods, "HEAD")
		}
		allow := strings.Join(methods, ", ")
		mux.Handle(p, s.routeHandler(route{path: p, handle: func(_ *Server, w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Allow", allow)
			return errorf(http.StatusMethodNotAllowed, "method_not_allowed", "method %s is not allowed on this path; allowed: %s", sanitizeMethod(r.Method), allow)
		}}))
	}
	mux.Handle("/", s.routeHandler(route{path: "", handle: func(_ *Server, w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "not_found", "no such path")
	}}))
	return mux
}

// routeHandler adapts a route: it records the route for the access log,
// enforces Basic auth, bounds the request's time and writes the error a
// handler returns.
func (s *Server) routeHandler(rt route) http.Handler {
	pattern := strings.TrimSpace(rt.method + " " + rt.path)
	if rt.path == "" {
		pattern = "unmatched"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info := infoFrom(r.Context()); info != nil {
			info.route = pattern
		}
		if rt.auth && !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="books", charset="UTF-8"`)
			s.writeError(w, r, errorf(http.StatusUnauthorized, "unauthorized", "valid Basic credentials are required"))
			return
		}
		if rt.auth {
			ctx, cancel := context.WithTimeout(r.Context(), s.requestTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		if err := rt.handle(s, w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func sanitizeMethod(m string) string {
	if len(m) > 16 {
		m = m[:16]
	}
	return m
}

// rejectUncleanPaths answers a path with empty, "." or ".." segments
// ("//book", "/book/../book") with the JSON 404, where http.ServeMux would
// redirect to the cleaned path with an HTML body. No client of this API
// builds such paths; the gateway forwards only /book and /book/{bookId}.
func (s *Server) rejectUncleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != "/" && (p == "" || path.Clean(p) != strings.TrimSuffix(p, "/")) {
			s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "no such path"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
