package altibase

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/alexbrainman/odbc"
)

// Sentinels for the error classes aku branches on. Every error the client
// returns from a server interaction is an *Error; match it with errors.Is
// against these (an *Error can belong to several classes: a login timeout is
// both ErrConnect and ErrTimeout). IsRetryable tells which are transient.
var (
	// ErrAlreadyStarted: the sender is already running (0x6100A, from
	// START/SYNC/RESET). For START the lifecycle treats it as "running".
	ErrAlreadyStarted = errors.New("sender already started")
	// ErrHandshake: the sender could not handshake with its peer (0x6100D:
	// peer down, no same-named object there, schema mismatch; 0x61010).
	ErrHandshake = errors.New("handshake with peer failed")
	// ErrNotStarted: the replication is not started (0x61027, STOP/FLUSH).
	ErrNotStarted = errors.New("replication not started")
	// ErrReplicationStarted: refused because the replication is started
	// (0x610FE, DROP or ADD/DROP HOST while IS_STARTED=1).
	ErrReplicationStarted = errors.New("replication is started")
	// ErrUndefinedReplication: no replication of that name (0x6111B).
	ErrUndefinedReplication = errors.New("undefined replication")
	// ErrDuplicateReplication: a replication of that name exists (0x61100).
	ErrDuplicateReplication = errors.New("duplicate replication")
	// ErrDuplicateHost: another replication uses the same host:port (0x6110C)
	// and REPLICATION_ALLOW_DUPLICATE_HOSTS is 0.
	ErrDuplicateHost = errors.New("replication host already used")
	// ErrAnotherSYSDBA: the server's one SYSDBA session is taken (0x41041,
	// 0x5108A). Transient: the holder closes it.
	ErrAnotherSYSDBA = errors.New("another SYSDBA session is running")
	// ErrLoginRefused: wrong password (0x4102E, 28000), ADMIN_MODE refusal
	// (0x4106E), remote SYSDBA refused (0x410C9), invalid privileges (0x41043).
	ErrLoginRefused = errors.New("login refused")
	// ErrTimeout: a bound fired: QUERY_TIMEOUT (0x01044, HYT00), login
	// timeout (0x5104D, HYT01), FLUSH WAIT (0x61075) or a context deadline.
	ErrTimeout = errors.New("timeout")
	// ErrFlushTimeout: FLUSH ... WAIT n ran out (0x61075); also ErrTimeout.
	ErrFlushTimeout = errors.New("flush wait timed out")
	// ErrConnect: no session could be established (08001, 0x50032, any
	// failure while connecting, including Altibase's "01S00 only": connect
	// failed, cause unknown).
	ErrConnect = errors.New("connect failed")
	// ErrLinkLost: the session's link broke (08S01, 0x51043); the client
	// reconnects before retrying.
	ErrLinkLost = errors.New("connection lost")
	// ErrSyncFailed: SYNC failed (0x61153); the target must be truncated.
	ErrSyncFailed = errors.New("replication sync failed")
	// ErrReplicationDDLDisabled: DDL on a replicated table while
	// REPLICATION_DDL_ENABLE is 0 (0x312C4).
	ErrReplicationDDLDisabled = errors.New("DDL on replicated table disabled")
	// ErrUncertain: the link broke after a statement that must not run twice
	// (SYNC, TRUNCATE) was sent, and its outcome cannot be read back. Not
	// retryable: the caller must restore a known state first.
	ErrUncertain = errors.New("statement outcome unknown")
)

// CodeAnotherSYSDBAIPC is the client-side form of "Another SYSDBA session is
// already running." (SQLSTATE 08001), seen over IPC (docs/altibase.md section 5).
const CodeAnotherSYSDBAIPC Code = 0x5108A

// kind is a bit set of error classes.
type kind uint32

const (
	kindAlreadyStarted kind = 1 << iota
	kindHandshake
	kindNotStarted
	kindReplicationStarted
	kindUndefined
	kindDuplicate
	kindDuplicateHost
	kindAnotherSYSDBA
	kindLoginRefused
	kindTimeout
	kindFlushTimeout
	kindConnect
	kindLinkLost
	kindSyncFailed
	kindDDLDisabled
	kindUncertain
	kindCanceled
)

// sentinels maps each sentinel to its class bit.
var sentinels = []struct {
	err error
	k   kind
}{
	{ErrAlreadyStarted, kindAlreadyStarted},
	{ErrHandshake, kindHandshake},
	{ErrNotStarted, kindNotStarted},
	{ErrReplicationStarted, kindReplicationStarted},
	{ErrUndefinedReplication, kindUndefined},
	{ErrDuplicateReplication, kindDuplicate},
	{ErrDuplicateHost, kindDuplicateHost},
	{ErrAnotherSYSDBA, kindAnotherSYSDBA},
	{ErrLoginRefused, kindLoginRefused},
	{ErrTimeout, kindTimeout},
	{ErrFlushTimeout, kindFlushTimeout},
	{ErrConnect, kindConnect},
	{ErrLinkLost, kindLinkLost},
	{ErrSyncFailed, kindSyncFailed},
	{ErrReplicationDDLDisabled, kindDDLDisabled},
	{ErrUncertain, kindUncertain},
}

// Retry policy: transient classes are retried (after reconnecting where the
// link is gone); a refusal, an uncertain outcome or a cancellation never is.
// Handshake failures are permanent here: on a first start most peers are
// simply absent, and the lifecycle decides what that means.
const (
	retryableKinds = kindConnect | kindLinkLost | kindAnotherSYSDBA
	permanentKinds = kindLoginRefused | kindUncertain | kindCanceled
)

// codeKinds classifies Altibase native codes.
var codeKinds = map[Code]kind{
	CodeSenderAlreadyStarted:  kindAlreadyStarted,
	CodeHandshakeFailed:       kindHandshake,
	CodeSenderStartFailed:     kindHandshake,
	CodeNotStarted:            kindNotStarted,
	CodeAlreadyStarted:        kindReplicationStarted,
	CodeUndefinedReplication:  kindUndefined,
	CodeDuplicateName:         kindDuplicate,
	CodeDuplicateHost:         kindDuplicateHost,
	CodeAnotherSYSDBA:         kindAnotherSYSDBA,
	CodeAnotherSYSDBAIPC:      kindAnotherSYSDBA,
	CodeInvalidPassword:       kindLoginRefused,
	CodeInvalidPrivileges:     kindLoginRefused,
	CodeAdminMode:             kindLoginRefused,
	CodeRemoteSYSDBA:          kindLoginRefused,
	CodeQueryTimeout:          kindTimeout,
	CodeLoginTimeout:          kindTimeout | kindConnect,
	CodeFlushTimeout:          kindTimeout | kindFlushTimeout,
	CodeConnectFailed:         kindConnect,
	CodeLinkFailure:           kindLinkLost,
	CodeSyncFailed:            kindSyncFailed,
	CodeReplicationDDLDisable: kindDDLDisabled,
}

// stateKinds classifies SQLSTATEs (both drivers).
var stateKinds = map[string]kind{
	"08001": kindConnect,
	"08004": kindConnect,
	"08S01": kindLinkLost,
	"HYT00": kindTimeout,
	"HYT01": kindTimeout,
	"28000": kindLoginRefused,
	"28P01": kindLoginRefused,
}

// Error is a failed server interaction, classified. Statement never holds
// the password (connects show "CONNECT" and a redacted connection string is
// only logged).
type Error struct {
	Server    string // host:port
	Statement string // the SQL text, or "CONNECT"
	Code      Code   // Altibase code; 0 if none was reported
	SQLState  string
	Message   string // the driver's diagnostic text
	Err       error  // the underlying error (*odbc.Error, context error, ...)

	kinds kind
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "altibase %s: %s: ", e.Server, e.Statement)
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if msg == "" {
		msg = "failed"
	}
	switch {
	case e.Code != 0:
		fmt.Fprintf(&b, "%s (%s): %s", e.Code, e.SQLState, msg)
	case e.SQLState != "":
		fmt.Fprintf(&b, "%s: %s", e.SQLState, msg)
	default:
		b.WriteString(msg)
	}
	return b.String()
}

// Unwrap returns the underlying error (so context.DeadlineExceeded and
// *odbc.Error stay reachable through errors.Is/As).
func (e *Error) Unwrap() error { return e.Err }

// Is matches the class sentinels (ErrAlreadyStarted, ErrTimeout, ...).
func (e *Error) Is(target error) bool {
	for _, s := range sentinels {
		if target == s.err {
			return e.kinds&s.k != 0
		}
	}
	return false
}

// Retryable reports whether the failure is transient (connect failures, a
// lost link, another SYSDBA session) and the outcome is known.
func (e *Error) Retryable() bool {
	return e.kinds&retryableKinds != 0 && e.kinds&permanentKinds == 0
}

// IsRetryable reports whether err is an *Error of a transient class.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable()
}

// phase tells classification whether a connect or a statement failed.
type phase int

const (
	phaseStatement phase = iota
	phaseConnect
)

// connectStatement is Error.Statement for connect failures.
const connectStatement = "CONNECT"

// classify turns any error from database/sql or the ODBC driver into an
// *Error. An *Error passes through unchanged.
func classify(d Dialect, server, stmt string, ph phase, err error) *Error {
	var done *Error
	if errors.As(err, &done) {
		return done
	}
	e := &Error{Server: server, Statement: stmt, Err: err}
	var oe *odbc.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		e.kinds = kindTimeout
	case errors.Is(err, context.Canceled):
		e.kinds = kindCanceled
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone):
		// alexbrainman/odbc hides an 08S01 record behind ErrBadConn.
		e.SQLState, e.kinds = "08S01", kindLinkLost
	case errors.As(err, &oe):
		classifyODBC(d, ph, oe, e)
	}
	if ph == phaseConnect && e.kinds&kindCanceled == 0 {
		e.kinds |= kindConnect
	}
	return e
}

// classifyODBC fills e from the driver's diagnostic records. Warnings
// (SQLSTATE class 01, such as Altibase's 01S00 "pair ignored") are skipped;
// a connect that reports nothing else failed for an unknown cause.
func classifyODBC(d Dialect, ph phase, oe *odbc.Error, e *Error) {
	var rec *odbc.DiagRecord
	for i := range oe.Diag {
		if !strings.HasPrefix(oe.Diag[i].State, "01") {
			rec = &oe.Diag[i]
			break
		}
	}
	if rec == nil {
		if len(oe.Diag) > 0 {
			e.SQLState = oe.Diag[0].State
		}
		if ph == phaseConnect {
			e.Message = "connect failed, cause unknown (the driver reported only warnings)"
		} else {
			e.Message = "failed without a diagnostic record"
		}
		return
	}
	e.SQLState = rec.State
	e.Message = strings.TrimSpace(rec.Message)
	switch d {
	case DialectSimulator:
		// psqlODBC's NativeError is its own number; the Altibase code
		// travels in the message ("ERR-6100A : ...").
		if c, ok := CodeFromMessage(rec.Message); ok {
			e.Code = c
		}
		// psqlODBC reports its connect_timeout as 08001 "timeout expired".
		if ph == phaseConnect && strings.Contains(rec.Message, "timeout expired") {
			e.kinds |= kindTimeout
		}
	default:
		if rec.NativeError > 0 {
			e.Code = Code(rec.NativeError)
		}
	}
	e.kinds |= codeKinds[e.Code] | stateKinds[e.SQLState]
}

// errNoResultSet is the exact text alexbrainman/odbc returns from
// QueryContext for a statement without a result set, after the statement
// ran successfully.
const errNoResultSet = "Stmt did not create a result set"

// isNoResultSet reports that one condition and nothing else: a plain error
// (not a driver diagnostic, not wrapped) with exactly that text.
func isNoResultSet(err error) bool {
	if err == nil {
		return false
	}
	var oe *odbc.Error
	if errors.As(err, &oe) {
		return false
	}
	return err.Error() == errNoResultSet
}
