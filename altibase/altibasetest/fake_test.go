package altibasetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/altibase/altibasetest/internal/sim"
)

// fakeEngine stands in for the engine in tests of the wire layer alone:
// the login rules of a real server and a handful of statements.
type fakeEngine struct {
	password string
	mu       sync.Mutex
	sysdba   bool
	admin    bool
	execs    []string
}

type fakeSession struct {
	e      *fakeEngine
	sysdba bool
	once   sync.Once
}

var typesDate = time.Date(2026, 11, 25, 13, 14, 15, 0, time.UTC)

func (e *fakeEngine) Login(l sim.Login) (engineSession, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case l.Password != e.password:
		return nil, &sim.Error{Code: altibase.CodeInvalidPassword, SQLState: "28000", Message: "Invalid password"}
	case e.admin && !l.SYSDBA:
		return nil, &sim.Error{Code: altibase.CodeAdminMode, SQLState: "HY000",
			Message: "If ADMIN_MODE is activated, only the users SYS and SYSTEM_ can connect to the database with SYSDBA privileges."}
	case l.SYSDBA && e.sysdba:
		return nil, &sim.Error{Code: altibase.CodeAnotherSYSDBA, SQLState: "HY000", Message: "Another SYSDBA session is already running."}
	}
	if l.SYSDBA {
		e.sysdba = true
	}
	return &fakeSession{e: e, sysdba: l.SYSDBA}, nil
}

func (e *fakeEngine) ReplicationAddr() string { return "127.0.0.1:1" }
func (e *fakeEngine) Close() error            { return nil }
func (e *fakeEngine) Kill()                   {}

func (e *fakeEngine) executed() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.execs...)
}

func (s *fakeSession) Exec(ctx context.Context, sql string) (*sim.Result, error) {
	s.e.mu.Lock()
	s.e.execs = append(s.e.execs, sql)
	s.e.mu.Unlock()
	if strings.HasPrefix(strings.ToUpper(sql), "INSERT") {
		return &sim.Result{Tag: "INSERT 1"}, nil
	}
	switch strings.ToUpper(sql) {
	case "SELECT TYPES":
		return &sim.Result{
			Columns: []sim.Column{
				{Name: "I", Type: sim.TypeInteger}, {Name: "XSN", Type: sim.TypeBigint},
				{Name: "V", Type: sim.TypeVarchar}, {Name: "N", Type: sim.TypeVarchar},
				{Name: "D", Type: sim.TypeDate}, {Name: "LONG", Type: sim.TypeChar},
			},
			Rows: [][]any{{int32(7), int64(-1), "héllo", nil, typesDate, strings.Repeat("x", 1000)},
				{int32(8), int64(1) << 40, "", nil, nil, "y"}},
			Tag: "SELECT 2",
		}, nil
	case "ADMIN ON", "ADMIN OFF":
		s.e.mu.Lock()
		s.e.admin = strings.HasSuffix(strings.ToUpper(sql), "ON")
		s.e.mu.Unlock()
		return &sim.Result{Tag: "ALTER"}, nil
	case "SLOW":
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Minute):
			return &sim.Result{Tag: "SLOW"}, nil
		}
	}
	return nil, &sim.Error{Code: altibase.CodeSyntaxError, SQLState: "42000", Message: "SQL syntax error"}
}

func (s *fakeSession) Close() {
	s.once.Do(func() {
		if s.sysdba {
			s.e.mu.Lock()
			s.e.sysdba = false
			s.e.mu.Unlock()
		}
	})
}

// newFakeServer starts a server over a fakeEngine.
func newFakeServer(t *testing.T) (*Server, *fakeEngine) {
	t.Helper()
	e := &fakeEngine{password: "manager"}
	s := NewServer(t, Options{Name: "fake", Logf: testLogf(t), openEngine: func(sim.Options) (engine, error) { return e, nil }})
	return s, e
}
