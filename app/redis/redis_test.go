package redis_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/books-platform/books/app"
	"github.com/books-platform/books/app/internal/testenv"
	"github.com/books-platform/books/app/redis"
)

// memBooks is an in-memory BookService that counts reads, so the tests can
// tell cache hits from misses.
type memBooks struct {
	mu    sync.Mutex
	books map[string]books.Book
	reads int
}

func newMem() *memBooks { return &memBooks{books: map[string]books.Book{}} }

func (m *memBooks) FindBookByID(_ context.Context, id string) (*books.Book, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	b, ok := m.books[id]
	if !ok {
		return nil, books.Errorf(books.ENOTFOUND, "book not found")
	}
	return &b, nil
}

func (m *memBooks) FindBooks(context.Context, books.BookFilter) (*books.Page, error) {
	return &books.Page{}, nil
}

func (m *memBooks) CreateBook(_ context.Context, in books.BookInput, by string) (*books.Book, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now().UTC()
	b := books.Book{ID: uuid.NewString(), Title: in.Title, Author: in.Author, Year: in.Year, CreatedAt: now, UpdatedAt: now, Version: 1, CreatedBy: by, UpdatedBy: by}
	m.books[b.ID] = b
	return &b, nil
}

func (m *memBooks) UpdateBook(_ context.Context, id string, in books.BookInput, pre books.Precondition, by string) (*books.Book, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.books[id]
	if !ok {
		return nil, books.Errorf(books.ENOTFOUND, "book not found")
	}
	if !pre.Matches(b.Version) {
		return nil, books.Errorf(books.EPRECONDITION, "stale")
	}
	b.Title, b.Author, b.Year, b.Version, b.UpdatedBy = in.Title, in.Author, in.Year, b.Version+1, by
	m.books[id] = b
	return &b, nil
}

func (m *memBooks) DeleteBook(_ context.Context, id string, pre books.Precondition) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.books[id]
	if !ok {
		return books.Errorf(books.ENOTFOUND, "book not found")
	}
	if !pre.Matches(b.Version) {
		return books.Errorf(books.EPRECONDITION, "stale")
	}
	delete(m.books, id)
	return nil
}

func (m *memBooks) readCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads
}

// pausingBooks signals read after its first FindBookByID has read the
// row, and returns only when resume is closed: a reader overtaken by a
// writer between its database read and its cache fill.
type pausingBooks struct {
	*memBooks
	once         sync.Once
	read, resume chan struct{}
}

func (p *pausingBooks) FindBookByID(ctx context.Context, id string) (*books.Book, error) {
	b, err := p.memBooks.FindBookByID(ctx, id)
	p.once.Do(func() {
		close(p.read)
		<-p.resume
	})
	return b, err
}

// breakingBooks sets after once an update has reached the store: the
// cache connection fails from then on (see failingHook).
type breakingBooks struct {
	*memBooks
	after *atomic.Bool
}

func (b *breakingBooks) UpdateBook(ctx context.Context, id string, in books.BookInput, pre books.Precondition, by string) (*books.Book, error) {
	bk, err := b.memBooks.UpdateBook(ctx, id, in, pre, by)
	b.after.Store(true)
	return bk, err
}

// failingHook fails every command while broken is set, as a Redis that
// became unreachable does.
type failingHook struct{ broken *atomic.Bool }

func (h failingHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h failingHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if h.broken.Load() {
			cmd.SetErr(errors.New("injected: connection lost"))
			return cmd.Err()
		}
		return next(ctx, cmd)
	}
}
func (h failingHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func client(t testing.TB, url string) *goredis.Client {
	t.Helper()
	c, err := redis.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCachedBookService(t *testing.T) {
	ctx := context.Background()
	rc := client(t, testenv.RedisURL())
	if err := rc.Ping(ctx).Err(); err != nil {
		t.Fatalf("shared Redis at %s not reachable (set BOOKS_TEST_REDIS_URL): %v", testenv.RedisURL(), err)
	}
	setup := func(t *testing.T) (*memBooks, *redis.CachedBookService, *books.Book) {
		mem := newMem()
		s := redis.NewCachedBookService(mem, rc, redis.Options{TTL: time.Minute, Logger: quiet})
		b, _ := s.CreateBook(ctx, books.BookInput{Title: "t", Author: "a", Year: 2000}, "")
		t.Cleanup(func() {
			if k := s.Key(b.ID); k != "" {
				rc.Del(ctx, k)
			}
		})
		return mem, s, b
	}

	t.Run("HitAfterMiss", func(t *testing.T) {
		mem, s, b := setup(t)
		for range 3 {
			got, err := s.FindBookByID(ctx, b.ID)
			if err != nil || *got != *b {
				t.Fatalf("find: %v %+v", err, got)
			}
		}
		if mem.readCount() != 1 {
			t.Fatalf("database read %d times, want 1", mem.readCount())
		}
		if ttl := rc.TTL(ctx, s.Key(b.ID)).Val(); ttl <= 0 || ttl > time.Minute {
			t.Fatalf("cache entry TTL = %v", ttl)
		}
		if hits, misses := s.Stats(); hits != 2 || misses != 1 || s.Errors() != 0 {
			t.Fatalf("hits/misses/errors = %d/%d/%d", hits, misses, s.Errors())
		}
	})

	t.Run("UpdateInstallsNewVersion", func(t *testing.T) {
		mem, s, b := setup(t)
		if _, err := s.FindBookByID(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateBook(ctx, b.ID, books.BookInput{Title: "new", Author: "a", Year: 2000}, books.Precondition{}, ""); err != nil {
			t.Fatal(err)
		}
		reads := mem.readCount()
		got, _ := s.FindBookByID(ctx, b.ID)
		if got.Title != "new" || got.Version != 2 {
			t.Fatalf("read after update: %+v", got)
		}
		if mem.readCount() != reads {
			t.Fatal("the read after the update went to the database: the write did not install its version")
		}
	})

	t.Run("FailedUpdateLeavesNoEntry", func(t *testing.T) {
		mem, s, b := setup(t)
		if _, err := s.FindBookByID(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.UpdateBook(ctx, b.ID, books.BookInput{Title: "new", Author: "a", Year: 2000}, books.Precondition{Versions: []int64{9}}, "")
		if books.ErrorCode(err) != books.EPRECONDITION {
			t.Fatalf("update: %v", err)
		}
		if n := rc.Exists(ctx, s.Key(b.ID)).Val(); n != 0 {
			t.Fatal("an entry survived a 412: a client retrying GET + PUT could keep reading it")
		}
		reads := mem.readCount()
		for range 2 { // refilled from the database, then a hit
			if _, err := s.FindBookByID(ctx, b.ID); err != nil {
				t.Fatal(err)
			}
		}
		if mem.readCount() != reads+1 {
			t.Fatalf("database reads after the 412: %d, want 1", mem.readCount()-reads)
		}
	})

	t.Run("FillNeverReplacesNewerVersion", func(t *testing.T) {
		mem, _, b := setup(t)
		slow := &pausingBooks{memBooks: mem, read: make(chan struct{}), resume: make(chan struct{})}
		s := redis.NewCachedBookService(slow, rc, redis.Options{TTL: time.Minute, Logger: quiet})
		got := make(chan *books.Book)
		go func() {
			r, _ := s.FindBookByID(ctx, b.ID) // misses, reads version 1, waits
			got <- r
		}()
		<-slow.read
		if _, err := s.UpdateBook(ctx, b.ID, books.BookInput{Title: "v2", Author: "a", Year: 2000}, books.Precondition{}, ""); err != nil {
			t.Fatal(err)
		}
		close(slow.resume) // the slow reader now tries to fill version 1
		if r := <-got; r.Version != 1 {
			t.Fatalf("the slow read returned version %d", r.Version)
		}
		after, err := s.FindBookByID(ctx, b.ID)
		if err != nil || after.Version != 2 {
			t.Fatalf("read after the update returned %+v, %v; want version 2", after, err)
		}
	})

	t.Run("InstallFailureLeavesNoStaleEntry", func(t *testing.T) {
		// Instance A loses Redis between its database write and its
		// install; instance B (Redis fine) must not serve the old version.
		mem, b2, b := setup(t)
		if _, err := b2.FindBookByID(ctx, b.ID); err != nil { // B caches version 1
			t.Fatal(err)
		}
		var broken atomic.Bool
		ac := client(t, testenv.RedisURL())
		ac.AddHook(failingHook{&broken})
		a := redis.NewCachedBookService(&breakingBooks{memBooks: mem, after: &broken}, ac, redis.Options{TTL: time.Minute, Logger: quiet})
		if _, err := a.UpdateBook(ctx, b.ID, books.BookInput{Title: "v2", Author: "a", Year: 2000}, books.Precondition{}, ""); err != nil {
			t.Fatal(err)
		}
		got, err := b2.FindBookByID(ctx, b.ID)
		if err != nil || got.Version != 2 {
			t.Fatalf("instance B read %+v, %v after A's write returned; want version 2", got, err)
		}
	})

	t.Run("DeleteInstallsTombstone", func(t *testing.T) {
		mem, s, b := setup(t)
		if _, err := s.FindBookByID(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteBook(ctx, b.ID, books.Precondition{}); err != nil {
			t.Fatal(err)
		}
		reads := mem.readCount()
		if _, err := s.FindBookByID(ctx, b.ID); books.ErrorCode(err) != books.ENOTFOUND {
			t.Fatalf("read after delete: %v", err)
		}
		if mem.readCount() != reads {
			t.Fatal("the read after the delete went to the database: no tombstone")
		}
	})

	t.Run("FindBookJSONIsTheEncodedBook", func(t *testing.T) {
		mem, s, b := setup(t)
		want, _ := json.Marshal(b)
		for i := range 2 { // the miss (from the store), then the hit (stored bytes)
			data, version, err := s.FindBookJSON(ctx, b.ID)
			if err != nil || string(data) != string(want) || version != b.Version {
				t.Fatalf("read %d: %s, %d, %v; want %s", i, data, version, err, want)
			}
		}
		if mem.readCount() != 1 {
			t.Fatalf("database reads = %d, want 1", mem.readCount())
		}
		if err := s.DeleteBook(ctx, b.ID, books.Precondition{}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.FindBookJSON(ctx, b.ID); books.ErrorCode(err) != books.ENOTFOUND {
			t.Fatalf("after delete: %v", err)
		}
	})

	t.Run("NotFoundIsNotCached", func(t *testing.T) {
		mem, s, _ := setup(t)
		id := uuid.NewString()
		for range 2 {
			if _, err := s.FindBookByID(ctx, id); books.ErrorCode(err) != books.ENOTFOUND {
				t.Fatalf("find: %v", err)
			}
		}
		if mem.readCount() != 2 {
			t.Fatalf("database reads = %d, want 2", mem.readCount())
		}
	})

	t.Run("CorruptEntryFallsBackToDatabase", func(t *testing.T) {
		_, s, b := setup(t)
		if _, err := s.FindBookByID(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		rc.Set(ctx, s.Key(b.ID), "D1|{not json", time.Minute)
		got, err := s.FindBookByID(ctx, b.ID)
		if err != nil || got.ID != b.ID {
			t.Fatalf("find: %v %+v", err, got)
		}
	})
}

// TestCachedBookService_RedisOutage stops a private redis-server mid-test:
// reads and writes keep working from the database with bounded latency, and
// the cache is used again once Redis is back.
func TestCachedBookService_RedisOutage(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t)
	mem := newMem()
	s := redis.NewCachedBookService(mem, client(t, srv.URL()), redis.Options{TTL: time.Minute, Timeout: 100 * time.Millisecond, Cooldown: 200 * time.Millisecond, Logger: quiet})
	b, _ := s.CreateBook(ctx, books.BookInput{Title: "t", Author: "a", Year: 2000}, "")
	if _, err := s.FindBookByID(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindBookByID(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if hits, _ := s.Stats(); hits != 1 {
		t.Fatalf("cache not working before the outage: hits = %d", hits)
	}

	srv.Stop()

	t.Run("ReadsServedFromDatabase", func(t *testing.T) {
		for i := range 20 {
			start := time.Now()
			got, err := s.FindBookByID(ctx, b.ID)
			if err != nil || got.ID != b.ID {
				t.Fatalf("read %d during outage: %v", i, err)
			}
			if d := time.Since(start); d > 300*time.Millisecond {
				t.Fatalf("read %d took %v during the outage", i, d)
			}
		}
	})
	t.Run("WritesSucceed", func(t *testing.T) {
		start := time.Now()
		u, err := s.UpdateBook(ctx, b.ID, books.BookInput{Title: "during outage", Author: "a", Year: 2000}, books.Precondition{}, "")
		if err != nil || u.Title != "during outage" {
			t.Fatalf("update during outage: %v", err)
		}
		if d := time.Since(start); d > 300*time.Millisecond {
			t.Fatalf("update took %v during the outage", d)
		}
		got, err := s.FindBookByID(ctx, b.ID)
		if err != nil || got.Title != "during outage" {
			t.Fatalf("read after update: %v %+v", err, got)
		}
	})
	t.Run("CacheResumesAfterRestart", func(t *testing.T) {
		srv.Start()
		time.Sleep(300 * time.Millisecond) // past the cooldown
		hitsBefore, _ := s.Stats()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := s.FindBookByID(ctx, b.ID); err != nil {
				t.Fatal(err)
			}
			if hits, _ := s.Stats(); hits > hitsBefore {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatal("no cache hit within 5 s after Redis came back")
	})
}

// TestCachedBookService_UnresponsiveRedis points the cache at a server that
// accepts connections and never answers (a hung or overloaded Redis): every
// call is cut at the timeout, nothing fails, and reads skip the cache during
// the cooldown instead of paying the timeout each time.
func TestCachedBookService_UnresponsiveRedis(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()

	mem := newMem()
	s := redis.NewCachedBookService(mem, client(t, "redis://"+ln.Addr().String()), redis.Options{Timeout: 50 * time.Millisecond, Cooldown: time.Minute, Logger: quiet})
	b, _ := s.CreateBook(ctx, books.BookInput{Title: "t", Author: "a", Year: 2000}, "")

	t.Run("FirstReadBoundedByTimeout", func(t *testing.T) {
		start := time.Now()
		if _, err := s.FindBookByID(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 250*time.Millisecond {
			t.Fatalf("took %v with a 50ms cache timeout", d)
		}
	})
	t.Run("LaterReadsSkipTheCache", func(t *testing.T) {
		start := time.Now()
		for range 20 {
			if _, err := s.FindBookByID(ctx, b.ID); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Fatalf("20 reads took %v: the breaker did not skip the hung cache", d)
		}
	})
	t.Run("WritesBoundedByTimeout", func(t *testing.T) {
		start := time.Now()
		if _, err := s.UpdateBook(ctx, b.ID, books.BookInput{Title: "u", Author: "a", Year: 2000}, books.Precondition{}, ""); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 250*time.Millisecond {
			t.Fatalf("update took %v", d)
		}
	})
}
