package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// querier is what a statement runs on: the pool, or one connection checked
// to be alive.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var (
	_ querier = (*pgxpool.Pool)(nil)
	_ querier = (*pgxpool.Conn)(nil)
)

// maxRetries bounds the attempts after the first when the connection was
// lost. One is not enough in the world: the new connection of a retry can
// be cut by the same event (a failover drops connections for a few seconds;
// an operator terminating the service's backends twice), and the test that
// terminates backends in rounds caught 1 failure in 1,268 operations with
// a single retry. Each retry runs on a new connection.
const maxRetries = 2

// run runs fn on the pool and, when it fails in a way another attempt can
// fix, again (retry true):
//
//   - the password was rejected and credentials come from a secret: re-read
//     it (a rotation), as retryAuth does; once;
//   - the driver says nothing reached the server (pgconn.SafeToRetry), or
//     the pooled connection turned out dead — terminated by the server
//     (57P01 after pg_terminate_backend, a failover, an idle reaper), reset,
//     closed — and the operation is idempotent: up to maxRetries times,
//     each on a new connection (freshConn), since the pool's other
//     connections were most likely cut by the same event.
//
// fn is idempotent when running it twice has the effect of running it once:
// reads are; writes make themselves so on retry (see BookService).
func (db *DB) run(ctx context.Context, idempotent bool, fn func(q querier, retry bool) error) error {
	err := fn(db.Pool, false)
	switch {
	case err == nil || ctx.Err() != nil:
		return err
	case db.creds != nil && IsAuthFailure(err):
		db.creds.Invalidate()
		return fn(db.Pool, true)
	}
	for i := 0; i < maxRetries && ctx.Err() == nil && (pgconn.SafeToRetry(err) || idempotent && connectionLost(err)); i++ {
		err = db.onFreshConn(ctx, err, fn)
	}
	return err
}

// onFreshConn runs fn once more on a new connection; prev is the error that
// made it necessary, kept when no connection can be had.
func (db *DB) onFreshConn(ctx context.Context, prev error, fn func(q querier, retry bool) error) error {
	c, err := db.freshConn(ctx)
	if err != nil {
		return errors.Join(prev, err)
	}
	defer c.Release()
	return fn(c, true)
}

// connectionLost reports whether err means the connection is gone (so the
// statement's outcome is unknown, but the server is there): SQLSTATE 57P01
// admin_shutdown / 57P02 crash_shutdown / class 08, or a closed, reset or
// broken socket. A timeout is not: the statement may still be running.
func connectionLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "57P01" || pe.Code == "57P02" || pe.Code[:2] == "08"
	}
	if pgconn.Timeout(err) {
		return false
	}
	return errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// freshConn drops every pooled connection (pgxpool's Reset: idle ones now,
// checked-out ones when released) and acquires a new one. An event that
// cuts one connection — a failover, pg_terminate_backend of the service's
// backends, a network interruption — has most likely cut the idle ones
// too, and a signalled backend may not have said so yet: checking idle
// connections (CheckConn) let retries land on backends that died a moment
// later; only a new connection is known to be past the event.
func (db *DB) freshConn(ctx context.Context) (*pgxpool.Conn, error) {
	db.Pool.Reset()
	return db.Pool.Acquire(ctx)
}
