package postgres

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// transientClasses are the SQLSTATE classes (first two characters) and
// codes that describe a server that is not ready or briefly overloaded:
// waiting can fix them. PostgreSQL Appendix A, "PostgreSQL Error Codes".
var transientCodes = map[string]bool{
	"08":    true,                               // connection_exception (but see permanentCodes)
	"53":    true,                               // insufficient_resources: 53300 too_many_connections, …
	"57P01": true, "57P02": true, "57P03": true, // admin/crash shutdown, cannot_connect_now (starting up)
	"40001": true, "40P01": true, // serialization failure, deadlock
	"55P03": true,                // lock_not_available
	"58000": true, "58030": true, // system_error, io_error
}

// permanentCodes override their class.
var permanentCodes = map[string]bool{
	"08P01": true, // protocol_violation
	"08004": true, // sqlserver_rejected_establishment_of_sqlconnection
	"53100": true, // disk_full: an operator must act
}

// IsTransient reports whether err is one that waiting can fix: the server
// is starting, shutting down, overloaded or not reachable (refused, reset,
// timed out, unreachable network), classified by SQLSTATE and error type,
// never by message text. Everything else — a missing database (3D000), a
// rejected password (28P01) or role (28000), missing privileges (42501), a
// broken migration (42xxx), an unknown host, a refused certificate — is
// permanent.
func IsTransient(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if permanentCodes[pe.Code] {
			return false
		}
		return transientCodes[pe.Code] || len(pe.Code) == 5 && transientCodes[pe.Code[:2]]
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return !dnsErr.IsNotFound // a name that does not exist will not appear
	}
	if isCertificateError(err) {
		return false
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ETIMEDOUT, syscall.EPIPE} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var ne net.Error
	return pgconn.Timeout(err) || errors.As(err, &ne) && ne.Timeout() ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func isCertificateError(err error) bool {
	var cve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cve) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

// Advice says what to fix for a start-up error, naming the settings.
func Advice(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "3D000":
			return "the database does not exist (SQLSTATE 3D000): check PGDATABASE or the database name in DATABASE_URL, or create it"
		case pe.Code == "28P01":
			return "the password was rejected (SQLSTATE 28P01): check PGPASSWORD, the password in DATABASE_URL, or the DB_SECRET_ARN secret"
		case pe.Code == "28000":
			return "the server rejected the role or this client (SQLSTATE 28000): check PGUSER, the server's pg_hba.conf rules and PGSSLMODE"
		case pe.Code == "42501":
			return "the database user lacks a privilege migrations need (SQLSTATE 42501): grant it CREATE on the database's schema, or run migrations separately with MIGRATE_ON_START=false"
		case pe.Code[:2] == "42":
			return "a migration's SQL was rejected (SQLSTATE " + pe.Code + "): a bug in postgres/migrations or a schema changed by hand"
		case transientCodes[pe.Code] || transientCodes[pe.Code[:2]]:
			return "the server is starting, shutting down or overloaded (SQLSTATE " + pe.Code + "): it should pass"
		}
		return "the server refused (SQLSTATE " + pe.Code + ")"
	}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "the database host name does not resolve: check PGHOST or the host in DATABASE_URL"
	case isCertificateError(err):
		return "the server's TLS certificate was not accepted: check PGSSLMODE and PGSSLROOTCERT"
	case IsTransient(err):
		return "the database is not reachable (yet): check PGHOST/PGPORT and the security groups if it persists"
	}
	return "check the database settings (DATABASE_URL / PG* variables)"
}
