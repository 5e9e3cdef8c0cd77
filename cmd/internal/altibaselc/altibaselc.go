// Package altibaselc adapts package altibase's client (*altibase.Conn) to
// the interfaces package lifecycle declares: Dialer and Server implement
// lifecycle.Dialer and lifecycle.Server, dialing members and mapping the
// client's error classes onto the lifecycle's sentinels. It also renders a
// lifecycle.Op as the client's SQL (Statements, for aku plan), reads one
// server's state into a lifecycle.ServerView (ReadServer, for aku status),
// and builds the client's options from aku.conf (ClientOptions).
//
// It holds no wiring: the command (package cli) builds the lifecycle.Runner
// over it.
package altibaselc

import (
	"context"
	"errors"
	"fmt"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/lifecycle"
)

// Dialer opens dedicated SYSDBA sessions with the client.
type Dialer struct {
	Port int // AKU_PORT_NO
	Opts altibase.Options
	// PlainStart disables START RETRY plus polling (which reaches a running
	// sender in milliseconds where START waits for the server's next clock
	// tick) in favour of a plain START.
	PlainStart bool
	// Read hands out ordinary SYS sessions, for runs that only read (aku
	// plan): they never take the SYSDBA slot a hook needs. A server in
	// ADMIN_MODE = 1 admits only SYSDBA; then that is used.
	Read bool
}

var _ lifecycle.Dialer = (*Dialer)(nil)

// Dial implements lifecycle.Dialer: SQL goes to Addr (pod IP) when known,
// else to the stable Host.
func (d *Dialer) Dial(ctx context.Context, m lifecycle.Member) (lifecycle.Server, error) {
	host := m.Addr
	if host == "" {
		host = m.Host
	}
	ep := altibase.Endpoint{Host: host, Port: d.Port}
	opts := d.Opts
	opts.Plain = d.Read
	c, err := altibase.Connect(ctx, ep, opts)
	var ae *altibase.Error
	if d.Read && err != nil && errors.As(err, &ae) && ae.Code == altibase.CodeAdminMode {
		opts.Plain = false
		c, err = altibase.Connect(ctx, ep, opts)
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return &Server{c: c, plainStart: d.PlainStart}, nil
}

// Server is a lifecycle.Server over one *altibase.Conn.
type Server struct {
	c          *altibase.Conn
	plainStart bool
}

var _ lifecycle.Server = (*Server)(nil)

// mapErr keeps the client's error and adds the lifecycle sentinel its class
// stands for, so both errors.Is checks work.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, altibase.ErrAlreadyStarted):
		return fmt.Errorf("%w: %w", lifecycle.ErrAlreadyStarted, err)
	case errors.Is(err, altibase.ErrNotStarted):
		return fmt.Errorf("%w: %w", lifecycle.ErrNotStarted, err)
	case errors.Is(err, altibase.ErrUndefinedReplication):
		return fmt.Errorf("%w: %w", lifecycle.ErrUndefined, err)
	// The server answered: a taken SYSDBA slot or a refused login is never
	// "unreachable", although both arrive as connect failures (psqlODBC
	// reports ERR-41041 as 08001).
	case errors.Is(err, altibase.ErrAnotherSYSDBA):
		return fmt.Errorf("%w: %w", lifecycle.ErrBusy, err)
	case errors.Is(err, altibase.ErrLoginRefused):
		return fmt.Errorf("%w: %w", lifecycle.ErrLoginRefused, err)
	case errors.Is(err, altibase.ErrFlushTimeout):
		return fmt.Errorf("%w: %w", lifecycle.ErrFlushTimeout, err)
	case errors.Is(err, altibase.ErrConnect), errors.Is(err, altibase.ErrLinkLost):
		return fmt.Errorf("%w: %w", lifecycle.ErrUnreachable, err)
	}
	return err
}

func toItems(items []lifecycle.Item) []altibase.Item {
	out := make([]altibase.Item, len(items))
	for i, it := range items {
		out[i] = altibase.Item{User: it.User, Table: it.Table, Partition: it.Partition}
	}
	return out
}

// Replications implements lifecycle.Server.
func (s *Server) Replications(ctx context.Context) ([]lifecycle.RepState, error) {
	list, err := s.c.Replications(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]lifecycle.RepState, len(list))
	for i, r := range list {
		out[i] = lifecycle.RepState{Name: r.Name, XSN: r.XSN, IsStarted: r.IsStarted}
	}
	return out, nil
}

// CreateReplication implements lifecycle.Server.
func (s *Server) CreateReplication(ctx context.Context, r lifecycle.Replication) error {
	return mapErr(s.c.CreateReplication(ctx, altibase.Replication{
		Name: r.Name, RemoteHost: r.RemoteHost, RemotePort: r.RemotePort, Items: toItems(r.Items),
	}))
}

// Start implements lifecycle.Server.
func (s *Server) Start(ctx context.Context, name string) error {
	if s.plainStart {
		return mapErr(s.c.Start(ctx, name))
	}
	return mapErr(s.c.StartRetry(ctx, name, 0))
}

// Stop implements lifecycle.Server.
func (s *Server) Stop(ctx context.Context, name string) error { return mapErr(s.c.Stop(ctx, name)) }

// Reset implements lifecycle.Server.
func (s *Server) Reset(ctx context.Context, name string) error { return mapErr(s.c.Reset(ctx, name)) }

// Drop implements lifecycle.Server.
func (s *Server) Drop(ctx context.Context, name string) error { return mapErr(s.c.Drop(ctx, name)) }

// Sync implements lifecycle.Server.
func (s *Server) Sync(ctx context.Context, name string, parallel int) error {
	return mapErr(s.c.Sync(ctx, name, parallel))
}

// Flush implements lifecycle.Server.
func (s *Server) Flush(ctx context.Context, name string, m lifecycle.FlushMode) error {
	return mapErr(s.c.Flush(ctx, name, altibase.FlushOptions{All: m.All, Wait: m.Wait}))
}

// Truncate implements lifecycle.Server.
func (s *Server) Truncate(ctx context.Context, items []lifecycle.Item) error {
	return mapErr(s.c.Truncate(ctx, toItems(items)))
}

// SetAdminMode implements lifecycle.Server.
func (s *Server) SetAdminMode(ctx context.Context, on bool) error {
	v := 0
	if on {
		v = 1
	}
	return mapErr(s.c.SetAdminMode(ctx, v))
}

// Property implements lifecycle.Server.
func (s *Server) Property(ctx context.Context, name string) (int64, error) {
	v, err := s.c.PropertyInt(ctx, name)
	return v, mapErr(err)
}

// SetProperty implements lifecycle.Server.
func (s *Server) SetProperty(ctx context.Context, name string, value int64) error {
	return mapErr(s.c.SetProperty(ctx, name, value))
}

// Close implements lifecycle.Server.
func (s *Server) Close() error { return s.c.Close() }
