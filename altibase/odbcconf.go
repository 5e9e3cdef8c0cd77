package altibase

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// Why a private odbc.ini: with Altibase's driver a "DRIVER=<path>" connection
// string reduces every failed connect to one 01S00 warning ("pair ignored"),
// whereas a DSN from an odbc.ini returns the real error (docs/altibase.md section 8).
// So the client writes one DSN per server (driver, host, port) into an
// odbc.ini in a private temporary directory (0700, file 0600, no password in
// it) and connects with "DSN=<name>;...".
//
// Process-wide effects, done once, before the first connect: the environment
// variables ODBCINI (the file) and ODBCSYSINI (its directory, holding an
// odbcinst.ini with pooling off) are set for the whole process and override
// any values it had. Measured with unixODBC 2.3.11: ODBCINI set after
// alexbrainman/odbc's package init is honoured and the file is re-read on
// every connect (DSNs added later are found); ODBCSYSINI is cached when the
// driver package allocates its environment handle at init, so a late value is
// ignored. The DSNs therefore name the driver by full path and need no
// odbcinst.ini entry. The directory lives as long as the process; it holds no
// secrets.

// dsnKey identifies one DSN: one per (dialect, driver, server).
type dsnKey struct {
	dialect Dialect
	driver  string
	host    string
	port    int
}

// odbcFiles is the process-wide private ODBC configuration.
type odbcFiles struct {
	mu       sync.Mutex
	dir      string
	err      error // setup failure, sticky
	names    map[dsnKey]string
	sections []string
}

var odbcConf odbcFiles

// dsnFor returns the DSN name for key, creating the private configuration on
// first use and adding a section to odbc.ini when the key is new.
func (f *odbcFiles) dsnFor(key dsnKey) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dir == "" && f.err == nil {
		f.err = f.setup()
	}
	if f.err != nil {
		return "", f.err
	}
	// Without this check a changed ODBCINI shows up as the driver
	// manager's puzzling IM002 "Data source name not found".
	if ini := filepath.Join(f.dir, "odbc.ini"); os.Getenv("ODBCINI") != ini {
		return "", fmt.Errorf("ODBCINI is %q, not aku's %q: something else in the process changed it", os.Getenv("ODBCINI"), ini)
	}
	if name, ok := f.names[key]; ok {
		return name, nil
	}
	name := "AKU_" + strconv.Itoa(len(f.sections)+1)
	section, err := dsnSection(name, key)
	if err != nil {
		return "", err
	}
	if err := writePrivate(filepath.Join(f.dir, "odbc.ini"), strings.Join(append(f.sections, section), "\n")); err != nil {
		return "", err
	}
	f.sections = append(f.sections, section)
	f.names[key] = name
	return name, nil
}

// setup creates the private directory, writes odbcinst.ini and an empty
// odbc.ini, and points ODBCINI/ODBCSYSINI at them. It refuses to run when
// the driver manager pools connections (see poolingEnabled).
func (f *odbcFiles) setup() error {
	if sys := systemODBCInst(); poolingEnabled(sys) {
		return fmt.Errorf("%s enables unixODBC connection pooling ([ODBC] Pooling): a closed connection would keep "+
			"the server's only SYSDBA session; start aku with ODBCSYSINI pointing at a directory without it: %w", sys, ErrPooling)
	}
	dir, err := os.MkdirTemp("", "aku-odbc-")
	if err != nil {
		return fmt.Errorf("create private ODBC configuration directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restrict ODBC configuration directory %q: %w", dir, err)
	}
	// Pooling would keep a "closed" SYSDBA session open in the driver
	// manager, and Altibase admits only one per server.
	if err := writePrivate(filepath.Join(dir, "odbcinst.ini"), "[ODBC]\nPooling=No\n"); err != nil {
		return err
	}
	ini := filepath.Join(dir, "odbc.ini")
	if err := writePrivate(ini, ""); err != nil {
		return err
	}
	if err := os.Setenv("ODBCSYSINI", dir); err != nil {
		return fmt.Errorf("set ODBCSYSINI: %w", err)
	}
	if err := os.Setenv("ODBCINI", ini); err != nil {
		return fmt.Errorf("set ODBCINI: %w", err)
	}
	f.dir = dir
	f.names = make(map[dsnKey]string)
	return nil
}

// writePrivate replaces path atomically with content, mode 0600, so a
// connect reading it concurrently sees the old or the new file, never half.
func writePrivate(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %q: %w", path, err)
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	return nil
}

// dsnSection renders one odbc.ini section. Every value is validated: a
// newline or a bracket in a value would change the file's structure.
func dsnSection(name string, key dsnKey) (string, error) {
	if err := checkDriverPath(key.driver); err != nil {
		return "", err
	}
	host, err := checkHost(key.host)
	if err != nil {
		return "", err
	}
	if err := checkPort(key.port); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%s]\nDriver=%s\n", name, key.driver)
	switch key.dialect {
	case DialectSimulator:
		fmt.Fprintf(&b, "Servername=%s\nPort=%d\nDatabase=SYSDBA\n", host, key.port)
	default:
		fmt.Fprintf(&b, "Server=%s\nPort_No=%d\n", host, key.port)
	}
	return b.String(), nil
}

// checkDriverPath accepts an absolute path without control characters or
// the characters that would break an ini line or a connection string.
func checkDriverPath(p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("ODBC driver path %q: %w", p, ErrInvalidDriverPath)
	}
	for _, r := range p {
		if unicode.IsControl(r) || strings.ContainsRune("[];{}=", r) {
			return fmt.Errorf("ODBC driver path %q: %w", p, ErrInvalidDriverPath)
		}
	}
	return nil
}

// ErrPooling reports that unixODBC connection pooling is on for this process.
var ErrPooling = errors.New("ODBC connection pooling enabled")

// systemODBCInst is the odbcinst.ini unixODBC read when alexbrainman/odbc
// allocated its environment handle at package init: $ODBCSYSINI as the
// process started (setup has not replaced it yet), else Debian's /etc.
func systemODBCInst() string {
	dir := os.Getenv("ODBCSYSINI")
	if dir == "" {
		dir = "/etc"
	}
	return filepath.Join(dir, "odbcinst.ini")
}

// poolingEnabled reports whether the odbcinst.ini at path turns pooling on
// ([ODBC] Pooling = Yes/1/True). Measured: with it, SQLDisconnect leaves the
// session open in unixODBC's pool (the server kept the SYSDBA session after
// Close), and the private odbcinst.ini cannot switch it off because unixODBC
// reads that setting once, at driver package init. A missing or unreadable
// file means no pooling.
func poolingEnabled(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	section := ""
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.ToUpper(strings.TrimSpace(line[1 : len(line)-1]))
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != "ODBC" || !strings.EqualFold(strings.TrimSpace(k), "Pooling") {
			continue
		}
		switch strings.ToUpper(strings.TrimSpace(v)) {
		case "YES", "1", "TRUE", "ON":
			return true
		}
	}
	return false
}

// ErrInvalidDriverPath reports an ODBC driver path the client refuses to put
// into odbc.ini (relative, or with control characters, brackets, ';{}=').
var ErrInvalidDriverPath = errors.New("invalid ODBC driver path")

// odbcValue renders one connection-string value. Values holding ';', '{',
// '}' or '=' (or leading/trailing blanks) are braced, with '}' doubled, as
// ODBC's connection-string grammar requires. NUL cannot be passed at all.
func odbcValue(v string) (string, error) {
	if strings.ContainsRune(v, 0) {
		return "", errors.New("ODBC connection-string value contains NUL")
	}
	if strings.ContainsAny(v, ";{}=") || strings.TrimSpace(v) != v {
		return "{" + strings.ReplaceAll(v, "}", "}}") + "}", nil
	}
	return v, nil
}

// connParams is everything that goes into one connection string.
type connParams struct {
	dialect      Dialect
	dsn          string
	host         string
	port         int
	password     string
	loginTimeout int // whole seconds, >= 1
	queryTimeout int // whole seconds, 0: none
	nlsUse       string
	plain        bool // an ordinary SYS session, not SYSDBA
}

// redacted stands in for the password in logged connection strings.
const redacted = "***"

// connString builds the connection string after "DSN=". With redact the
// password is replaced, for logging.
func connString(p connParams, redact bool) (string, error) {
	pwd, err := odbcValue(p.password)
	if err != nil {
		return "", fmt.Errorf("SYS password: %w", err)
	}
	if redact {
		pwd = redacted
	}
	var b strings.Builder
	fmt.Fprintf(&b, "DSN=%s;", p.dsn)
	switch p.dialect {
	case DialectSimulator:
		// Database=SYSDBA is how the simulator learns the SYSDBA privilege;
		// simple-query protocol so every statement arrives as sent.
		// connect_timeout bounds a connect to a server that never answers
		// (libpq raises values below 2 to 2 s: measured 2.0 s for 1).
		db := "SYSDBA"
		if p.plain {
			db = "normal" // overrides the DSN's Database=SYSDBA
		}
		fmt.Fprintf(&b, "Servername=%s;Port=%d;UID=SYS;PWD=%s;Database=%s;", p.host, p.port, pwd, db)
		fmt.Fprintf(&b, "UseServerSidePrepare=0;Protocol=7.4-1;pqopt={connect_timeout=%d};", p.loginTimeout)
	default:
		priv := "PRIVILEGE=SYSDBA;"
		if p.plain {
			priv = ""
		}
		fmt.Fprintf(&b, "SERVER=%s;PORT_NO=%d;UID=SYS;PWD=%s;%sCONNTYPE=1;", p.host, p.port, pwd, priv)
		// LOGIN_TIMEOUT bounds the connect (CONNECTION_TIMEOUT alone does
		// not). CONNECTION_TIMEOUT, the driver's network wait, is set above
		// the query timeout so it can only cut a link that went silent.
		fmt.Fprintf(&b, "LOGIN_TIMEOUT=%d;", p.loginTimeout)
		if p.queryTimeout > 0 {
			fmt.Fprintf(&b, "CONNECTION_TIMEOUT=%d;", p.queryTimeout+connectionTimeoutSlack)
		}
		if p.nlsUse != "" {
			if !plainWord.MatchString(p.nlsUse) {
				return "", fmt.Errorf("NLS_USE %q: %w", p.nlsUse, ErrInvalidIdentifier)
			}
			fmt.Fprintf(&b, "NLS_USE=%s;", p.nlsUse)
		}
	}
	return b.String(), nil
}

// connectionTimeoutSlack is added to the query timeout for Altibase's
// CONNECTION_TIMEOUT, in seconds: the server answers by QUERY_TIMEOUT, so a
// link silent for longer than this is dead.
const connectionTimeoutSlack = 30

// Cleanup removes the private ODBC configuration directory, if one was
// made. Call it when the process has closed every connection (the mains do),
// so hooks that run at every pod start leave nothing behind; a later Connect
// makes a new one.
func Cleanup() error {
	f := &odbcConf
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dir == "" {
		return nil
	}
	err := os.RemoveAll(f.dir)
	f.dir, f.err, f.names, f.sections = "", nil, nil, nil
	return err
}
