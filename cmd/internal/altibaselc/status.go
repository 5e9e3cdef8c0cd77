package altibaselc

import (
	"context"
	"errors"
	"fmt"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/lifecycle"
)

// ReadServer reads one server's replication state for aku status: its
// objects, senders and gaps. It uses an ordinary SYS session, so that it
// never takes the SYSDBA slot a hook needs; only a server in ADMIN_MODE = 1
// (a pod whose start has not finished) refuses that, and then SYSDBA is
// tried, and the view says so (or that the slot is taken).
func ReadServer(ctx context.Context, m lifecycle.Member, port int, opts altibase.Options) lifecycle.ServerView {
	v := lifecycle.ServerView{Member: m, Session: "SYS"}
	host := m.Addr
	if host == "" {
		host = m.Host
	}
	ep := altibase.Endpoint{Host: host, Port: port}
	opts.Plain = true
	c, err := altibase.Connect(ctx, ep, opts)
	var ae *altibase.Error
	if err != nil && errors.As(err, &ae) && ae.Code == altibase.CodeAdminMode {
		opts.Plain = false
		v.Session = "SYSDBA"
		c, err = altibase.Connect(ctx, ep, opts)
		v.Busy = errors.Is(err, altibase.ErrAnotherSYSDBA)
	}
	if err != nil {
		v.Err = err
		// The hooks' rule: only a refused or timed-out connection means gone.
		v.Absent = errors.Is(err, altibase.ErrConnect) &&
			!errors.Is(err, altibase.ErrLoginRefused) && !errors.Is(err, altibase.ErrAnotherSYSDBA)
		return v
	}
	defer c.Close()
	states, err := (&Server{c: c}).Replications(ctx)
	if err != nil {
		v.Err = fmt.Errorf("read replications: %w", err)
		return v
	}
	v.States = lifecycle.StatesOf(states)
	senders, err := c.Senders(ctx)
	if err != nil {
		v.Err = fmt.Errorf("read V$REPSENDER: %w", err)
		return v
	}
	v.Senders = map[string]lifecycle.SenderState{}
	for _, s := range senders {
		v.Senders[s.Name] = lifecycle.SenderState{Running: s.Status == altibase.SenderRunning, NetError: s.NetError}
	}
	gaps, err := c.Gaps(ctx)
	if err != nil {
		v.Err = fmt.Errorf("read V$REPGAP: %w", err)
		return v
	}
	v.Gaps = map[string]int64{}
	for _, g := range gaps {
		v.Gaps[g.Name] = g.Gap
	}
	return v
}
