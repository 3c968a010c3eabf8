package redis

import (
	"context"
	"strings"
	"sync"
	"time"
)

// near is the in-process tier in front of Redis: a bounded map from book id
// to the entry ("D<version>|<json>" or "T") that a read found in Redis.
// It never decides on its own that an entry is current; the tracker does:
//
//   - Redis sends this instance an invalidation for every change of a key
//     under keyPrefix (CLIENT TRACKING … BCAST, see tracking.go), and the
//     entry of that book is dropped when it is read off the connection.
//   - A read serves an entry only after a barrier: a PING sent on the
//     tracking connection after the read began has been answered. Redis
//     queues a write's invalidation on that connection before the writer
//     gets its reply, so by the time the PONG arrives every write that had
//     returned when the read began has had its invalidation applied.
//   - Entries belong to a generation: each new tracking connection, and
//     each failure of one, starts a new generation, and an entry is served
//     only under the generation it was fetched in (invalidations sent while
//     no connection was tracking are lost, so nothing older is trusted).
//
// Residual case, beside the Redis tier's own: if this instance's cache
// connections to a server are cut while its tracking connection to the
// same server survives, and the cache client reconnects elsewhere (a
// partial network failure during a failover), memory hits go on being
// checked against the old server until the tracking connection fails or
// the cache epoch moves. A primary that fails or restarts closes both.
//
// A fill is guarded like the Redis tier's lease: reserve puts a placeholder
// before the Redis read, any invalidation of the book removes it, and
// fulfill stores the value only if the placeholder is still there.
type near struct {
	max int // entries, placeholders included

	mu      sync.RWMutex
	entries map[string]*nearEntry
	gen     uint64 // generation of the current tracking connection
	active  bool   // a tracking connection of generation gen is up
	runID   string // run_id of the server that connection is on
	seq     uint64 // placeholder tokens
}

type nearEntry struct {
	gen   uint64
	token uint64 // the placeholder's; 0 once filled
	value string
}

func newNear(max int) *near {
	return &near{max: max, entries: make(map[string]*nearEntry, min(max, 1024))}
}

// has reports whether an entry (maybe stale) is held for id: a read without
// one need not wait for the barrier, since invalidations only remove.
func (n *near) has(id string) bool {
	n.mu.RLock()
	e := n.entries[id]
	n.mu.RUnlock()
	return e != nil && e.token == 0
}

// get returns id's entry if it was fetched under generation gen (the one
// the barrier the caller waited for completed in), on the server process
// with run_id runID (the one the caller's epoch belongs to: invalidations
// from another process, a replica say, would not cover writes made on
// the caller's).
func (n *near) get(id string, gen uint64, runID string) (string, bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	e := n.entries[id]
	if e == nil || e.token != 0 || e.gen != gen || gen != n.gen || !n.active || n.runID != runID {
		return "", false
	}
	return e.value, true
}

// reserve places a placeholder for id before a Redis read; it returns 0
// (nothing may be stored) while no tracking connection is up, or without
// a near tier (reserve, fulfill, cancel and drop do nothing on a nil
// *near).
func (n *near) reserve(id string) uint64 {
	if n == nil {
		return 0
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.active {
		return 0
	}
	if _, ok := n.entries[id]; !ok && len(n.entries) >= n.max {
		for k := range n.entries { // an arbitrary victim: Go's map order
			delete(n.entries, k)
			break
		}
	}
	n.seq++
	n.entries[id] = &nearEntry{gen: n.gen, token: n.seq}
	return n.seq
}

// fulfill stores the entry a read found in Redis if nothing invalidated id
// (or the whole tier) since reserve returned token.
func (n *near) fulfill(id string, token uint64, value string) {
	if n == nil || token == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if e := n.entries[id]; e != nil && e.token == token && e.gen == n.gen && n.active {
		e.token, e.value = 0, value
	}
}

// cancel removes a placeholder that will not be fulfilled.
func (n *near) cancel(id string, token uint64) {
	if n == nil || token == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if e := n.entries[id]; e != nil && e.token == token {
		delete(n.entries, id)
	}
}

// flush drops every entry and placeholder: the server flushed its data, or
// sent an invalidation this tier cannot read.
func (n *near) flush() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.entries)
}

// invalidate applies the keys of one invalidation message. A book's entry,
// pending mark or lease names the book; any other key under the prefix
// (the epoch key) drops everything.
func (n *near) invalidate(keys []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, k := range keys {
		id, ok := bookOfKey(k)
		if !ok {
			clear(n.entries)
			return
		}
		delete(n.entries, id)
	}
}

// drop removes id's entry or placeholder.
func (n *near) drop(id string) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.entries, id)
}

// bookOfKey returns the book id of "books:v2:<nonce>:book:<id>" or
// "books:v2:<nonce>:pending:<id>", whatever the epoch nonce.
func bookOfKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, keyPrefix)
	if !ok {
		return "", false
	}
	_, rest, ok = strings.Cut(rest, ":")
	if !ok {
		return "", false
	}
	for _, kind := range []string{"book:", "pending:"} {
		if id, ok := strings.CutPrefix(rest, kind); ok && id != "" {
			return id, true
		}
	}
	return "", false
}

// connected starts a new generation for a tracking connection that has
// just turned tracking on, on the server with run_id runID.
func (n *near) connected(runID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.gen++
	n.active = true
	n.runID = runID
	clear(n.entries)
}

// server returns the run_id of the server the tracking connection is on
// ("" while none is up).
func (n *near) server() string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if !n.active {
		return ""
	}
	return n.runID
}

// lost ends the current generation: the tracking connection failed, and
// invalidations may have been lost with it.
func (n *near) lost() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.gen++
	n.active = false
	n.runID = ""
	clear(n.entries)
}

// len is the number of entries and placeholders held.
func (n *near) len() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.entries)
}

// The near tier as CachedBookService uses it.

// Close stops the near tier's connection (the Redis client passed to
// NewCachedBookService is the caller's to close).
func (s *CachedBookService) Close() error {
	if s.tracker == nil {
		return nil
	}
	return s.tracker.close()
}

// NearStats returns the reads the near tier served and the entries it
// holds (both 0 without one).
func (s *CachedBookService) NearStats() (hits int64, entries int) {
	if s.near == nil {
		return 0, 0
	}
	return s.nearHits.Load(), s.near.len()
}

// NearBarriers returns how many barrier PINGs the tracking connection sent
// (concurrent reads share one, so this is below the near hits under load).
func (s *CachedBookService) NearBarriers() int64 {
	if s.tracker == nil {
		return 0
	}
	return s.tracker.rounds.Load()
}

// NearTracking reports whether the near tier's tracking connection is up
// (the tier serves and stores nothing while it is not).
func (s *CachedBookService) NearTracking() bool {
	return s.near != nil && s.near.server() != ""
}

// trackingFailed logs the first failure of the tracking connection in an
// outage; reads go to Redis meanwhile.
func (s *CachedBookService) trackingFailed(err error) {
	was := s.nearDown.Swap(time.Now().Add(time.Minute).UnixNano())
	if time.Now().UnixNano() >= was {
		s.opt.Logger.Warn("near cache paused: its tracking connection failed; reading Redis", "err", err.Error())
	}
}

// nearFind serves id from the near tier when it holds an entry fetched in
// the current generation and a barrier started after this call confirms
// that no invalidation for it was pending.
func (s *CachedBookService) nearFind(ctx context.Context, id string) (string, bool) {
	if s.near == nil || !s.near.has(id) {
		return "", false
	}
	e := s.epoch.Load()
	if e == nil {
		return "", false
	}
	runID, _, _ := strings.Cut(e.full, ":")
	if srv := s.near.server(); srv != runID {
		if srv != "" {
			s.tracker.moved()
		}
		return "", false
	}
	// No deadline of its own: each barrier PING has the cache timeout, and
	// the request's context bounds the wait for one.
	gen, err := s.tracker.barrier(ctx)
	if err != nil {
		return "", false
	}
	v, ok := s.near.get(id, gen, runID)
	if ok {
		s.nearHits.Add(1)
	}
	return v, ok
}
