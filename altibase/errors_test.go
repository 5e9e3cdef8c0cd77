package altibase

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/alexbrainman/odbc"
	"github.com/sethvargo/go-retry"
)

// altibaseErr builds what Altibase's driver returns: SQLSTATE, native code,
// message without the ERR- prefix, possibly after an 01S00 warning.
func altibaseErr(state string, code Code, msg string, warn bool) error {
	e := &odbc.Error{APIName: "SQLExecute"}
	if warn {
		e.Diag = append(e.Diag, odbc.DiagRecord{State: "01S00", NativeError: 0x52063, Message: "Connection string pair [DRIVER = x] ignored."})
	}
	e.Diag = append(e.Diag, odbc.DiagRecord{State: state, NativeError: int(code), Message: msg})
	return e
}

// simErr builds what psqlODBC returns for a simulator error: its own
// NativeError, the code in the message, "ERROR: " and a suffix around it.
func simErr(state string, code Code, msg string) error {
	return &odbc.Error{APIName: "SQLExecute", Diag: []odbc.DiagRecord{{
		State: state, NativeError: 7, // psqlODBC's number, meaningless here
		Message: "ERROR: " + ServerMessage(code, msg) + ";\nError while executing the query",
	}}}
}

func TestClassify(t *testing.T) {
	all := []error{ErrAlreadyStarted, ErrHandshake, ErrNotStarted, ErrReplicationStarted, ErrUndefinedReplication,
		ErrDuplicateReplication, ErrDuplicateHost, ErrAnotherSYSDBA, ErrLoginRefused, ErrTimeout, ErrFlushTimeout,
		ErrConnect, ErrLinkLost, ErrSyncFailed, ErrReplicationDDLDisabled, ErrUncertain}
	tests := []struct {
		name      string
		dialect   Dialect
		ph        phase
		err       error
		want      []error // exactly these sentinels match
		code      Code
		retryable bool
	}{
		{"alti_already_started", DialectAltibase, phaseStatement, altibaseErr("HY000", 0x6100A, "The sender has already been started.", false),
			[]error{ErrAlreadyStarted}, 0x6100A, false},
		{"alti_handshake", DialectAltibase, phaseStatement, altibaseErr("HY000", 0x6100D, "[Sender] Failed to handshake with the peer server (Handshake Process Error)", false),
			[]error{ErrHandshake}, 0x6100D, false},
		{"alti_not_started", DialectAltibase, phaseStatement, altibaseErr("HY000", 0x61027, "Replication did not start.", false),
			[]error{ErrNotStarted}, 0x61027, false},
		{"alti_drop_started", DialectAltibase, phaseStatement, altibaseErr("HY000", 0x610FE, "Replication has already started.", false),
			[]error{ErrReplicationStarted}, 0x610FE, false},
		{"alti_undefined", DialectAltibase, phaseStatement, altibaseErr("HY000", 0x6111B, "Undefined replication name.", false),
			[]error{ErrUndefinedReplication}, 0x6111B, false},
		{"alti_duplicate", DialectAltibase, phaseStatement, altibaseErr("HY000", 0x61100, "Duplicate replication names.", false),
			[]error{ErrDuplicateReplication}, 0x61100, false},
		{"alti_duplicate_host", DialectAltibase, phaseStatement, altibaseErr("HY000", 0x6110C, "Replication hosts already exist.", false),
			[]error{ErrDuplicateHost}, 0x6110C, false},
		{"alti_query_timeout", DialectAltibase, phaseStatement, altibaseErr("HYT00", 0x01044, "Client's query exceeded the execution time limit.", false),
			[]error{ErrTimeout}, 0x01044, false},
		{"alti_flush_timeout", DialectAltibase, phaseStatement, altibaseErr("HY000", 0x61075, "Timeout exceed.", false),
			[]error{ErrTimeout, ErrFlushTimeout}, 0x61075, false},
		{"alti_sync_failed", DialectAltibase, phaseStatement, altibaseErr("HY000", 0x61153, "Replication synchronization failed.", false),
			[]error{ErrSyncFailed}, 0x61153, false},
		{"alti_ddl_disabled", DialectAltibase, phaseStatement, altibaseErr("HY000", 0x312C4, "Cannot execute this DDL ...", false),
			[]error{ErrReplicationDDLDisabled}, 0x312C4, false},
		{"alti_link_failure", DialectAltibase, phaseStatement, altibaseErr("HY000", 0x51043, "Communication link failure.", false),
			[]error{ErrLinkLost}, 0x51043, true},
		{"alti_bad_conn", DialectAltibase, phaseStatement, driver.ErrBadConn, []error{ErrLinkLost}, 0, true},
		{"alti_conn_done", DialectAltibase, phaseStatement, sql.ErrConnDone, []error{ErrLinkLost}, 0, true},
		// Connects through a DSN return the real cause.
		{"alti_refused", DialectAltibase, phaseConnect, altibaseErr("08001", 0x50032, "Client unable to establish connection.", false),
			[]error{ErrConnect}, 0x50032, true},
		{"alti_another_sysdba", DialectAltibase, phaseConnect, altibaseErr("HY000", 0x41041, "Another SYSDBA session is already running.", false),
			[]error{ErrAnotherSYSDBA, ErrConnect}, 0x41041, true},
		{"alti_another_sysdba_ipc", DialectAltibase, phaseConnect, altibaseErr("08001", 0x5108A, "Another SYSDBA session is already running.", false),
			[]error{ErrAnotherSYSDBA, ErrConnect}, 0x5108A, true},
		{"alti_wrong_password", DialectAltibase, phaseConnect, altibaseErr("28000", 0x4102E, "Invalid password", true),
			[]error{ErrLoginRefused, ErrConnect}, 0x4102E, false},
		{"alti_admin_mode", DialectAltibase, phaseConnect, altibaseErr("HY000", 0x4106E, "If ADMIN_MODE is activated ...", false),
			[]error{ErrLoginRefused, ErrConnect}, 0x4106E, false},
		{"alti_login_timeout", DialectAltibase, phaseConnect, altibaseErr("HYT01", 0x5104D, "Connection timeout.", false),
			[]error{ErrTimeout, ErrConnect}, 0x5104D, true},
		// With DRIVER=<path>, a failed connect yields only 01S00.
		{"alti_01S00_only", DialectAltibase, phaseConnect,
			&odbc.Error{APIName: "SQLDriverConnect", Diag: []odbc.DiagRecord{{State: "01S00", NativeError: 0x52063, Message: "Connection string pair [DRIVER = x] ignored."}}},
			[]error{ErrConnect}, 0, true},
		{"context_deadline", DialectAltibase, phaseStatement, fmt.Errorf("q: %w", context.DeadlineExceeded), []error{ErrTimeout}, 0, false},
		{"context_deadline_connect", DialectAltibase, phaseConnect, context.DeadlineExceeded, []error{ErrTimeout, ErrConnect}, 0, true},
		{"context_canceled", DialectAltibase, phaseStatement, context.Canceled, nil, 0, false},
		{"unknown", DialectAltibase, phaseStatement, altibaseErr("42000", 0x31001, "SQL syntax error", false), nil, 0x31001, false},

		// Simulator through psqlODBC: NativeError is ignored, the code is
		// read from the message.
		{"sim_already_started", DialectSimulator, phaseStatement, simErr("HY000", 0x6100A, "The sender has already been started."),
			[]error{ErrAlreadyStarted}, 0x6100A, false},
		{"sim_handshake", DialectSimulator, phaseStatement, simErr("HY000", 0x6100D, "[Sender] Failed to handshake with the peer server (Handshake Process Error)"),
			[]error{ErrHandshake}, 0x6100D, false},
		{"sim_not_started", DialectSimulator, phaseStatement, simErr("HY000", 0x61027, "Replication did not start."),
			[]error{ErrNotStarted}, 0x61027, false},
		{"sim_undefined", DialectSimulator, phaseStatement, simErr("HY000", 0x6111B, "Undefined replication name."),
			[]error{ErrUndefinedReplication}, 0x6111B, false},
		{"sim_duplicate", DialectSimulator, phaseStatement, simErr("HY000", 0x61100, "Duplicate replication names."),
			[]error{ErrDuplicateReplication}, 0x61100, false},
		{"sim_query_timeout", DialectSimulator, phaseStatement, simErr("HYT00", 0x01044, "Client's query exceeded the execution time limit."),
			[]error{ErrTimeout}, 0x01044, false},
		{"sim_flush_timeout", DialectSimulator, phaseStatement, simErr("HY000", 0x61075, "Timeout exceed."),
			[]error{ErrTimeout, ErrFlushTimeout}, 0x61075, false},
		{"sim_another_sysdba", DialectSimulator, phaseConnect,
			&odbc.Error{APIName: "SQLDriverConnect", Diag: []odbc.DiagRecord{{State: "08001", NativeError: 101,
				Message: `connection to server at "127.0.0.1", port 5 failed: ERROR:  ERR-41041 : Another SYSDBA session is already running.`}}},
			[]error{ErrAnotherSYSDBA, ErrConnect}, 0x41041, true},
		{"sim_wrong_password", DialectSimulator, phaseConnect,
			&odbc.Error{APIName: "SQLDriverConnect", Diag: []odbc.DiagRecord{{State: "08001", NativeError: 101,
				Message: `connection to server at "127.0.0.1", port 5 failed: ERROR:  ERR-4102E : Invalid password`}}},
			[]error{ErrLoginRefused, ErrConnect}, 0x4102E, false},
		{"sim_refused", DialectSimulator, phaseConnect,
			&odbc.Error{APIName: "SQLDriverConnect", Diag: []odbc.DiagRecord{{State: "08001", NativeError: 101,
				Message: "connection to server at \"127.0.0.1\", port 1 failed: Connection refused"}}},
			[]error{ErrConnect}, 0, true},
		{"sim_connect_timeout", DialectSimulator, phaseConnect,
			&odbc.Error{APIName: "SQLDriverConnect", Diag: []odbc.DiagRecord{{State: "08001", NativeError: 101,
				Message: "connection to server at \"127.0.0.1\", port 1 failed: timeout expired"}}},
			[]error{ErrConnect, ErrTimeout}, 0, true},
		// A psqlODBC NativeError that happens to equal an Altibase code
		// must not be taken for one.
		{"sim_native_ignored", DialectSimulator, phaseStatement,
			&odbc.Error{Diag: []odbc.DiagRecord{{State: "HY000", NativeError: int(CodeSenderAlreadyStarted), Message: "ERROR: something else"}}},
			nil, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stmt := "ALTER REPLICATION R START"
			if tc.ph == phaseConnect {
				stmt = connectStatement
			}
			var err error = classify(tc.dialect, "pod-0:20300", stmt, tc.ph, tc.err)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %v", err)
			}
			if e.Code != tc.code {
				t.Errorf("Code = %v, want %v", e.Code, tc.code)
			}
			for _, s := range all {
				want := false
				for _, w := range tc.want {
					want = want || w == s
				}
				if got := errors.Is(err, s); got != want {
					t.Errorf("errors.Is(%v) = %v, want %v", s, got, want)
				}
			}
			if got := IsRetryable(err); got != tc.retryable {
				t.Errorf("IsRetryable = %v, want %v", got, tc.retryable)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("underlying error not reachable through Unwrap")
			}
			if !strings.Contains(err.Error(), "pod-0:20300") {
				t.Errorf("message lacks the server: %s", err)
			}
		})
	}
}

func TestErrorMessageHasNoPassword(t *testing.T) {
	err := classify(DialectAltibase, "h:1", connectStatement, phaseConnect, altibaseErr("28000", 0x4102E, "Invalid password", false))
	if strings.Contains(err.Error(), "PWD") || err.Statement != connectStatement {
		t.Errorf("connect error shows connection details: %v", err)
	}
	if got := err.Error(); got != "altibase h:1: CONNECT: ERR-4102E (28000): Invalid password" {
		t.Errorf("Error() = %q", got)
	}
}

func TestUncertain(t *testing.T) {
	lost := classify(DialectAltibase, "h:1", "ALTER REPLICATION R SYNC", phaseStatement, driver.ErrBadConn)
	if !IsRetryable(lost) {
		t.Fatal("lost link not retryable")
	}
	u := uncertain(lost)
	if !errors.Is(u, ErrUncertain) || !errors.Is(u, ErrLinkLost) || IsRetryable(u) {
		t.Errorf("uncertain: Is(ErrUncertain)=%v Is(ErrLinkLost)=%v retryable=%v",
			errors.Is(u, ErrUncertain), errors.Is(u, ErrLinkLost), IsRetryable(u))
	}
	if errors.Is(lost, ErrUncertain) {
		t.Error("uncertain() changed its argument")
	}
}

func TestIsNoResultSet(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"exact", errors.New("Stmt did not create a result set"), true},
		{"nil", nil, false},
		{"wrapped", fmt.Errorf("x: %w", errors.New("Stmt did not create a result set")), false},
		{"other", errors.New("Stmt did not create a result set!"), false},
		{"odbc_error_same_text", &odbc.Error{APIName: "Stmt did not create a result set"}, false},
		{"server_error", altibaseErr("HY000", 0x6100D, "Stmt did not create a result set", false), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isNoResultSet(tc.err); got != tc.want {
				t.Errorf("isNoResultSet(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// testRetrier has a fake session: ensure fails with connectErrs in order
// first, then succeeds.
type fakeSession struct {
	connectErrs []error
	connects    int
	drops       int
}

func (f *fakeSession) retrier(retries uint64) retrier {
	return retrier{
		backoff: retry.WithMaxRetries(retries, retry.BackoffFunc(func() (time.Duration, bool) { return 0, false })),
		ensure: func(context.Context) error {
			f.connects++
			if len(f.connectErrs) > 0 {
				err := f.connectErrs[0]
				f.connectErrs = f.connectErrs[1:]
				return err
			}
			return nil
		},
		drop:    func() { f.drops++ },
		log:     slog.New(slog.DiscardHandler),
		wrapCtx: func(err error) error { return classify(DialectAltibase, "h:1", "RETRY", phaseStatement, err) },
	}
}

func TestRetryPolicy(t *testing.T) {
	stmtErr := func(code Code) error {
		return classify(DialectAltibase, "h:1", "S", phaseStatement, altibaseErr("HY000", code, "m", false))
	}
	connErr := func(code Code, state string) error {
		return classify(DialectAltibase, "h:1", connectStatement, phaseConnect, altibaseErr(state, code, "m", false))
	}
	t.Run("permanent_not_retried", func(t *testing.T) {
		var f fakeSession
		tries := 0
		err := f.retrier(5).run(t.Context(), func(context.Context, error) error { tries++; return stmtErr(CodeHandshakeFailed) })
		if tries != 1 || !errors.Is(err, ErrHandshake) {
			t.Errorf("tries=%d err=%v", tries, err)
		}
	})
	t.Run("query_timeout_not_retried", func(t *testing.T) {
		var f fakeSession
		tries := 0
		err := f.retrier(5).run(t.Context(), func(context.Context, error) error { tries++; return stmtErr(CodeQueryTimeout) })
		if tries != 1 || !errors.Is(err, ErrTimeout) {
			t.Errorf("tries=%d err=%v", tries, err)
		}
	})
	t.Run("connect_retried_until_success", func(t *testing.T) {
		f := fakeSession{connectErrs: []error{connErr(CodeConnectFailed, "08001"), connErr(CodeAnotherSYSDBA, "HY000")}}
		tries := 0
		err := f.retrier(5).run(t.Context(), func(context.Context, error) error { tries++; return nil })
		if err != nil || tries != 1 || f.connects != 3 {
			t.Errorf("err=%v tries=%d connects=%d", err, tries, f.connects)
		}
	})
	t.Run("wrong_password_not_retried", func(t *testing.T) {
		f := fakeSession{connectErrs: []error{connErr(CodeInvalidPassword, "28000")}}
		err := f.retrier(5).run(t.Context(), func(context.Context, error) error { return nil })
		if f.connects != 1 || !errors.Is(err, ErrLoginRefused) {
			t.Errorf("connects=%d err=%v", f.connects, err)
		}
	})
	t.Run("retries_exhausted", func(t *testing.T) {
		f := fakeSession{connectErrs: []error{connErr(CodeConnectFailed, "08001"), connErr(CodeConnectFailed, "08001"), connErr(CodeConnectFailed, "08001")}}
		err := f.retrier(2).run(t.Context(), func(context.Context, error) error { return nil })
		if f.connects != 3 || !errors.Is(err, ErrConnect) {
			t.Errorf("connects=%d err=%v", f.connects, err)
		}
	})
	t.Run("link_lost_drops_and_passes_prev", func(t *testing.T) {
		var f fakeSession
		var prevs []error
		lost := classify(DialectAltibase, "h:1", "S", phaseStatement, driver.ErrBadConn)
		err := f.retrier(5).run(t.Context(), func(_ context.Context, prev error) error {
			prevs = append(prevs, prev)
			if len(prevs) == 1 {
				return lost
			}
			return nil
		})
		if err != nil || f.drops != 1 || len(prevs) != 2 || prevs[0] != nil || !errors.Is(prevs[1], ErrLinkLost) {
			t.Errorf("err=%v drops=%d prevs=%v", err, f.drops, prevs)
		}
	})
	t.Run("uncertain_stops", func(t *testing.T) {
		var f fakeSession
		tries := 0
		lost := classify(DialectAltibase, "h:1", "S", phaseStatement, driver.ErrBadConn)
		err := f.retrier(5).run(t.Context(), func(_ context.Context, prev error) error {
			tries++
			if prev != nil {
				return uncertain(prev)
			}
			return lost
		})
		if tries != 2 || !errors.Is(err, ErrUncertain) {
			t.Errorf("tries=%d err=%v", tries, err)
		}
	})
	t.Run("context_end_keeps_last_error", func(t *testing.T) {
		f := fakeSession{connectErrs: []error{connErr(CodeConnectFailed, "08001")}}
		ctx, cancel := context.WithCancel(t.Context())
		r := f.retrier(5)
		r.backoff = retry.BackoffFunc(func() (time.Duration, bool) { cancel(); return time.Hour, false })
		err := r.run(ctx, func(context.Context, error) error { return nil })
		if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrConnect) {
			t.Errorf("err=%v", err)
		}
	})
}
