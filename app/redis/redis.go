// Package redis is the Redis adapter: a coherent cache in front of any
// books.BookService. Entries carry the book's version; writers install their
// new version (a delete installs a tombstone) atomically, and a fill from a
// read can never replace a newer version, so once a write has returned no
// read that starts later returns an older version, on any instance sharing
// the Redis server (scripts.go has the protocol, epoch.go the detection of
// a server that lost writes).
//
// The cache is an optimisation only: every cache call has a short deadline,
// and any cache failure falls through to the wrapped service, so a Redis
// outage costs latency measured in milliseconds and never an error.
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
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
	// DefaultNearEntries is the near tier's size in the app: about 2.5 MB
	// of 250-byte books, 50 MB at worst (every title and author at its
	// maxLength, all escapes).
	DefaultNearEntries = 10_000
	keyPrefix          = "books:v2:"

	// leaseTTL bounds how long a reader that missed may take to fill the
	// entry from the database; a later fill is refused (a miss, never stale).
	leaseTTL = 3 * time.Second
	// pendingMargin is added to a write's deadline for its in-flight mark,
	// so the mark outlives the write and its install.
	pendingMargin = 2 * time.Second
	// pendingDefault is the in-flight mark of a write without a deadline.
	pendingDefault = 30 * time.Second
	// tombstoneVersion ranks a delete above every version (2^53: exact in
	// Lua's doubles, far above any real version).
	tombstoneVersion = "9007199254740992"
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
// deadlines honoured. Every new connection runs CheckServer first (the
// detection of a restarted or failed-over server that CachedBookService
// relies on), so build the cache's client with this function.
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
	opt.OnConnect = CheckServer
	return goredis.NewClient(opt), nil
}

// Options tune CachedBookService.
type Options struct {
	// TTL of a cached book (default DefaultTTL). Coherence does not depend
	// on it; it bounds memory use and the one residual case described on
	// CachedBookService.
	TTL time.Duration
	// Timeout of each cache call (default DefaultTimeout).
	Timeout time.Duration
	// Cooldown is how long reads skip the cache after a cache error
	// (default DefaultCooldown), so an outage does not add Timeout to every
	// request. Writes always talk to the cache.
	Cooldown time.Duration
	Logger   *slog.Logger
	// Observer, when set, is told the outcome of every cache read.
	Observer Observer
	// NearEntries is how many books this process keeps in its own memory
	// in front of Redis (0: none). The near tier is as coherent as Redis
	// (see near.go); it needs a *goredis.Client from NewClient and a server
	// with RESP3 client tracking (Redis OSS 6.0+, Valkey). Call Close to
	// stop its connection.
	NearEntries int
}

// Observer receives one outcome per FindBookByID: a hit (served from the
// cache: a book, or a deleted book's tombstone), a miss (read from the
// database: no entry, or a write in flight) or an error (the cache failed,
// timed out, or was skipped while cooling down after a failure). The
// metrics recorder implements it.
type Observer interface {
	CacheHit()
	CacheMiss()
	CacheError()
}

type noObserver struct{}

func (noObserver) CacheHit()   {}
func (noObserver) CacheMiss()  {}
func (noObserver) CacheError() {}

// outcome is how a read went in the cache.
type outcome int

const (
	hit outcome = iota
	miss
	failure
)

// CachedBookService caches FindBookByID results coherently:
//
//   - A read that finds a versioned entry serves it. A read that finds the
//     key empty takes a lease, reads the database and fills the entry only
//     if its lease is still there.
//   - A write first marks the book as written (deleting the entry and any
//     lease), then writes the database, then installs its version (or a
//     tombstone) unless a newer one is already there. While a write is in
//     flight reads go to the database and fills are refused, so a write
//     whose install fails (Redis timed out, the task died) leaves the entry
//     absent rather than stale. A 412 removes the mark and leaves the entry
//     absent: the next read fills it from the database.
//   - Each new connection checks the server's run_id; a restarted,
//     restored or promoted server gets a new epoch and earlier entries are
//     never read again.
//
// Residual case: if this instance cannot reach Redis both before and after
// its database write (while other instances can), the others may serve the
// previous version until the entry's TTL; the write still succeeds.
type CachedBookService struct {
	inner  books.BookService
	client goredis.UniversalClient
	opt    Options

	epoch   atomic.Pointer[epoch]
	epochMu sync.Mutex
	tokenID string        // this instance's part of lease and writer tokens
	tokens  atomic.Uint64 // and the counter part

	near     *near    // nil without a near tier
	tracker  *tracker // the near tier's connection
	nearHits atomic.Int64

	downUntil atomic.Int64 // unix nanos; reads bypass the cache until then
	nearDown  atomic.Int64 // unix nanos; the tracking connection's outage is logged until then
	hits      atomic.Int64
	misses    atomic.Int64
	errors    atomic.Int64
}

var (
	_ books.BookService    = (*CachedBookService)(nil)
	_ books.BookJSONFinder = (*CachedBookService)(nil)
)

// NewCachedBookService wraps inner with a cache in client, which must come
// from NewClient (or have CheckServer as its OnConnect hook).
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
	s := &CachedBookService{inner: inner, client: client, opt: opt, tokenID: nonce()}
	if opt.NearEntries > 0 {
		c, ok := client.(*goredis.Client)
		if !ok {
			opt.Logger.Warn("near cache off: it needs a standalone client", "client", fmt.Sprintf("%T", client))
			return s
		}
		n := newNear(opt.NearEntries)
		t, err := newTracker(c.Options(), n, opt.Timeout, s.trackingFailed)
		if err != nil {
			opt.Logger.Warn("near cache off", "err", err.Error())
			return s
		}
		s.near, s.tracker = n, t
	}
	return s
}

// Key returns the key of a book's entry in the current epoch ("" before
// the service has talked to Redis).
func (s *CachedBookService) Key(id string) string {
	if e := s.epoch.Load(); e != nil {
		return e.prefix + "book:" + id
	}
	return ""
}

// Stats returns the cache hits and misses counted so far.
func (s *CachedBookService) Stats() (hits, misses int64) { return s.hits.Load(), s.misses.Load() }

// Errors returns how many reads the cache failed (or skipped) so far.
func (s *CachedBookService) Errors() int64 { return s.errors.Load() }

func (s *CachedBookService) observe(o outcome) {
	switch o {
	case hit:
		s.hits.Add(1)
		s.opt.Observer.CacheHit()
	case miss:
		s.misses.Add(1)
		s.opt.Observer.CacheMiss()
	default:
		s.errors.Add(1)
		s.opt.Observer.CacheError()
	}
}

// FindBookByID serves from the cache when it can, else from inner.
// Not-found results are not cached (a deleted book's tombstone is).
func (s *CachedBookService) FindBookByID(ctx context.Context, id string) (*books.Book, error) {
	entry, b, err := s.find(ctx, id)
	if err != nil || b != nil {
		return b, err
	}
	if b, ok := decodeEntry(entry, id); ok {
		return b, nil
	}
	s.dropCorrupt(ctx, id)
	return s.inner.FindBookByID(ctx, id)
}

// FindBookJSON is FindBookByID for the HTTP adapter (books.BookJSONFinder):
// a hit returns the stored JSON as it is, without decoding it.
func (s *CachedBookService) FindBookJSON(ctx context.Context, id string) ([]byte, int64, error) {
	entry, b, err := s.find(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	if b == nil {
		version, data, ok := splitEntry(entry, id)
		if ok {
			return data, version, nil
		}
		s.dropCorrupt(ctx, id)
		if b, err = s.inner.FindBookByID(ctx, id); err != nil {
			return nil, 0, err
		}
	}
	data, err := json.Marshal(b)
	return data, b.Version, err
}

// find reads id: a hit answers the entry ("D<version>|<json>"), anything
// else the book read from inner (filling the entry when this read holds
// the lease), or inner's error.
func (s *CachedBookService) find(ctx context.Context, id string) (string, *books.Book, error) {
	if !s.available() {
		s.observe(failure)
		b, err := s.inner.FindBookByID(ctx, id)
		return "", b, err
	}
	if v, ok := s.nearFind(ctx, id); ok {
		return s.served(v)
	}
	token := s.near.reserve(id)
	res, err := s.peek(ctx, id)
	if err == nil && res == "" {
		lease := s.token()
		if res, err = s.eval(ctx, readScript, id, lease, leaseTTL.Milliseconds()); err == nil && res == "M" {
			res = "M" + lease
		}
	}
	if err != nil {
		s.near.cancel(id, token)
		s.failed("read", err)
		s.observe(failure)
		b, err := s.inner.FindBookByID(ctx, id)
		return "", b, err
	}
	if res[0] == 'D' || res[0] == 'T' {
		s.near.fulfill(id, token, res)
		return s.served(res)
	}
	s.near.cancel(id, token)
	s.observe(miss)
	b, err := s.inner.FindBookByID(ctx, id)
	if lease, ok := strings.CutPrefix(res, "M"); ok && err == nil {
		if _, err := s.eval(ctx, fillScript, id, lease, encodeEntry(b), s.opt.TTL.Milliseconds()); err != nil {
			s.failed("fill", err)
		}
	}
	return "", b, err
}

// served answers a hit: a book entry as it is, a tombstone as not found.
func (s *CachedBookService) served(entry string) (string, *books.Book, error) {
	s.observe(hit)
	if entry[0] == 'T' {
		return "", nil, books.Errorf(books.ENOTFOUND, "book not found")
	}
	return entry, nil, nil
}

// peek is the fast path of a read: one MGET of the epoch key and the entry,
// no script. It answers a book or tombstone entry when the epoch is the one
// this instance uses, else "" (the read script decides). An entry that
// holds a book implies that no writer is in flight (a mark deletes the
// entry, and nothing is stored while a writer is pending), so the script's
// pending check adds nothing here.
func (s *CachedBookService) peek(ctx context.Context, id string) (string, error) {
	e := s.epoch.Load()
	if e == nil {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opt.Timeout)
	defer cancel()
	vals, err := s.client.MGet(ctx, epochKey, e.prefix+"book:"+id).Result()
	if err != nil || len(vals) != 2 {
		return "", err
	}
	if cur, _ := vals[0].(string); cur != e.full {
		return "", nil
	}
	if v, _ := vals[1].(string); v != "" && (v[0] == 'D' || v[0] == 'T') {
		return v, nil
	}
	return "", nil
}

// FindBooks is not cached (the API gateway's stage cache covers lists).
func (s *CachedBookService) FindBooks(ctx context.Context, f books.BookFilter) (*books.Page, error) {
	return s.inner.FindBooks(ctx, f)
}

// CreateBook needs no cache work: nothing can be cached under a new id.
func (s *CachedBookService) CreateBook(ctx context.Context, in books.BookInput, by string) (*books.Book, error) {
	return s.inner.CreateBook(ctx, in, by)
}

// UpdateBook marks the book, updates through inner, and installs the new
// version before returning (so the response is sent only after the cache
// holds it or holds nothing).
func (s *CachedBookService) UpdateBook(ctx context.Context, id string, in books.BookInput, pre books.Precondition, by string) (*books.Book, error) {
	token := s.mark(ctx, id)
	b, err := s.inner.UpdateBook(ctx, id, in, pre, by)
	switch {
	case err == nil:
		s.install(ctx, id, token, strconv.FormatInt(b.Version, 10), encodeEntry(b))
	case books.ErrorCode(err) == books.ENOTFOUND:
		s.install(ctx, id, token, tombstoneVersion, "T")
	default:
		s.settle(ctx, id, token, err)
	}
	return b, err
}

// DeleteBook marks the book, deletes through inner, and installs a
// tombstone (also when the book was already gone).
func (s *CachedBookService) DeleteBook(ctx context.Context, id string, pre books.Precondition) error {
	token := s.mark(ctx, id)
	err := s.inner.DeleteBook(ctx, id, pre)
	if err == nil || books.ErrorCode(err) == books.ENOTFOUND {
		s.install(ctx, id, token, tombstoneVersion, "T")
	} else {
		s.settle(ctx, id, token, err)
	}
	return err
}

// mark registers a write in flight; it is attempted even while the breaker
// is open, because it is what keeps a failed install from leaving a stale
// entry. Its lifetime covers the write's deadline.
func (s *CachedBookService) mark(ctx context.Context, id string) string {
	// Redis's invalidation will say the same; this instance's own readers
	// need not wait for it.
	s.near.drop(id)
	token := s.token()
	ttl := pendingDefault
	if d, ok := ctx.Deadline(); ok {
		ttl = time.Until(d) + pendingMargin
	}
	if _, err := s.eval(ctx, markScript, id, token, max(ttl, pendingMargin).Milliseconds()); err != nil {
		s.failed("mark", err)
	}
	return token
}

func (s *CachedBookService) install(ctx context.Context, id, token, version, value string) {
	if _, err := s.eval(ctx, installScript, id, token, version, value, s.opt.TTL.Milliseconds()); err != nil {
		s.failed("install", err)
	}
}

// settle ends a write that failed. When the database certainly did not
// change (a 412 or invalid input) the mark is removed at once; otherwise
// (a timeout: the write may have committed) it is left to expire, and
// reads keep going to the database until then.
func (s *CachedBookService) settle(ctx context.Context, id, token string, err error) {
	if c := books.ErrorCode(err); c != books.EPRECONDITION && c != books.EINVALID {
		return
	}
	if _, err := s.eval(ctx, releaseScript, id, token); err != nil {
		s.failed("release", err)
	}
}

// eval runs a script on id's keys in the current epoch, with the cache
// timeout, and moves to the server's new epoch once if it answers "E".
func (s *CachedBookService) eval(ctx context.Context, script *goredis.Script, id string, args ...any) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opt.Timeout)
	defer cancel()
	e, err := s.currentEpoch(ctx)
	if err != nil {
		return "", err
	}
	argv := append([]any{e.full}, args...)
	for retried := false; ; retried = true {
		keys := []string{epochKey, e.prefix + "book:" + id, e.prefix + "pending:" + id}
		res, err := script.Run(ctx, s.client, keys, argv...).Text()
		if err != nil {
			return "", err
		}
		if res == "" {
			return "", errors.New("empty script reply")
		}
		if res != "E" {
			return res, nil
		}
		if retried {
			return "", errors.New("the cache epoch changed twice during one call")
		}
		if e, err = s.refreshEpoch(ctx, e); err != nil {
			return "", err
		}
		argv[0] = e.full
	}
}

func (s *CachedBookService) token() string {
	return s.tokenID + strconv.FormatUint(s.tokens.Add(1), 36)
}

// encodeEntry is "D<version>|<book JSON>".
func encodeEntry(b *books.Book) string {
	data, err := json.Marshal(b)
	if err != nil { // a Book always marshals
		panic(err)
	}
	return "D" + strconv.FormatInt(b.Version, 10) + "|" + string(data)
}

// splitEntry returns the version and the JSON of an entry, after checking
// its header and that the JSON is the book asked for (json.Marshal of a
// Book starts with its id).
func splitEntry(v, id string) (int64, []byte, bool) {
	sep := strings.IndexByte(v, '|')
	if sep < 2 || v[0] != 'D' {
		return 0, nil, false
	}
	version, err := strconv.ParseInt(v[1:sep], 10, 64)
	data := v[sep+1:]
	const open = `{"id":"`
	if err != nil || len(data) < len(open)+len(id)+1 || data[:len(open)] != open ||
		data[len(open):len(open)+len(id)] != id || data[len(open)+len(id)] != '"' {
		return 0, nil, false
	}
	return version, []byte(data), true
}

// decodeEntry parses an entry and checks that it is the book asked for, at
// the version its header says.
func decodeEntry(v, id string) (*books.Book, bool) {
	version, data, ok := splitEntry(v, id)
	if !ok {
		return nil, false
	}
	var b books.Book
	if err := json.Unmarshal(data, &b); err != nil || b.ID != id || b.Version != version {
		return nil, false
	}
	return &b, true
}

// dropCorrupt deletes an entry that does not decode (deleting an entry
// never makes the cache serve older data).
func (s *CachedBookService) dropCorrupt(ctx context.Context, id string) {
	key := s.Key(id)
	if key == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opt.Timeout)
	defer cancel()
	if err := s.client.Del(ctx, key).Err(); err != nil {
		s.failed("del", err)
	}
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
