package redis_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/books-platform/books/app"
	"github.com/books-platform/books/app/internal/testenv"
	"github.com/books-platform/books/app/redis"
)

// countingHook counts the commands a client sends.
type countingHook struct{ n *atomic.Int64 }

func (h countingHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h countingHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h countingHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func nearService(t *testing.T, inner books.BookService, redisURL string, opt redis.Options) (*redis.CachedBookService, *atomic.Int64) {
	t.Helper()
	c := client(t, redisURL)
	var n atomic.Int64
	c.AddHook(countingHook{&n})
	if opt.Logger == nil {
		opt.Logger = quiet
	}
	if opt.NearEntries == 0 {
		opt.NearEntries = 100
	}
	if opt.Timeout == 0 {
		opt.Timeout = 2 * time.Second
	}
	s := redis.NewCachedBookService(inner, c, opt)
	t.Cleanup(func() { s.Close() })
	waitTracking(t, s)
	return s, &n
}

// waitTracking waits until s's tracking connection is up (it connects in
// the background).
func waitTracking(t *testing.T, s *redis.CachedBookService) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !s.NearTracking(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the near tier's tracking connection did not come up in 10 s")
		}
	}
}

// warmNear reads id until s serves it from its near tier. The first reads
// fill Redis, then the near tier; a fill is refused while the
// invalidation of the previous step (the fill's own SET) is still on its
// way, so this can take one read more than two.
func warmNear(t *testing.T, s *redis.CachedBookService, id string) {
	t.Helper()
	for range 50 {
		if memoryHits(t, s, id) > 0 {
			return
		}
	}
	t.Fatal("50 reads did not get the book into the near tier")
}

// memoryHits reads each id once and returns how many of the reads the near
// tier served.
func memoryHits(t *testing.T, s *redis.CachedBookService, ids ...string) int64 {
	t.Helper()
	before, _ := s.NearStats()
	for _, id := range ids {
		mustFind(t, s, id)
	}
	after, _ := s.NearStats()
	return after - before
}

func mustFind(t *testing.T, s *redis.CachedBookService, id string) *books.Book {
	t.Helper()
	b, err := s.FindBookByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNearServesHitsWithoutRedisCommands: once a book is in the near tier,
// reads of it send no command on the cache's client (the barrier's PING
// goes over the tracking connection, shared by concurrent reads).
func TestNearServesHitsWithoutRedisCommands(t *testing.T) {
	mem := newMem()
	s, cmds := nearService(t, mem, testenv.RedisURL(), redis.Options{})
	b, err := s.CreateBook(context.Background(), books.BookInput{Title: "t", Author: "a", Year: 2000}, "")
	if err != nil {
		t.Fatal(err)
	}
	warmNear(t, s, b.ID)
	hits0, _ := s.NearStats()
	before, reads := cmds.Load(), mem.readCount()
	for range 100 {
		if got := mustFind(t, s, b.ID); got.Version != b.Version || got.Title != "t" {
			t.Fatalf("near hit returned %+v", got)
		}
	}
	if n := cmds.Load() - before; n != 0 {
		t.Errorf("100 near hits sent %d commands on the cache client, want 0", n)
	}
	if n := mem.readCount() - reads; n != 0 {
		t.Errorf("100 near hits read the database %d times", n)
	}
	if hits, entries := s.NearStats(); hits-hits0 != 100 || entries != 1 {
		t.Errorf("NearStats = %d hits, %d entries; want %d, 1", hits, entries, hits0+100)
	}
	data, version, err := s.FindBookJSON(context.Background(), b.ID)
	if err != nil || version != b.Version || !strings.HasPrefix(string(data), `{"id":"`+b.ID+`"`) {
		t.Errorf("FindBookJSON from the near tier = %q, %d, %v", data, version, err)
	}
}

// TestNearSeesEveryWrite: a write on one instance, or any change of the key
// by anyone, is seen by the next read on another instance that holds the
// book in its near tier — no sleeps: the barrier is what makes it so.
func TestNearSeesEveryWrite(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	a, _ := nearService(t, mem, testenv.RedisURL(), redis.Options{})
	b, _ := nearService(t, mem, testenv.RedisURL(), redis.Options{})
	bk, err := a.CreateBook(ctx, books.BookInput{Title: "v", Author: "a", Year: 2000}, "")
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 300
	stale := 0
	for i := range rounds {
		mustFind(t, b, bk.ID)
		mustFind(t, b, bk.ID) // in b's near tier now (or refused: a miss, never stale)
		w := a
		if i%2 == 1 {
			w = b // the reader's own writes too
		}
		nb, err := w.UpdateBook(ctx, bk.ID, books.BookInput{Title: "v", Author: "a", Year: 2000 + i%20}, books.Precondition{}, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := mustFind(t, b, bk.ID); got.Version < nb.Version {
			stale++
		}
	}
	hits, _ := b.NearStats()
	t.Logf("%d write-then-read rounds: %d stale reads, %d near hits", rounds, stale, hits)
	if stale > 0 {
		t.Errorf("%d of %d reads after a completed write returned an older version", stale, rounds)
	}
	if hits == 0 {
		t.Error("the near tier served nothing: the test did not exercise it")
	}

	// A change made outside the service (an operator's DEL).
	warmNear(t, b, bk.ID)
	admin := client(t, testenv.RedisURL())
	if err := admin.Del(ctx, b.Key(bk.ID)).Err(); err != nil {
		t.Fatal(err)
	}
	if memoryHits(t, b, bk.ID) != 0 {
		t.Error("a read after the entry was deleted in Redis was served by the near tier")
	}
}

// TestNearTrackingConnectionLost: invalidations sent while the tracking
// connection is down are lost, so the near tier must not serve anything it
// held before; it serves again once a new connection tracks.
func TestNearTrackingConnectionLost(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t)
	mem := newMem()
	a, _ := nearService(t, mem, srv.URL(), redis.Options{})
	b, _ := nearService(t, mem, srv.URL(), redis.Options{})
	admin := client(t, srv.URL())
	bk, err := a.CreateBook(ctx, books.BookInput{Title: "v1", Author: "a", Year: 2000}, "")
	if err != nil {
		t.Fatal(err)
	}
	warmNear(t, b, bk.ID)
	// Kill every tracking connection (flag t in CLIENT LIST), then write:
	// b's invalidation for this write has nowhere to go.
	killed := killTracking(t, admin)
	if killed < 2 || killed%2 != 0 {
		t.Fatalf("killed %d tracking connections, want the same number (at least one) per instance", killed)
	}
	nb, err := a.UpdateBook(ctx, bk.ID, books.BookInput{Title: "v2", Author: "a", Year: 2000}, books.Precondition{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := mustFind(t, b, bk.ID); got.Version != nb.Version {
		t.Fatalf("read after the tracking connection died: version %d, want %d", got.Version, nb.Version)
	}
	// A new connection tracks again and the near tier resumes.
	deadline := time.Now().Add(10 * time.Second)
	for memoryHits(t, b, bk.ID) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the near tier did not resume within 10 s of the connection loss")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// killTracking kills the connections that have tracking on and returns how
// many it killed.
func killTracking(t *testing.T, admin *goredis.Client) int {
	t.Helper()
	list, err := admin.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		var id, flags string
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "id="); ok {
				id = v
			}
			if v, ok := strings.CutPrefix(f, "flags="); ok {
				flags = v
			}
		}
		if strings.Contains(flags, "t") {
			if err := admin.Do(context.Background(), "CLIENT", "KILL", "ID", id).Err(); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

// TestNearBounded: the near tier holds at most NearEntries books.
func TestNearBounded(t *testing.T) {
	mem := newMem()
	s, _ := nearService(t, mem, testenv.RedisURL(), redis.Options{NearEntries: 5})
	for range 20 {
		b, err := s.CreateBook(context.Background(), books.BookInput{Title: "t", Author: "a", Year: 2000}, "")
		if err != nil {
			t.Fatal(err)
		}
		mustFind(t, s, b.ID)
		mustFind(t, s, b.ID)
		if _, n := s.NearStats(); n > 5 {
			t.Fatalf("near tier holds %d entries, bound 5", n)
		}
	}
	if _, n := s.NearStats(); n == 0 {
		t.Error("near tier holds nothing")
	}
	// Close stops the tier (the app defers it; tests close again in
	// Cleanup): nothing served from memory after it, and twice is fine.
	for range 2 {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if s.NearTracking() {
		t.Error("tracking still up after Close")
	}
	b, err := s.CreateBook(context.Background(), books.BookInput{Title: "after", Author: "a", Year: 2000}, "")
	if err != nil {
		t.Fatal(err)
	}
	if memoryHits(t, s, b.ID, b.ID, b.ID) != 0 {
		t.Error("the near tier served reads after Close")
	}
}

// TestNearFlushAll: FLUSHALL (or FLUSHDB) sends a null invalidation; the
// near tier drops everything, and the next read is not served from memory.
func TestNearFlushAll(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t)
	mem := newMem()
	s, _ := nearService(t, mem, srv.URL(), redis.Options{})
	var ids []string
	for range 3 {
		b, err := s.CreateBook(ctx, books.BookInput{Title: "t", Author: "a", Year: 2000}, "")
		if err != nil {
			t.Fatal(err)
		}
		warmNear(t, s, b.ID)
		ids = append(ids, b.ID)
	}
	if _, n := s.NearStats(); n != 3 {
		t.Fatalf("near tier holds %d entries, want 3", n)
	}
	for _, cmd := range []string{"FLUSHALL", "FLUSHDB"} {
		if err := client(t, srv.URL()).Do(ctx, cmd).Err(); err != nil {
			t.Fatal(err)
		}
		if n := memoryHits(t, s, ids...); n != 0 {
			t.Errorf("after %s, %d of 3 reads were served from memory", cmd, n)
		}
		for _, id := range ids {
			warmNear(t, s, id)
		}
	}
}
