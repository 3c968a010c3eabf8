package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// epochKey holds the current epoch; see epochScript.
const epochKey = keyPrefix + "epoch"

// epoch is what an instance believes the server's current epoch is.
type epoch struct {
	full   string // "<run_id>:<nonce>", compared by every script
	prefix string // "books:v2:<nonce>:", the prefix of this epoch's keys
}

// CheckServer is the OnConnect hook NewClient installs: on every new
// connection it runs the epoch script, so a server that restarted, was
// restored or was promoted (a new run_id) gets a new epoch before the
// first command on it runs. A restart closes every connection, so no
// command reaches a new server process without passing through this hook;
// the epoch comparison in each script then turns away instances that still
// use the old epoch. A failure here fails the connection, and the cache
// degrades to the database.
func CheckServer(ctx context.Context, cn *goredis.Conn) error {
	if err := epochScript.Run(ctx, cn, []string{epochKey}, nonce()).Err(); err != nil {
		return fmt.Errorf("redis: epoch check: %w", err)
	}
	return nil
}

func nonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// currentEpoch returns the epoch in use, asking the server the first time.
func (s *CachedBookService) currentEpoch(ctx context.Context) (*epoch, error) {
	if e := s.epoch.Load(); e != nil {
		return e, nil
	}
	return s.refreshEpoch(ctx, nil)
}

// refreshEpoch asks the server for its epoch after a script answered that
// stale is not current any more. Concurrent callers share one refresh.
func (s *CachedBookService) refreshEpoch(ctx context.Context, stale *epoch) (*epoch, error) {
	s.epochMu.Lock()
	defer s.epochMu.Unlock()
	if cur := s.epoch.Load(); cur != nil && cur != stale {
		return cur, nil
	}
	full, err := epochScript.Run(ctx, s.client, []string{epochKey}, nonce()).Text()
	if err != nil {
		return nil, fmt.Errorf("epoch: %w", err)
	}
	i := strings.LastIndexByte(full, ':')
	if i < 0 {
		return nil, fmt.Errorf("epoch: unexpected value %q", full)
	}
	e := &epoch{full: full, prefix: keyPrefix + full[i+1:] + ":"}
	s.epoch.Store(e)
	if stale != nil {
		s.opt.Logger.Warn("cache epoch changed (Redis restarted, was restored or failed over); earlier entries are ignored")
	}
	return e, nil
}
