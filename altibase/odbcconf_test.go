package altibase

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestODBCValue(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "manager", "manager"},
		{"empty", "", ""},
		{"semicolon", "a;b", "{a;b}"},
		{"equals", "a=b", "{a=b}"},
		{"open_brace", "a{b", "{a{b}"},
		{"close_brace_doubled", "a}b", "{a}}b}"},
		{"all_specials", "p;{}=w", "{p;{}}=w}"},
		{"only_close", "}", "{}}}"},
		{"leading_blank", " x", "{ x}"},
		{"inner_blank", "a b", "a b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := odbcValue(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("odbcValue(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if back := unbrace(got); back != tc.in {
				t.Errorf("round trip of %q gave %q", tc.in, back)
			}
		})
	}
	if _, err := odbcValue("a\x00b"); err == nil {
		t.Error("NUL accepted")
	}
}

// unbrace is the ODBC grammar's reading of one value, for the round trip.
func unbrace(v string) string {
	if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
		return strings.ReplaceAll(v[1:len(v)-1], "}}", "}")
	}
	return v
}

func TestConnString(t *testing.T) {
	p := connParams{dsn: "AKU_1", host: "pod-0.svc", port: 20300, password: "p;{}=w",
		loginTimeout: 7, queryTimeout: 3600, nlsUse: "UTF8"}
	tests := []struct {
		name    string
		dialect Dialect
		redact  bool
		want    string
		plain   bool
	}{
		{"altibase", DialectAltibase, false,
			"DSN=AKU_1;SERVER=pod-0.svc;PORT_NO=20300;UID=SYS;PWD={p;{}}=w};PRIVILEGE=SYSDBA;CONNTYPE=1;" +
				"LOGIN_TIMEOUT=7;CONNECTION_TIMEOUT=3630;NLS_USE=UTF8;", false},
		{"altibase_redacted", DialectAltibase, true,
			"DSN=AKU_1;SERVER=pod-0.svc;PORT_NO=20300;UID=SYS;PWD=***;PRIVILEGE=SYSDBA;CONNTYPE=1;" +
				"LOGIN_TIMEOUT=7;CONNECTION_TIMEOUT=3630;NLS_USE=UTF8;", false},
		{"simulator", DialectSimulator, false,
			"DSN=AKU_1;Servername=pod-0.svc;Port=20300;UID=SYS;PWD={p;{}}=w};Database=SYSDBA;" +
				"UseServerSidePrepare=0;Protocol=7.4-1;pqopt={connect_timeout=7};", false},
		{"altibase_plain", DialectAltibase, false,
			"DSN=AKU_1;SERVER=pod-0.svc;PORT_NO=20300;UID=SYS;PWD={p;{}}=w};CONNTYPE=1;" +
				"LOGIN_TIMEOUT=7;CONNECTION_TIMEOUT=3630;NLS_USE=UTF8;", true},
		{"simulator_plain", DialectSimulator, false,
			"DSN=AKU_1;Servername=pod-0.svc;Port=20300;UID=SYS;PWD={p;{}}=w};Database=normal;" +
				"UseServerSidePrepare=0;Protocol=7.4-1;pqopt={connect_timeout=7};", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := p
			p.dialect, p.plain = tc.dialect, tc.plain
			got, err := connString(p, tc.redact)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if tc.redact && strings.Contains(got, "p;") {
				t.Error("password in redacted string")
			}
		})
	}
	bad := p
	bad.nlsUse = "UTF8;PWD=x"
	if _, err := connString(bad, false); !errors.Is(err, ErrInvalidIdentifier) {
		t.Errorf("NLS_USE injection: err = %v", err)
	}
}

func TestDSNSection(t *testing.T) {
	got, err := dsnSection("AKU_3", dsnKey{DialectAltibase, "/opt/altibase/lib/libaltibase_odbc-64bit-ul64.so", "10.0.0.5", 20300})
	if err != nil {
		t.Fatal(err)
	}
	want := "[AKU_3]\nDriver=/opt/altibase/lib/libaltibase_odbc-64bit-ul64.so\nServer=10.0.0.5\nPort_No=20300\n"
	if got != want {
		t.Errorf("got %q want %q", got, want)
	}
	got, err = dsnSection("AKU_4", dsnKey{DialectSimulator, SimulatorDriver, "localhost", 5432})
	if err != nil {
		t.Fatal(err)
	}
	want = "[AKU_4]\nDriver=" + SimulatorDriver + "\nServername=localhost\nPort=5432\nDatabase=SYSDBA\n"
	if got != want {
		t.Errorf("got %q want %q", got, want)
	}
	for _, k := range []dsnKey{
		{DialectAltibase, "relative/driver.so", "h", 1},
		{DialectAltibase, "/x\n[evil]\nDriver=/y", "h", 1},
		{DialectAltibase, "/x;y", "h", 1},
		{DialectAltibase, "/x", "h\nPort=1", 1},
		{DialectAltibase, "/x", "h", 0},
	} {
		if _, err := dsnSection("AKU_9", k); err == nil {
			t.Errorf("dsnSection(%+v) accepted", k)
		}
	}
}

// TestODBCFiles checks the private configuration: 0700 directory, 0600
// files, env vars pointing at it, one DSN per server, stable names, no
// password anywhere. It changes process-wide state (as production does).
func TestODBCFiles(t *testing.T) {
	// Restore the process's ODBCINI/ODBCSYSINI afterwards: the package's own
	// configuration (used by the integration tests) depends on them.
	t.Setenv("ODBCINI", os.Getenv("ODBCINI"))
	t.Setenv("ODBCSYSINI", os.Getenv("ODBCSYSINI"))
	var f odbcFiles
	a := dsnKey{DialectSimulator, SimulatorDriver, "127.0.0.1", 5001}
	b := dsnKey{DialectSimulator, SimulatorDriver, "127.0.0.1", 5002}
	na, err := f.dsnFor(a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(f.dir) })
	nb, err := f.dsnFor(b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.dsnFor(a)
	if err != nil {
		t.Fatal(err)
	}
	if na == nb || again != na {
		t.Errorf("names %q %q %q: want distinct per server, stable per key", na, nb, again)
	}
	if got := os.Getenv("ODBCINI"); got != filepath.Join(f.dir, "odbc.ini") {
		t.Errorf("ODBCINI = %q", got)
	}
	if got := os.Getenv("ODBCSYSINI"); got != f.dir {
		t.Errorf("ODBCSYSINI = %q", got)
	}
	st, err := os.Stat(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", st.Mode().Perm())
	}
	for _, name := range []string{"odbc.ini", "odbcinst.ini"} {
		st, err := os.Stat(filepath.Join(f.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", name, st.Mode().Perm())
		}
	}
	ini, err := os.ReadFile(filepath.Join(f.dir, "odbc.ini"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[" + na + "]", "[" + nb + "]", "Port=5001", "Port=5002"} {
		if !strings.Contains(string(ini), want) {
			t.Errorf("odbc.ini lacks %q:\n%s", want, ini)
		}
	}
	if strings.Contains(strings.ToUpper(string(ini)), "PWD") {
		t.Errorf("odbc.ini holds a password field:\n%s", ini)
	}
	os.Setenv("ODBCINI", "/elsewhere/odbc.ini")
	if _, err := f.dsnFor(dsnKey{DialectSimulator, SimulatorDriver, "127.0.0.1", 5003}); err == nil {
		t.Error("a changed ODBCINI went unnoticed")
	}
}

func TestLoginSeconds(t *testing.T) {
	if got := wholeSeconds(1500 * 1e6); got != 2 {
		t.Errorf("wholeSeconds(1.5s) = %d", got)
	}
	if got := wholeSeconds(0); got != 0 {
		t.Errorf("wholeSeconds(0) = %d", got)
	}
	if got := loginSeconds(t.Context(), 0); got != 1 {
		t.Errorf("loginSeconds(0) = %d, want the minimum 1", got)
	}
}

func TestDialect(t *testing.T) {
	if DialectAltibase.String() != "altibase" || DialectSimulator.String() != "simulator" {
		t.Errorf("names: %v %v", DialectAltibase, DialectSimulator)
	}
	t.Setenv("ALTIBASE_HOME", "/opt/altibase")
	if got := DefaultDriver(DialectAltibase); got != "/opt/altibase/lib/libaltibase_odbc-64bit-ul64.so" {
		t.Errorf("DefaultDriver = %q", got)
	}
}

func TestPoolingEnabled(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, ini string
		want      bool
	}{
		{"debian_default", "[PostgreSQL Unicode]\nDriver=psqlodbcw.so\n", false},
		{"pooling_yes", "[ODBC]\nPooling=Yes\n", true},
		{"pooling_spaces_case", "[odbc]\n  pooling = yes \n", true},
		{"pooling_no", "[ODBC]\nPooling=No\n", false},
		{"other_section", "[Driver]\nPooling=Yes\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".ini")
			if err := os.WriteFile(p, []byte(tc.ini), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := poolingEnabled(p); got != tc.want {
				t.Errorf("poolingEnabled = %v, want %v", got, tc.want)
			}
		})
	}
	if poolingEnabled(filepath.Join(dir, "missing.ini")) {
		t.Error("a missing file enables pooling")
	}
}

func TestCleanupRemovesPrivateDir(t *testing.T) {
	if _, err := odbcConf.dsnFor(dsnKey{dialect: DialectSimulator, driver: "/usr/lib/x.so", host: "h", port: 1}); err != nil {
		t.Skipf("no private configuration here: %v", err)
	}
	dir := odbcConf.dir
	if err := Cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists: %v", dir, err)
	}
}
