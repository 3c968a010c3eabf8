package redis

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/push"
)

// tracker owns the near tier's connection to Redis: one RESP3 connection
// with CLIENT TRACKING ON BCAST PREFIX books:v2:, on which the server pushes
// an invalidation for every change of a key under the cache's prefix, and
// the barriers that reads wait for (see near).
//
// Server-assisted client-side caching (CLIENT TRACKING) is Redis OSS 6.0+
// and Valkey; ElastiCache restricts only bgrewriteaof, bgsave, config,
// debug, migrate, replicaof, save, slaveof, shutdown and sync on node-based
// clusters (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ClientConfig.RestrictedCommands.html),
// so tracking is available on the replication group infra/cache.go deploys.
// Broadcasting mode needs no tracking table on the server (nothing to
// overflow) and sends its messages from beforeSleep, before the replies of
// that event-loop iteration are written (redis src/server.c beforeSleep:
// trackingBroadcastInvalidationMessages, then
// handleClientsWithPendingWrites), which is the ordering the barrier
// relies on.
type tracker struct {
	opt     goredis.Options
	client  *goredis.Client // used by loop only, after newTracker
	conn    *goredis.Conn   // client's one connection, held: no pool health check per PING
	near    *near
	timeout time.Duration
	onError func(error)

	mu     sync.Mutex
	next   *round // collects the reads waiting for the next PING
	redial bool   // the next round starts on a new connection

	rounds atomic.Int64 // PINGs sent

	kick      chan struct{}
	stop      chan struct{}
	closeOnce sync.Once
	closeErr  error
	done      chan struct{}
}

// round is one PING on the tracking connection and the reads that started
// before it was sent.
type round struct {
	done chan struct{}
	gen  uint64
	err  error
}

// trackingIdle is how often the connection is pinged when no read needs a
// barrier: it drains the invalidations queued meanwhile and notices a dead
// connection within that time.
const trackingIdle = time.Second

// newTracker opens the tracking connection from the cache client's own
// options (address, TLS, AUTH token).
func newTracker(base *goredis.Options, n *near, timeout time.Duration, onError func(error)) (*tracker, error) {
	opt := *base
	opt.Protocol = 3 // invalidations arrive on the same connection only in RESP3
	opt.PoolSize = 1
	opt.MinIdleConns = 0
	opt.MaxIdleConns = 1
	opt.MaxActiveConns = 1
	opt.ReadTimeout = timeout
	opt.WriteTimeout = timeout
	opt.PoolTimeout = timeout
	opt.ConnMaxIdleTime = -1 // pinged every trackingIdle anyway
	opt.ConnMaxLifetime = 0
	opt.MaxRetries = -1
	opt.ClientSideCacheConfig = nil
	// The cache client's Options hold its own push processor (NewClient
	// stores it there); the tracking client must not share it.
	opt.PushNotificationProcessor = nil
	opt.OnConnect = func(ctx context.Context, cn *goredis.Conn) error {
		// The reply of HELLO (no arguments: nothing changes) names the
		// protocol go-redis settled on; tracking without REDIRECT delivers
		// nothing on a RESP2 connection.
		hello, err := cn.Do(ctx, "HELLO").Result()
		if err != nil {
			return fmt.Errorf("tracking: HELLO: %w", err)
		}
		if m, ok := hello.(map[any]any); !ok || fmt.Sprint(m["proto"]) != "3" {
			return errors.New("tracking: the server did not accept RESP3 (Redis OSS 6.0+ or Valkey needed)")
		}
		info := cn.InfoMap(ctx, "server")
		if err := info.Err(); err != nil {
			return fmt.Errorf("tracking: INFO server: %w", err)
		}
		runID := info.Item("Server", "run_id")
		if runID == "" {
			return errors.New("tracking: INFO server has no run_id")
		}
		if err := cn.Do(ctx, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", keyPrefix).Err(); err != nil {
			return fmt.Errorf("tracking: CLIENT TRACKING: %w", err)
		}
		n.connected(runID)
		return nil
	}
	t := &tracker{
		opt: opt, near: n, timeout: timeout, onError: onError,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	if err := t.dial(); err != nil {
		return nil, err
	}
	t.kick <- struct{}{} // connect now rather than at the first barrier
	go t.loop()
	return t, nil
}

// dial makes the client the loop pings through (it connects on first use).
func (t *tracker) dial() error {
	// NewClient fills in its Options (PushNotificationProcessor among
	// them): each client gets a fresh copy, with a processor of its own.
	opt := t.opt
	opt.PushNotificationProcessor = nil
	client := goredis.NewClient(&opt)
	if err := client.RegisterPushNotificationHandler("invalidate", invalidations{t.near}, true); err != nil {
		client.Close()
		return fmt.Errorf("tracking: %w", err)
	}
	t.client = client
	t.conn = client.Conn()
	return nil
}

// barrier waits until a PING sent after the call began has been answered
// (all invalidations queued before it applied) and returns the generation
// it was answered in.
func (t *tracker) barrier(ctx context.Context) (uint64, error) {
	t.mu.Lock()
	r := t.next
	if r == nil {
		r = &round{done: make(chan struct{})}
		t.next = r
	}
	t.mu.Unlock()
	select {
	case t.kick <- struct{}{}:
	default:
	}
	select {
	case <-r.done:
		return r.gen, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (t *tracker) loop() {
	defer close(t.done)
	idle := time.NewTicker(trackingIdle)
	defer idle.Stop()
	for {
		select {
		case <-t.stop:
			t.mu.Lock()
			r := t.next
			t.next = nil
			t.mu.Unlock()
			if r != nil {
				r.err = errors.New("tracking: closed")
				close(r.done)
			}
			return
		case <-t.kick:
		case <-idle.C:
		}
		// Let the reads that are about to wait join this round (each PING
		// is a write and a read on the socket, so fewer and fuller rounds
		// are cheaper), then take the round before sending its PING: reads
		// that arrive from now on wait for the next one.
		runtime.Gosched()
		t.mu.Lock()
		r, redial := t.next, t.redial
		t.next, t.redial = nil, false
		t.mu.Unlock()
		if redial {
			t.near.lost()
			t.redialClient()
		}
		ctx, cancel := context.WithTimeout(context.Background(), t.timeout)
		t.rounds.Add(1)
		err := t.conn.Ping(ctx).Err()
		cancel()
		if err != nil {
			// Whatever state the connection is in, the next round starts
			// on a new one (and a new generation, when it tracks).
			t.near.lost()
			t.onError(err)
			t.redialClient()
		}
		if r != nil {
			t.near.mu.RLock()
			r.gen, r.err = t.near.gen, err
			t.near.mu.RUnlock()
			close(r.done)
		}
	}
}

func (t *tracker) redialClient() {
	_ = t.conn.Close()
	_ = t.client.Close()
	if err := t.dial(); err != nil {
		t.onError(err)
	}
}

// moved asks for a new tracking connection: the cache's client now talks to
// another server process (a failover, a restart) than the tracking
// connection is on.
func (t *tracker) moved() {
	t.mu.Lock()
	t.redial = true
	t.mu.Unlock()
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// close stops the loop and the connection; later calls return the first
// call's result.
func (t *tracker) close() error {
	t.closeOnce.Do(func() {
		close(t.stop)
		<-t.done
		t.near.lost()
		_ = t.conn.Close()
		t.closeErr = t.client.Close()
	})
	return t.closeErr
}

// invalidations applies the server's "invalidate" pushes to the near tier:
// ["invalidate", [key, …]], or ["invalidate", nil] after a flush.
type invalidations struct{ near *near }

func (h invalidations) HandlePushNotification(_ context.Context, _ push.NotificationHandlerContext, msg []any) error {
	if len(msg) < 2 || msg[1] == nil {
		h.near.flush()
		return nil
	}
	raw, ok := msg[1].([]any)
	if !ok {
		h.near.flush()
		return fmt.Errorf("tracking: unexpected invalidation %v", msg)
	}
	keys := make([]string, 0, len(raw))
	for _, k := range raw {
		s, ok := k.(string)
		if !ok {
			h.near.flush()
			return fmt.Errorf("tracking: unexpected key %v", k)
		}
		keys = append(keys, s)
	}
	h.near.invalidate(keys)
	return nil
}
