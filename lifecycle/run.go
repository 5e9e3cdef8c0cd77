package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// errPeersGivenUp: a flush at end gave the peers' sessions up while it
// waited (Op.Alone); the caller looks at the mesh afresh and plans the rest
// again.
var errPeersGivenUp = errors.New("the peers' sessions were given up during the flush")

// snapshot is the mesh as read, for the planner.
func (r *Runner) snapshot(m *mesh) Snapshot {
	s := Snapshot{Self: m.self.m.Position, Members: m.members, States: map[int]States{}}
	for _, n := range m.all() {
		s.States[n.m.Position] = n.states
	}
	return s
}

// node is the session to position j, or nil if it is not (or no longer)
// held.
func (m *mesh) node(j int) *node {
	if m.self != nil && j == m.self.m.Position {
		return m.self
	}
	return m.peers[j]
}

// run carries a plan out: for each step, log, post its events, run every
// server's ops (servers concurrently, a server's ops in order), checkpoint.
// A peer that goes away is dropped (mesh.each) and the ops that need it are
// skipped from then on; a step that needs a pod that went away fails.
func (r *Runner) run(ctx context.Context, m *mesh, plan Plan) error {
	log := r.log()
	for _, s := range plan.Steps {
		if s.Fail != nil {
			if s.Log != "" {
				log.Error(s.Log, s.LogArgs...)
			}
			return s.Fail
		}
		for _, j := range s.Need {
			if m.node(j) == nil {
				return fmt.Errorf("%w: lost before the %s step", ErrMasterAbsent, s.Name)
			}
		}
		if s.Log != "" {
			log.Info(s.Log, s.LogArgs...)
		}
		if s.Before != nil {
			r.event(ctx, false, s.Before.Reason, s.Before.Message)
		}
		var nodes []*node
		work := map[*node][]Op{}
		for _, w := range s.Work {
			if n := m.node(w.Position); n != nil {
				nodes = append(nodes, n)
				work[n] = w.Ops
			}
		}
		var alone atomic.Bool // set by a flush at end that gave the peers up
		err := m.each(ctx, nodes, func(ctx context.Context, n *node) error {
			for _, o := range work[n] {
				if o.Peer != nil && m.lost[*o.Peer] {
					continue
				}
				if err := r.do(ctx, m, n, o, &alone); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if s.Done != "" {
			log.Info(s.Done)
		}
		if s.After != nil {
			r.event(ctx, false, s.After.Reason, s.After.Message)
		}
		if err := r.checkpoint(ctx, s.Name); err != nil {
			return err
		}
		if alone.Load() {
			return errPeersGivenUp
		}
	}
	return nil
}

// do runs one op on node n.
func (r *Runner) do(ctx context.Context, m *mesh, n *node, o Op, alone *atomic.Bool) error {
	log := r.log()
	var err error
	switch o.Kind {
	case OpSetProperty:
		if err = n.srv.SetProperty(ctx, o.Property, o.Value); err != nil {
			err = fmt.Errorf("set %s = %d on %s (set it in altibase.properties or ALTIBASE_%s=%d): %w",
				o.Property, o.Value, n, o.Property, o.Value, err)
		}
	case OpCreate:
		if err = n.srv.CreateReplication(ctx, *o.Create); err != nil {
			err = fmt.Errorf("create replication %s on %s: %w", o.Replication, n, err)
		} else {
			log.Debug("Replication created.", "replication", o.Replication, "remoteHost", o.Create.RemoteHost)
		}
	case OpStart:
		err = start(ctx, n, o.Replication, log)
	case OpStop:
		err = stop(ctx, n, o.Replication)
	case OpReset:
		if err = n.srv.Reset(ctx, o.Replication); err != nil {
			err = fmt.Errorf("reset %s on %s: %w", o.Replication, n, err)
		}
	case OpDrop:
		if err = n.srv.Drop(ctx, o.Replication); err != nil {
			err = fmt.Errorf("drop %s on %s: %w", o.Replication, n, err)
		}
	case OpFlush:
		err = r.flush(ctx, m, n, o, alone)
	case OpFlushTowardMaster:
		master := m.node(0)
		if master == nil {
			return fmt.Errorf("%w: lost before %s flushed %s toward it", ErrMasterAbsent, n, o.Replication)
		}
		err = r.flushTowardMaster(ctx, n, o.Replication, master)
		if errors.Is(err, ErrNotStarted) {
			log.Warn("Peer's replication toward the MASTER is not running; its unsent rows reach this pod only after it is started.",
				"pod", n.m.Name, "replication", o.Replication)
			err = nil
		}
	case OpTruncate:
		if err = n.srv.Truncate(ctx, o.Items); err != nil {
			err = fmt.Errorf("truncate on %s: %w", n, err)
		}
	case OpSync:
		if err = n.srv.Sync(ctx, o.Replication, o.Parallel); err != nil {
			err = fmt.Errorf("sync %s from %s: %w", o.Replication, n, err)
		}
	case OpOpen:
		if err = n.srv.SetAdminMode(ctx, false); err != nil {
			err = fmt.Errorf("set ADMIN_MODE = 0 on %s: %w", n, err)
		}
	case OpVerify:
		err = r.verify(ctx, m)
	case OpWait:
		err = r.sleep(ctx, o.Wait)
	case OpWriteMarker:
		err = r.writeMarker()
	case OpRemoveMarker:
		err = r.removeMarker()
	default:
		err = fmt.Errorf("unknown op %v", o.Kind)
	}
	if err != nil {
		return err
	}
	if o.Log != "" {
		if o.Replication != "" {
			log.Info(o.Log, "replication", o.Replication)
		} else {
			log.Info(o.Log)
		}
	}
	return nil
}

// flush runs one FLUSH. At end (Op.Alone) a flush that does not end
// within its bound waits for a peer's server (one restarting too: every
// pod deleted at once, say) and its sender's reconnect; it goes on holding
// only this server's session, so that the peers' own hooks are not locked
// out of their SYSDBA slots meanwhile (seen on a real kubelet: a preStop's
// flush kept a new pod-0's slot for 80 s and the other pods' postStart
// hooks timed out). Only this server's session is in use then: the step
// has no other server's work.
func (r *Runner) flush(ctx context.Context, m *mesh, n *node, o Op, alone *atomic.Bool) error {
	mode := o.Flush
	if alone.Load() {
		mode = FlushMode{All: o.Flush.All}
	}
	err := n.srv.Flush(ctx, o.Replication, mode)
	if o.Alone && !alone.Load() && errors.Is(err, ErrFlushTimeout) {
		alone.Store(true)
		r.log().Info("A flush waits for a peer; waiting for it holding only this server's session.", "replication", o.Replication)
		m.closePeers()
		err = n.srv.Flush(ctx, o.Replication, FlushMode{All: o.Flush.All})
	}
	if err != nil {
		return fmt.Errorf("flush %s on %s: %w", o.Replication, n, err)
	}
	return nil
}
