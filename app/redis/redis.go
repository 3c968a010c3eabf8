// Package redis is the Redis adapter: a cache-aside decorator around any
// books.BookService. The cache is an optimisation only: every cache call has
// a short deadline, and any cache failure falls through to the wrapped
// service, so a Redis outage costs latency measured in milliseconds and
// never an error.
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/books-platform/books/app"
)

// Defaults for Options.
const (
	DefaultTTL      = 5 * time.Minute
	DefaultTimeout  = 100 * time.Millisecond
	DefaultCooldown = time.Second
	keyPrefix       = "books:v1:book:"
)

// goredisLogger sends go-redis's own messages (dial failures, …) to slog at
// debug level: outages are reported once by CachedBookService, and the
// library's plain-text lines would break the JSON log stream.
type goredisLogger struct{}

func (goredisLogger) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

func init() { goredis.SetLogger(goredisLogger{}) }

// NewClient parses a redis:// or rediss:// (TLS) URL, e.g.
// rediss://:TOKEN@host:6379/0, and returns a client tuned for a cache that
// must fail fast: short dial/read/write timeouts, no retries, and context
// deadlines honoured.
func NewClient(url string) (*goredis.Client, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		// The URL holds the AUTH token: never echo it.
		return nil, errors.New("redis: REDIS_URL is not a valid redis:// or rediss:// URL")
	}
	opt.DialTimeout = 500 * time.Millisecond
	opt.ReadTimeout = 200 * time.Millisecond
	opt.WriteTimeout = 200 * time.Millisecond
	opt.PoolTimeout = 200 * time.Millisecond
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1   // no retries: the database is the fallback
	opt.DialerRetries = 1 // one dial attempt: a refused connection fails at once
	opt.DisableIdentity = true
	return goredis.NewClient(opt), nil
}

// Options tune CachedBookService.
type Options struct {
	// TTL of a cached book (default DefaultTTL). It bounds how stale an
	// entry can be if an invalidation is lost while Redis is unreachable.
	TTL time.Duration
	// Timeout of each cache call (default DefaultTimeout).
	Timeout time.Duration
	// Cooldown is how long reads skip the cache after a cache error
	// (default DefaultCooldown), so an outage does not add Timeout to every
	// request. Invalidations are always attempted.
	Cooldown time.Duration
	Logger   *slog.Logger
	// Observer, when set, is told the outcome of every cache read.
	Observer Observer
}

// Observer receives one outcome per FindBookByID: a hit (served from the
// cache), a miss (the cache answered without a usable entry) or an error
// (the cache failed, timed out, or was skipped while cooling down after a
// failure). The metrics recorder implements it.
type Observer interface {
	CacheHit()
	CacheMiss()
	CacheError()
}

type noObserver struct{}

func (noObserver) CacheHit()   {}
func (noObserver) CacheMiss()  {}
func (noObserver) CacheError() {}

// CachedBookService caches FindBookByID results (cache-aside) and deletes
// the entry on every successful update or delete before returning, so the
// HTTP response is sent only after the cache is invalidated.
//
// Known window: a read that missed the cache, read the old row, and writes
// it to the cache just after a concurrent writer's invalidation leaves a
// stale entry until TTL. The window is a few milliseconds; TTL bounds it.
type CachedBookService struct {
	inner  books.BookService
	client goredis.UniversalClient
	opt    Options

	downUntil atomic.Int64 // unix nanos; reads bypass the cache until then
	hits      atomic.Int64
	misses    atomic.Int64
}

var _ books.BookService = (*CachedBookService)(nil)

// NewCachedBookService wraps inner with a cache in client.
func NewCachedBookService(inner books.BookService, client goredis.UniversalClient, opt Options) *CachedBookService {
	if opt.TTL <= 0 {
		opt.TTL = DefaultTTL
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.Cooldown <= 0 {
		opt.Cooldown = DefaultCooldown
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Observer == nil {
		opt.Observer = noObserver{}
	}
	return &CachedBookService{inner: inner, client: client, opt: opt}
}

// Key returns the cache key of a book id.
func Key(id string) string { return keyPrefix + id }

// Stats returns the cache hits and misses counted so far.
func (s *CachedBookService) Stats() (hits, misses int64) { return s.hits.Load(), s.misses.Load() }

// FindBookByID serves from the cache when it can, else from inner, and then
// fills the cache. Not-found results are not cached.
func (s *CachedBookService) FindBookByID(ctx context.Context, id string) (*books.Book, error) {
	b, outcome := (*books.Book)(nil), failed // skipped: cooling down after a failure
	if s.available() {
		b, outcome = s.get(ctx, id)
	}
	switch outcome {
	case hit:
		s.hits.Add(1)
		s.opt.Observer.CacheHit()
		return b, nil
	case miss:
		s.opt.Observer.CacheMiss()
	default:
		s.opt.Observer.CacheError()
	}
	s.misses.Add(1)
	b, err := s.inner.FindBookByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.available() {
		s.set(ctx, b)
	}
	return b, nil
}

// FindBooks is not cached (the API gateway's stage cache covers lists).
func (s *CachedBookService) FindBooks(ctx context.Context, f books.BookFilter) (*books.Page, error) {
	return s.inner.FindBooks(ctx, f)
}

// CreateBook needs no invalidation: nothing can be cached under a new id.
func (s *CachedBookService) CreateBook(ctx context.Context, in books.BookInput, by string) (*books.Book, error) {
	return s.inner.CreateBook(ctx, in, by)
}

// UpdateBook updates through inner, then invalidates the entry.
func (s *CachedBookService) UpdateBook(ctx context.Context, id string, in books.BookInput, pre books.Precondition, by string) (*books.Book, error) {
	b, err := s.inner.UpdateBook(ctx, id, in, pre, by)
	if err == nil {
		s.invalidate(ctx, id)
	}
	return b, err
}

// DeleteBook deletes through inner, then invalidates the entry.
func (s *CachedBookService) DeleteBook(ctx context.Context, id string, pre books.Precondition) error {
	err := s.inner.DeleteBook(ctx, id, pre)
	if err == nil || books.ErrorCode(err) == books.ENOTFOUND {
		s.invalidate(ctx, id)
	}
	return err
}

func (s *CachedBookService) available() bool {
	return time.Now().UnixNano() >= s.downUntil.Load()
}

// failed opens the breaker for Cooldown and logs the first failure of an
// outage only, so an outage does not flood the logs.
func (s *CachedBookService) failed(op string, err error) {
	was := s.downUntil.Swap(time.Now().Add(s.opt.Cooldown).UnixNano())
	if time.Now().UnixNano() >= was {
		s.opt.Logger.Warn("cache unavailable; serving from the database", "op", op, "err", err.Error())
	}
}

// readOutcome is what a cache read found.
type readOutcome int

const (
	hit readOutcome = iota
	miss
	failed
)

func (s *CachedBookService) get(ctx context.Context, id string) (*books.Book, readOutcome) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opt.Timeout)
	defer cancel()
	data, err := s.client.Get(ctx, Key(id)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, miss
	}
	if err != nil {
		s.failed("get", err)
		return nil, failed
	}
	var b books.Book
	if err := json.Unmarshal(data, &b); err != nil || b.ID != id {
		// A corrupt or foreign entry: drop it and read the database.
		s.invalidate(ctx, id)
		return nil, miss
	}
	return &b, hit
}

func (s *CachedBookService) set(ctx context.Context, b *books.Book) {
	data, err := json.Marshal(b)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opt.Timeout)
	defer cancel()
	if err := s.client.Set(ctx, Key(b.ID), data, s.opt.TTL).Err(); err != nil {
		s.failed("set", err)
	}
}

// invalidate deletes the entry; it is attempted even while the breaker is
// open, because a missed invalidation is the one way the cache can serve
// stale data (for at most TTL).
func (s *CachedBookService) invalidate(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opt.Timeout)
	defer cancel()
	if err := s.client.Del(ctx, Key(id)).Err(); err != nil {
		s.failed("del", fmt.Errorf("invalidate: %w", err))
	}
}
