package postgres

import (
	"context"
	"sync"
	"time"
)

// Credentials is a database user name and password.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// CredentialsSource reads the current credentials, e.g. from AWS Secrets
// Manager (see package awssecret). Tests substitute a source they control.
type CredentialsSource interface {
	Credentials(ctx context.Context) (Credentials, error)
}

// CachedCredentials keeps the last credentials read from Source for TTL, so
// opening a connection rarely calls the source, and re-reads them as soon as
// the database rejects them (Invalidate), so a rotated password is picked up
// by the next connection without a restart.
type CachedCredentials struct {
	Source CredentialsSource
	// TTL is how long a read value is reused (default 5 minutes).
	TTL time.Duration
	// MinRefresh stops an invalidation from causing a re-read when the value
	// is younger than this, so a wrong secret costs at most one read of the
	// source per MinRefresh, not one per failed connection (default 1 s;
	// negative: always re-read).
	MinRefresh time.Duration

	mu      sync.Mutex
	cached  Credentials
	fetched time.Time
	valid   bool
	reads   int
}

// Get returns the cached credentials, reading the source when they are
// missing, expired or invalidated.
func (c *CachedCredentials) Get(ctx context.Context) (Credentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ttl := c.TTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	if c.valid && time.Since(c.fetched) < ttl {
		return c.cached, nil
	}
	v, err := c.Source.Credentials(ctx)
	if err != nil {
		return Credentials{}, err
	}
	c.cached, c.fetched, c.valid = v, time.Now(), true
	c.reads++
	return v, nil
}

// Invalidate makes the next Get read the source again, unless the cached
// value was read less than MinRefresh ago. It reports whether it did.
func (c *CachedCredentials) Invalidate() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	min := c.MinRefresh
	if min == 0 {
		min = time.Second
	}
	if c.valid && time.Since(c.fetched) < min {
		return false
	}
	c.valid = false
	return true
}

// Reads returns how many times the source has been read.
func (c *CachedCredentials) Reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}
