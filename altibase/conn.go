package altibase

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"sync"
	"time"

	// Registers the "odbc" database/sql driver (cgo, unixODBC).
	_ "github.com/alexbrainman/odbc"
)

// Endpoint is one Altibase server's service address.
type Endpoint struct {
	Host string
	Port int
}

// String renders host:port.
func (e Endpoint) String() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// Options configure a connection. The zero value of each field has a
// documented default.
type Options struct {
	// Dialect selects Altibase's driver or the simulator through psqlODBC.
	Dialect Dialect
	// Driver is the ODBC driver's path (default DefaultDriver(Dialect)).
	Driver string
	// Password is SYS's password. It goes into the connection string only
	// (braced as needed), never into odbc.ini, logs or errors.
	Password string
	// LoginTimeout bounds the connect (Altibase LOGIN_TIMEOUT, psqlODBC
	// pqopt connect_timeout), whole seconds rounded up (default 10 s). A
	// context deadline that comes sooner shortens it.
	LoginTimeout time.Duration
	// QueryTimeout is the session's QUERY_TIMEOUT (AKU_QUERY_TIMEOUT),
	// whole seconds rounded up (default 3600 s). Statements are also
	// bounded by a context deadline of QueryTimeout plus a margin.
	QueryTimeout time.Duration
	// NLSUse is Altibase's client character set (NLS_USE), e.g. UTF8.
	// Empty leaves the driver's default. Ignored by the simulator dialect.
	NLSUse string
	// RetryCount is how many times a retryable failure is retried
	// (AKU_QUERY_RETRY_COUNT); 0 disables retries.
	RetryCount int
	// RetryDelay is the wait between retries (AKU_QUERY_RETRY_DELAY_MSEC).
	RetryDelay time.Duration
	// DropReceiverWait bounds Drop's wait for the dropped object's receiver
	// to end (0: DefaultDropReceiverWait).
	DropReceiverWait time.Duration
	// Logger receives every statement at debug level (nil: discard).
	Logger *slog.Logger
	// Plain opens an ordinary SYS session instead of the SYSDBA one, for
	// read-only tools (aku status) that must not take the server's only
	// SYSDBA slot. A server in ADMIN_MODE = 1 refuses it (ErrLoginRefused).
	Plain bool
}

// Defaults for zero Options fields.
const (
	DefaultLoginTimeout = 10 * time.Second
	DefaultQueryTimeout = 3600 * time.Second
)

// statementSlack is added to QueryTimeout for a statement's context
// deadline: the server's QUERY_TIMEOUT should fire first and report 0x01044.
const statementSlack = 30 * time.Second

// withDefaults fills zero fields.
func (o Options) withDefaults() Options {
	if o.Driver == "" {
		o.Driver = DefaultDriver(o.Dialect)
	}
	if o.LoginTimeout <= 0 {
		o.LoginTimeout = DefaultLoginTimeout
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultQueryTimeout
	}
	if o.RetryCount < 0 {
		o.RetryCount = 0
	}
	if o.RetryDelay < 0 {
		o.RetryDelay = 0
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Conn is one dedicated SYSDBA session to one server (or, with
// Options.Plain, an ordinary SYS session). Altibase admits one
// SYSDBA session per server, and database/sql's pool silently re-runs
// statements after link errors, so a Conn holds exactly one *sql.Conn of a
// private *sql.DB (MaxOpenConns 1) and never runs statements on the DB.
// After a lost link it reconnects before the next attempt. Close it
// promptly. A Conn serialises its calls.
type Conn struct {
	ep   Endpoint
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	closed bool
	db     *sql.DB
	sc     *sql.Conn // nil after a lost link until the next attempt reconnects
}

// Connect opens the SYSDBA session to ep, retrying transient failures
// (refused, lost, another SYSDBA session) RetryCount times, and sets the
// session QUERY_TIMEOUT.
//
// Process-wide side effect: the first Connect creates a private directory
// with an odbc.ini (one DSN per server, no password) and sets ODBCINI and
// ODBCSYSINI for the whole process, once, overriding earlier values; see
// odbcconf.go. It fails with ErrPooling if unixODBC pools connections.
func Connect(ctx context.Context, ep Endpoint, opts Options) (*Conn, error) {
	opts = opts.withDefaults()
	if _, err := checkHost(ep.Host); err != nil {
		return nil, err
	}
	if err := checkPort(ep.Port); err != nil {
		return nil, err
	}
	if err := checkDriverPath(opts.Driver); err != nil {
		return nil, err
	}
	c := &Conn{ep: ep, opts: opts, log: opts.Logger.With("server", ep.String())}
	// withRetry connects before each try; the try itself has nothing to do.
	err := c.withRetry(ctx, func(context.Context, error) error { return nil })
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Endpoint returns the server this connection talks to.
func (c *Conn) Endpoint() Endpoint { return c.ep }

// Close ends the session and releases the server's SYSDBA slot.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	if c.sc != nil {
		errs = append(errs, c.sc.Close())
		c.sc = nil
	}
	if c.db != nil {
		errs = append(errs, c.db.Close())
		c.db = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close connection to %s: %w", c.ep, err)
	}
	return nil
}

// ensure connects if there is no live session: opens the session and sets
// QUERY_TIMEOUT on it.
func (c *Conn) ensure(ctx context.Context) error {
	if c.sc != nil {
		return nil
	}
	sc, err := c.open(ctx)
	if err != nil {
		return err
	}
	c.sc = sc
	if err := c.setQueryTimeout(ctx, c.opts.QueryTimeout); err != nil {
		c.drop()
		return err
	}
	return nil
}

// drop discards a session whose link is gone (or whose setup failed),
// with its private DB; the next attempt builds both afresh.
func (c *Conn) drop() {
	if c.sc != nil {
		c.sc.Close() // the link is gone; the close error says nothing new
		c.sc = nil
	}
	if c.db != nil {
		c.db.Close()
		c.db = nil
	}
}

// open makes one connect attempt, bounded by the login timeout (in the
// connection string) and by ctx: database/sql does not pass ctx to the
// ODBC driver's connect, so a connect that outlives ctx is abandoned and
// closed as soon as it finishes.
func (c *Conn) open(ctx context.Context) (*sql.Conn, error) {
	server := c.ep.String()
	dsn, err := odbcConf.dsnFor(dsnKey{c.opts.Dialect, c.opts.Driver, c.ep.Host, c.ep.Port})
	if err != nil {
		return nil, classify(c.opts.Dialect, server, connectStatement, phaseConnect, err)
	}
	p := connParams{
		dialect:      c.opts.Dialect,
		dsn:          dsn,
		host:         c.ep.Host,
		port:         c.ep.Port,
		password:     c.opts.Password,
		loginTimeout: loginSeconds(ctx, c.opts.LoginTimeout),
		queryTimeout: wholeSeconds(c.opts.QueryTimeout),
		nlsUse:       c.opts.NLSUse,
		plain:        c.opts.Plain,
	}
	cs, err := connString(p, false)
	if err != nil {
		return nil, err
	}
	shown, _ := connString(p, true)
	c.log.Debug("connect", "connString", shown)
	// A private DB per attempt: its connection string carries this
	// attempt's login timeout. One open connection at most, and no idle
	// pool, so closing the *sql.Conn disconnects (frees the SYSDBA slot).
	db, err := sql.Open("odbc", cs)
	if err != nil {
		return nil, classify(c.opts.Dialect, server, connectStatement, phaseConnect, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(0)
	type result struct {
		sc  *sql.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		sc, err := db.Conn(context.WithoutCancel(ctx))
		ch <- result{sc, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			db.Close()
			return nil, classify(c.opts.Dialect, server, connectStatement, phaseConnect, r.err)
		}
		c.db = db
		return r.sc, nil
	case <-ctx.Done():
		// The private DB goes with the abandoned attempt.
		go func() {
			if r := <-ch; r.sc != nil {
				r.sc.Close()
			}
			db.Close()
		}()
		return nil, classify(c.opts.Dialect, server, connectStatement, phaseConnect, ctx.Err())
	}
}

// loginSeconds is the login timeout in whole seconds (at least 1), cut to
// the context's remaining time.
func loginSeconds(ctx context.Context, d time.Duration) int {
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < d {
			d = left
		}
	}
	if s := wholeSeconds(d); s > 1 {
		return s
	}
	return 1
}

// wholeSeconds rounds d up to whole seconds.
func wholeSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	s := math.Ceil(d.Seconds())
	if s > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(s)
}
