package altibasetest

import (
	"context"

	"github.com/aku-k8s/aku/altibase/altibasetest/internal/sim"
)

// engine is what the wire layer needs from the simulator engine. The real
// one is a *sim.Node; tests of the wire layer alone substitute a fake.
type engine interface {
	Login(sim.Login) (engineSession, error)
	ReplicationAddr() string
	Close() error
	Kill()
}

// engineSession is one engine session (one per client connection).
type engineSession interface {
	Exec(ctx context.Context, sql string) (*sim.Result, error)
	Close()
}

// simEngine adapts *sim.Node to engine.
type simEngine struct{ *sim.Node }

func openSim(opts sim.Options) (engine, error) {
	n, err := sim.Open(opts)
	if err != nil {
		return nil, err
	}
	return simEngine{n}, nil
}

func (e simEngine) Login(l sim.Login) (engineSession, error) {
	s, err := e.Node.Login(l)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// StatementHook runs before the engine executes a statement (not before the
// statements the wire layer answers itself). A non-nil error goes to the
// client instead of the statement's result; a hook that blocks until ctx is
// done makes a slow, cancellable statement. Use *Error to send an Altibase
// code.
type StatementHook func(ctx context.Context, sql string) error

// SetStatementHook installs h (nil removes it). It applies to every session.
func (s *Server) SetStatementHook(h StatementHook) {
	if h == nil {
		s.hook.Store(nil)
		return
	}
	s.hook.Store(&h)
}
