package sim

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// Session is one client session.
type Session struct {
	n      *Node
	user   string
	sysdba bool
	props  map[string]int64 // ALTER SESSION overrides (guarded by n.mu)
	noRepl bool             // ALTER SESSION SET REPLICATION = FALSE (guarded by n.mu)
	closed bool
}

// User is the session's user name (SYS).
func (s *Session) User() string { return s.user }

// Close ends the session (releases the SYSDBA slot).
func (s *Session) Close() {
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	n.sessions--
	if n.sysdba == s {
		n.sysdba = nil
	}
}

// sessionProp is the session's value of a property (its own or the system's).
func (s *Session) sessionProp(name string) int64 {
	s.n.mu.Lock()
	defer s.n.mu.Unlock()
	if v, ok := s.props[name]; ok {
		return v
	}
	return s.n.props[name]
}

// isDDL reports the statements checked against DDL_TIMEOUT instead of
// QUERY_TIMEOUT (docs/altibase.md section 2: schema DDL vs DCL/DML).
func isDDL(st any) bool {
	switch x := st.(type) {
	case *createReplStmt, *dropReplStmt, *createTableStmt, *truncateStmt, *createUserStmt:
		return true
	case *alterReplStmt:
		return x.action == actReset
	}
	return false
}

// Exec runs one SQL statement. ctx is cancelled when the client sends a
// cancel request; the session's QUERY_TIMEOUT is enforced by the engine
// (0x01044). Errors are *Error.
func (s *Session) Exec(ctx context.Context, sql string) (*Result, error) {
	st, err := parse(sql)
	if err != nil {
		return nil, err
	}
	n := s.n
	n.mu.Lock()
	closed := n.closed || s.closed
	n.mu.Unlock()
	if closed {
		return nil, errc(altibase.CodeLinkFailure)
	}
	if sim, ok := st.(*simStmt); ok {
		return n.execSim(sim)
	}
	if code, ok := n.faults.takeFailNext(sql); ok {
		return nil, injectedErr(code)
	}
	limit := propQueryTimeout
	if isDDL(st) {
		limit = propDDLTimeout
	}
	tctx := ctx
	if secs := s.sessionProp(limit); secs > 0 {
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeout(ctx, time.Duration(secs)*time.Second)
		defer cancel()
	}
	if d := n.opts.Profile.StatementDelay + n.faults.delay(sql); d > 0 {
		if err := sleepCtx(tctx, d); err != nil {
			return nil, ctxErr(ctx, tctx)
		}
	}
	res, err := s.run(tctx, st)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			var e *Error
			if !errors.As(err, &e) {
				return nil, ctxErr(ctx, tctx)
			}
		}
		return nil, err
	}
	return res, nil
}

// sleepCtx sleeps d or until ctx ends (returning ctx.Err()).
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Session) run(ctx context.Context, st any) (*Result, error) {
	n := s.n
	switch x := st.(type) {
	case *selectStmt:
		return s.execSelect(x)
	case *insertStmt:
		return s.execInsert(x)
	case *updateStmt:
		return s.execUpdate(x)
	case *deleteStmt:
		return s.execDelete(x)
	case *createTableStmt:
		return s.execCreateTable(x)
	case *createUserStmt:
		return s.execCreateUser(x)
	case *truncateStmt:
		return s.execTruncate(x)
	case *createReplStmt:
		return s.execCreateRepl(x)
	case *alterReplStmt:
		return s.execAlterRepl(ctx, x)
	case *dropReplStmt:
		return s.execDropRepl(x)
	case *alterSystemStmt:
		if s.user != "SYS" {
			return nil, errc(altibase.CodeNoPermission)
		}
		if err := n.setSystemProp(x.prop, x.val); err != nil {
			return nil, err
		}
		return &Result{Tag: "ALTER"}, nil
	case *alterSessionStmt:
		return s.execAlterSession(x)
	case *noopStmt:
		return &Result{Tag: x.tag}, nil
	}
	return nil, syntaxErr("unsupported statement")
}

func (s *Session) execAlterSession(x *alterSessionStmt) (*Result, error) {
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if x.prop == "REPLICATION" {
		// ALTER SESSION SET REPLICATION = FALSE: the session's changes are
		// not logged for replication; DEFAULT or TRUE: they are.
		v, _ := x.val.(string)
		switch strings.ToUpper(v) {
		case "FALSE":
			s.noRepl = true
		case "DEFAULT", "TRUE":
			s.noRepl = false
		default:
			return nil, syntaxErr("invalid value for REPLICATION")
		}
		return &Result{Tag: "ALTER"}, nil
	}
	if _, known := n.props[x.prop]; !known {
		return nil, syntaxErr("unknown property %s", x.prop)
	}
	switch v := x.val.(type) {
	case int64:
		if v < 0 {
			return nil, syntaxErr("invalid value %d for %s", v, x.prop)
		}
		s.props[x.prop] = v
	case string:
		if strings.ToUpper(v) != "DEFAULT" {
			return nil, syntaxErr("invalid value %s for %s", v, x.prop)
		}
		delete(s.props, x.prop)
	default:
		return nil, syntaxErr("invalid value for %s", x.prop)
	}
	return &Result{Tag: "ALTER"}, nil
}

// replicates reports whether the session's changes go to the change log
// (not after ALTER SESSION SET REPLICATION = FALSE); caller holds n.mu.
func (s *Session) replicates() bool { return !s.noRepl }

func (s *Session) execCreateUser(x *createUserStmt) (*Result, error) {
	if s.user != "SYS" {
		return nil, errc(altibase.CodeNoPermission)
	}
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.users[x.name]; ok || x.name == "SYS" {
		return nil, &Error{Code: altibase.CodeSyntaxError, SQLState: "HY000", Message: "Duplicate user name " + x.name}
	}
	n.users[x.name] = x.password
	b := &batch{}
	b.putJSON(bucketMeta, "users", n.users)
	if err := n.commit(b); err != nil {
		delete(n.users, x.name)
		return nil, err
	}
	return &Result{Tag: "CREATE"}, nil
}
