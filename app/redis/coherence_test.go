package redis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/books-platform/books/app"
	bookshttp "github.com/books-platform/books/app/http"
	"github.com/books-platform/books/app/internal/testenv"
	"github.com/books-platform/books/app/postgres"
	"github.com/books-platform/books/app/redis"
)

const instancePassword = "coherence"

// instance is one app instance as a task runs it: its own pool, its own
// Redis client and cache service, and its own HTTP server.
type instance struct {
	url string
	svc *redis.CachedBookService
}

func startInstance(t *testing.T, redisURL string, opt redis.Options) instance {
	t.Helper()
	db := openDB(t)
	if opt.Logger == nil {
		opt.Logger = quiet
	}
	svc := redis.NewCachedBookService(postgres.NewBookService(db), client(t, redisURL), opt)
	t.Cleanup(func() { svc.Close() })
	if opt.NearEntries > 0 {
		waitTracking(t, svc)
	}
	url := testenv.Serve(t, bookshttp.NewServer(bookshttp.Config{Books: svc, Ping: db.Ping, Username: "books", Password: instancePassword, Logger: quiet}))
	return instance{url: url, svc: svc}
}

var loadClient = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64},
}

// call sends one request and returns the status and the book's version
// (0 when the body is not a book).
func call(method, url, ifMatch, body string) (int, int64, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, 0, err
	}
	req.SetBasicAuth("books", instancePassword)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := loadClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	var b struct{ Version int64 }
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, &b); err != nil {
			return 0, 0, fmt.Errorf("%s %s: %w: %s", method, url, err, data)
		}
	}
	return resp.StatusCode, b.Version, nil
}

// TestCoherenceTwoInstances runs writers (GET, then PUT with If-Match, retried
// on 412) and readers against a few hot books through two app instances that
// share one database and one Redis, each request on a random instance.
//
// Invariant: no read returns a version older than the newest write that
// completed (response received) before the read began. Progress: every
// If-Match edit loop succeeds within maxAttempts tries.
func TestCoherenceTwoInstances(t *testing.T) {
	// Each instance as the app runs it: Redis only, and with the near tier
	// in front of Redis (CACHE_NEAR_ENTRIES).
	t.Run("Redis", func(t *testing.T) { coherenceTwoInstances(t, 0) })
	t.Run("NearAndRedis", func(t *testing.T) { coherenceTwoInstances(t, 1000) })
}

func coherenceTwoInstances(t *testing.T, nearEntries int) {
	const (
		totalOps    = 10_000
		hotBooks    = 3
		writers     = 4
		readers     = 8
		maxAttempts = 200
	)
	opt := redis.Options{TTL: 5 * time.Minute, Timeout: 2 * time.Second, NearEntries: nearEntries} // the machine may be loaded: this test is about coherence, not timeouts
	inst := []instance{startInstance(t, testenv.RedisURL(), opt), startInstance(t, testenv.RedisURL(), opt)}

	ids := make([]string, hotBooks)
	for i := range ids {
		b, err := inst[0].svc.CreateBook(context.Background(), books.BookInput{Title: "hot", Author: "a", Year: 2000}, "")
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = b.ID
	}
	var completed [hotBooks]atomic.Int64 // newest completed write per book
	for i := range completed {
		completed[i].Store(1)
	}

	var ops, reads, edits, preconditionFailed, violations, stuck, maxTries atomic.Int64
	var firstViolation sync.Once
	var violationMsg string
	var wg sync.WaitGroup
	errs := make(chan error, writers+readers)

	read := func(r *rand.Rand, book int) (int64, error) {
		floor := completed[book].Load()
		status, v, err := call("GET", inst[r.IntN(2)].url+"/book/"+ids[book], "", "")
		ops.Add(1)
		reads.Add(1)
		if err != nil || status != http.StatusOK {
			return 0, fmt.Errorf("GET: status %d, %v", status, err)
		}
		if v < floor {
			violations.Add(1)
			firstViolation.Do(func() {
				violationMsg = fmt.Sprintf("book %d: read version %d after version %d was written", book, v, floor)
			})
		}
		return v, nil
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for n := 0; ops.Load() < totalOps; n++ {
				book := r.IntN(hotBooks)
				for try := 1; ; try++ {
					v, err := read(r, book)
					if err != nil {
						errs <- err
						return
					}
					body := fmt.Sprintf(`{"title":"writer %d edit %d","author":"a","year":2000}`, w, n)
					status, nv, err := call("PUT", inst[r.IntN(2)].url+"/book/"+ids[book], `"`+strconv.FormatInt(v, 10)+`"`, body)
					ops.Add(1)
					if err != nil {
						errs <- err
						return
					}
					if status == http.StatusOK {
						for cur := completed[book].Load(); nv > cur && !completed[book].CompareAndSwap(cur, nv); cur = completed[book].Load() {
						}
						edits.Add(1)
						if int64(try) > maxTries.Load() {
							maxTries.Store(int64(try))
						}
						break
					}
					if status != http.StatusPreconditionFailed {
						errs <- fmt.Errorf("PUT: status %d", status)
						return
					}
					preconditionFailed.Add(1)
					if try >= maxAttempts {
						stuck.Add(1)
						break
					}
				}
			}
		}()
	}
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(100+i), 2))
			for ops.Load() < totalOps {
				if _, err := read(r, r.IntN(hotBooks)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	var hits, misses, nearHits int64
	for _, in := range inst {
		h, m := in.svc.Stats()
		nh, _ := in.svc.NearStats()
		hits, misses, nearHits = hits+h, misses+m, nearHits+nh
	}
	t.Logf("operations %d: reads %d, successful If-Match edits %d, 412s %d, edit loops past %d tries %d, most tries of a successful edit %d; cache hits %d (near tier %d), misses %d; violations %d",
		ops.Load(), reads.Load(), edits.Load(), preconditionFailed.Load(), maxAttempts, stuck.Load(), maxTries.Load(), hits, nearHits, misses, violations.Load())
	if ops.Load() < totalOps {
		t.Errorf("only %d operations ran", ops.Load())
	}
	if hits == 0 {
		t.Error("no cache hits: the test did not exercise the cache")
	}
	if nearEntries > 0 && nearHits == 0 {
		t.Error("no near-tier hits: the test did not exercise the near tier")
	}
	if n := violations.Load(); n > 0 {
		t.Errorf("%d reads returned a version older than a completed write; first: %s", n, violationMsg)
	}
	if n := stuck.Load(); n > 0 {
		t.Errorf("%d If-Match edit loops made no progress in %d tries", n, maxAttempts)
	}
}

// TestCoherenceAcrossRedisRestart restarts a private redis-server between a
// write and the next read, the server coming back with data from before the
// write: an RDB snapshot, or an append-only file cut short (what
// appendfsync everysec loses in a crash, or what a promoted replica that had
// not received the last writes holds). No read after the restart may return
// the version from before the write.
func TestCoherenceAcrossRedisRestart(t *testing.T) {
	modes := []struct {
		name string
		args []string
		// persist records the state the server will come back with.
		persist func(t *testing.T, srv *testenv.Redis, admin *goredis.Client)
		// restore puts that state in place while the server is down.
		restore func(t *testing.T, srv *testenv.Redis)
	}{
		{
			name: "RDBSnapshot",
			args: []string{"--save", "", "--appendonly", "no", "--dbfilename", "dump.rdb"},
			persist: func(t *testing.T, _ *testenv.Redis, admin *goredis.Client) {
				if err := admin.Save(context.Background()).Err(); err != nil {
					t.Fatal(err)
				}
			},
			restore: func(*testing.T, *testenv.Redis) {},
		},
		{
			name: "AppendOnlyFileCutShort",
			args: []string{"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--appenddirname", "aof"},
			persist: func(t *testing.T, srv *testenv.Redis, _ *goredis.Client) {
				copyDir(t, filepath.Join(srv.Dir, "aof"), filepath.Join(srv.Dir, "aof.before-write"))
			},
			restore: func(t *testing.T, srv *testenv.Redis) {
				if err := os.RemoveAll(filepath.Join(srv.Dir, "aof")); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(filepath.Join(srv.Dir, "aof.before-write"), filepath.Join(srv.Dir, "aof")); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := testenv.StartPersistentRedis(t, mode.args...)
			svcs := twoInstances(t, srv.URL())
			admin := client(t, srv.URL())

			ids := cachedBooks(t, svcs, 20)
			if h, _ := svcs[1].Stats(); h == 0 {
				t.Fatal("the cache served no hits before the restart")
			}
			mode.persist(t, srv, admin)
			updateAll(t, svcs, ids)
			srv.Stop()
			mode.restore(t, srv)
			srv.Start()

			stale, total, hits := readAfter(t, svcs, ids)
			t.Logf("%s: %d reads after the restart, %d stale, %d served by the cache", mode.name, total, stale, hits)
			if stale > 0 {
				t.Errorf("%d of %d reads after the restart returned the version from before the write", stale, total)
			}
			if hits == 0 {
				t.Error("the cache served nothing after the restart")
			}
		})
	}
}

// restartCooldown is the breaker cooldown of the restart tests' instances.
const restartCooldown = 20 * time.Millisecond

// twoInstances are two cache services (own pool, own Redis client) on one
// Redis, for the restart and failover tests.
// Both have a near tier: what it held before the restart must not be
// served after it either.
func twoInstances(t *testing.T, redisURL string) []*redis.CachedBookService {
	opt := redis.Options{TTL: 5 * time.Minute, Timeout: 2 * time.Second, Cooldown: restartCooldown, NearEntries: 1000, Logger: quiet}
	svcs := make([]*redis.CachedBookService, 2)
	for i := range svcs {
		svcs[i] = redis.NewCachedBookService(postgres.NewBookService(openDB(t)), client(t, redisURL), opt)
		t.Cleanup(func() { svcs[i].Close() })
		waitTracking(t, svcs[i])
	}
	return svcs
}

// cachedBooks creates n books at version 1 and has both instances read
// each until their near tier serves it.
func cachedBooks(t *testing.T, svcs []*redis.CachedBookService, n int) []string {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		b, err := svcs[0].CreateBook(ctx, books.BookInput{Title: "v1", Author: "a", Year: 2000}, "")
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = b.ID
		for _, s := range svcs {
			warmNear(t, s, b.ID)
		}
	}
	return ids
}

// updateAll writes version 2 of every book, alternating the instances.
func updateAll(t *testing.T, svcs []*redis.CachedBookService, ids []string) {
	t.Helper()
	for i, id := range ids {
		if _, err := svcs[i%len(svcs)].UpdateBook(context.Background(), id, books.BookInput{Title: "v2", Author: "a", Year: 2000}, books.Precondition{}, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// readAfter reads every book from both instances in three rounds, each past
// any breaker cooldown, and counts reads older than version 2, all reads and
// the cache hits among them.
func readAfter(t *testing.T, svcs []*redis.CachedBookService, ids []string) (stale, total int, hits int64) {
	t.Helper()
	for _, s := range svcs {
		h, _ := s.Stats()
		hits -= h
	}
	for round := range 3 {
		time.Sleep(2 * restartCooldown)
		for _, id := range ids {
			for _, s := range svcs {
				b, err := s.FindBookByID(context.Background(), id)
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				total++
				if b.Version < 2 {
					stale++
				}
			}
		}
	}
	for _, s := range svcs {
		h, _ := s.Stats()
		hits += h
	}
	return stale, total, hits
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// TestCoherenceAcrossFailover promotes a replica that missed the last write
// (replication is cut before it, as when a primary fails with writes not
// yet replicated) and points the instances at it through a proxy, the way
// ElastiCache moves the primary endpoint: no read after the failover may
// return the version from before the write.
func TestCoherenceAcrossFailover(t *testing.T) {
	ctx := context.Background()
	primary := testenv.StartRedis(t)
	replica := testenv.StartRedis(t)
	rep := client(t, replica.URL())
	if err := rep.ReplicaOf(ctx, "127.0.0.1", strconv.Itoa(primary.Port)).Err(); err != nil {
		t.Fatal(err)
	}
	endpoint := newSwitchProxy(t, primary.URL())
	svcs := twoInstances(t, endpoint.url())
	ids := cachedBooks(t, svcs, 10)
	// The replica has the v1 entries; then it stops replicating (promoted).
	pc := goredis.NewClient(&goredis.Options{Addr: hostPort(primary.URL()), ReadTimeout: 10 * time.Second})
	defer pc.Close()
	// The initial sync first (a loaded machine can take seconds), then WAIT
	// until the replica acknowledged everything written so far.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		info, _ := rep.Info(ctx, "replication").Result()
		if strings.Contains(info, "master_link_status:up") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not sync in 30 s:\n%s", info)
		}
	}
	if n, err := pc.Do(ctx, "WAIT", 1, 9000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT for the replica: %d, %v", n, err)
	}
	if err := rep.ReplicaOf(ctx, "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	updateAll(t, svcs, ids) // acknowledged by the old primary only
	endpoint.switchTo(replica.URL())

	stale, total, hits := readAfter(t, svcs, ids)
	t.Logf("%d reads after the failover, %d stale, %d served by the cache", total, stale, hits)
	if stale > 0 {
		t.Errorf("%d of %d reads after the failover returned the version from before the write", stale, total)
	}
	if hits == 0 {
		t.Error("the cache served nothing after the failover")
	}
}

// switchProxy is a TCP endpoint that forwards to one Redis server and can
// be moved to another, closing the connections it had (as a DNS failover
// of a primary endpoint does).
type switchProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	conns  []net.Conn
}

func newSwitchProxy(t *testing.T, targetURL string) *switchProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, target: hostPort(targetURL)}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.closeAll()
	})
	return p
}

func hostPort(redisURL string) string {
	s := strings.TrimPrefix(redisURL, "redis://")
	return s[:strings.IndexByte(s, '/')]
}

func (p *switchProxy) url() string { return "redis://" + p.ln.Addr().String() + "/0" }

func (p *switchProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		up, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

func (p *switchProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *switchProxy) switchTo(targetURL string) {
	p.mu.Lock()
	p.target = hostPort(targetURL)
	p.mu.Unlock()
	p.closeAll()
}
