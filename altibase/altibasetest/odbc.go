package altibasetest

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// PsqlODBCDriver is the path of Debian's Unicode psqlODBC driver (package
// odbc-postgresql), which reaches the simulator through unixODBC.
var PsqlODBCDriver = findPsqlODBC()

func findPsqlODBC() string {
	for _, dir := range []string{
		"/usr/lib/x86_64-linux-gnu/odbc",
		"/usr/lib/aarch64-linux-gnu/odbc",
		"/usr/lib64/psqlodbc",
		"/usr/lib/odbc",
	} {
		p := dir + "/psqlodbcw.so"
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so"
}

// DriverInstalled reports whether PsqlODBCDriver exists.
func DriverInstalled() error {
	if _, err := os.Stat(PsqlODBCDriver); err != nil {
		return fmt.Errorf("altibasetest: psqlODBC driver not installed (run make deps, or apt-get install odbc-postgresql unixodbc-dev): %w", err)
	}
	return nil
}

// RequireDriver skips the test when psqlODBC is missing, unless CI is set:
// under CI a missing driver fails the test (make test installs it).
func RequireDriver(t testing.TB) {
	t.Helper()
	err := DriverInstalled()
	if err == nil {
		return
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal(err)
	}
	t.Skip(err)
}

// ConnString is an ODBC connection string that reaches the server as SYS
// through psqlODBC, as SYSDBA or as a normal session. It is a test helper,
// not the production client's connection string.
func (s *Server) ConnString(sysdba bool) string {
	return s.ConnStringAs("SYS", s.opts.SysPassword, sysdba)
}

// ConnStringAs is ConnString for another user or password.
func (s *Server) ConnStringAs(user, password string, sysdba bool) string {
	return ConnString(s.Host(), s.Port(), user, password, sysdba)
}

// ConnString is the psqlODBC connection string for any simulator address:
// Database=SYSDBA asks for a SYSDBA session, prepared statements are
// disabled (every statement is one simple query), and connect_timeout bounds
// a connect to a server that never answers.
func ConnString(host string, port int, user, password string, sysdba bool) string {
	db := "normal"
	if sysdba {
		db = "SYSDBA"
	}
	return fmt.Sprintf("DRIVER={%s};Servername=%s;Port=%d;Username=%s;Password={%s};Database=%s;"+
		"UseServerSidePrepare=0;Protocol=7.4-1;pqopt={connect_timeout=5}",
		PsqlODBCDriver, host, port, user, password, db)
}
