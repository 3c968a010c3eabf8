package postgres_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/books-platform/books/app/postgres"
)

func TestIsTransient(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("migrate: %w", &pgconn.PgError{Code: code, Message: "m"}) }
	op := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: errno}}
	}
	cases := []struct {
		name      string
		err       error
		transient bool
		advice    string
	}{
		{"DatabaseMissing", pg("3D000"), false, "PGDATABASE"},
		{"WrongPassword", pg("28P01"), false, "PGPASSWORD"},
		{"RoleRejected", pg("28000"), false, "PGUSER"},
		{"NoPrivilege", pg("42501"), false, "CREATE"},
		{"MigrationSyntax", pg("42601"), false, "migration"},
		{"ProtocolViolation", pg("08P01"), false, ""},
		{"DiskFull", pg("53100"), false, ""},
		{"StartingUp", pg("57P03"), true, ""},
		{"AdminShutdown", pg("57P01"), true, ""},
		{"TooManyConnections", pg("53300"), true, ""},
		{"ConnectionFailure", pg("08006"), true, ""},
		{"LockNotAvailable", pg("55P03"), true, ""},
		{"Refused", op(syscall.ECONNREFUSED), true, "PGHOST"},
		{"Reset", op(syscall.ECONNRESET), true, ""},
		{"Unreachable", op(syscall.EHOSTUNREACH), true, ""},
		{"ConnectTimeout", fmt.Errorf("connect: %w", context.DeadlineExceeded), true, ""},
		{"UnknownHost", &net.DNSError{Err: "no such host", Name: "db.invalid", IsNotFound: true}, false, "PGHOST"},
		{"DNSServerDown", &net.DNSError{Err: "server misbehaving", Name: "db", IsTemporary: true}, true, ""},
		{"BadCertificate", fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), false, "PGSSLMODE"},
		{"EOF", fmt.Errorf("receive: %w", io.ErrUnexpectedEOF), true, ""},
		{"Other", fmt.Errorf("something else"), false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := postgres.IsTransient(c.err); got != c.transient {
				t.Errorf("IsTransient = %v, want %v", got, c.transient)
			}
			if a := postgres.Advice(c.err); !strings.Contains(a, c.advice) {
				t.Errorf("Advice = %q, want it to mention %q", a, c.advice)
			}
		})
	}
}
