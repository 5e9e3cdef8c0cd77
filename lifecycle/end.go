package lifecycle

import (
	"context"
	"errors"
	"fmt"
)

// End runs `aku -p end` on this pod: flush, stop and (by policy) reset its
// replications here and on every reachable peer, then remove the marker.
func (r *Runner) End(ctx context.Context) error {
	log := r.log()
	m, related, err := r.openRelated(ctx)
	if err != nil {
		return err
	}
	defer func() { m.close() }() // m may be reopened below
	k := m.self.m.Ordinal

	if r.Opts.FlushAtEnd {
		log.Info("Flush replications.")
		slow, err := r.flushAtEnd(ctx, m)
		if err != nil {
			return err
		}
		log.Info("Replication flush has ended.")
		if slow {
			// The peers' sessions were given up while the flush waited;
			// look at the mesh afresh.
			m.close()
			if m, related, err = r.openRelated(ctx); err != nil {
				return err
			}
		}
	}

	why, reason := IntentUnknown, ""
	if r.Intent != nil {
		why, reason = r.Intent(ctx)
	}
	reset := ShouldReset(r.Opts.ResetAtEnd, k, why)

	// A pod that keeps its state leaves its own senders started: the server
	// stops them as it shuts down and starts them again at boot
	// (REPLICATION_SENDER_AUTO_START), from the restart points they keep, and
	// start's resume path finds them running. Each STOP here would cost a
	// tick of the server clock (the server runs them one at a time) for
	// nothing. The peers' senders toward this pod are stopped, so they do
	// not retry against a server that is going away.
	stopping := related
	if !reset {
		stopping = map[*node][]string{}
		for n, names := range related {
			if n != m.self {
				stopping[n] = names
			}
		}
	}
	log.Info("Stop replications.")
	err = m.each(ctx, nodesOf(m, stopping), func(ctx context.Context, n *node) error {
		for _, name := range stopping[n] {
			if err := stopAndReset(ctx, n, name, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	log.Info("Replication stop has ended.")

	if !reset {
		skip := resetSkipReason(r.Opts.ResetAtEnd, k, why, reason)
		log.Info("Replication reset skipped.", "why", skip)
		r.event(ctx, false, "AkuResetSkipped", "replication reset skipped: "+skip)
		return r.removeMarker()
	}
	log.Info("Reset replications.", "intent", why.String())
	if err := m.refresh(ctx, nodesOf(m, related)); err != nil {
		return err
	}
	err = m.each(ctx, nodesOf(m, related), func(ctx context.Context, n *node) error {
		for _, name := range related[n] {
			if err := stopAndReset(ctx, n, name, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	log.Info("Replication reset has ended.")
	r.event(ctx, false, "AkuReset", "replications reset ("+why.String()+")")
	return r.removeMarker()
}

// endFlushSlice bounds a FLUSH at end while the peers' sessions are held.
const endFlushSlice = pinFlushWait

// flushAtEnd flushes this pod's started senders toward the peers that
// answered (a flush toward a server that is gone cannot finish and would
// spend the whole budget). Usually that takes a moment. A flush that does
// not end within endFlushSlice waits for a peer's server (one restarting
// too: every pod deleted at once, say) and its sender's reconnect; it goes
// on holding only this server's session, so that the peers' own hooks are
// not locked out of their SYSDBA slots meanwhile (seen on a real kubelet: a
// preStop's flush kept a new pod-0's slot for 80 s and the other pods'
// postStart hooks timed out). It reports whether it gave the peers up.
func (r *Runner) flushAtEnd(ctx context.Context, m *mesh) (slow bool, err error) {
	k := m.self.m.Ordinal
	var names []string
	for _, p := range m.peerList() {
		for _, name := range r.objectsToward(k, p.m.Ordinal) {
			if m.self.states[name].IsStarted {
				names = append(names, name)
			}
		}
	}
	for _, name := range names {
		mode := FlushMode{All: true}
		if !slow {
			mode.Wait = endFlushSlice
		}
		err := m.self.srv.Flush(ctx, name, mode)
		if errors.Is(err, ErrFlushTimeout) && !slow {
			slow = true
			r.log().Info("A flush waits for a peer; waiting for it holding only this server's session.", "replication", name)
			m.closePeers()
			err = m.self.srv.Flush(ctx, name, FlushMode{All: true})
		}
		if err != nil {
			return slow, fmt.Errorf("flush %s on %s: %w", name, m.self, err)
		}
	}
	return slow, nil
}

func resetSkipReason(p ResetPolicy, ordinal int, why Intent, reason string) string {
	switch {
	case ordinal == 0:
		return "the MASTER pod keeps its replication information"
	case p == ResetNever:
		return "AKU_REPLICATION_RESET_AT_END = 0"
	}
	if reason != "" {
		return fmt.Sprintf("pod is not leaving for good (%s: %s)", why, reason)
	}
	return fmt.Sprintf("pod is not leaving for good (%s)", why)
}

// openRelated connects, says which role the pod has, reads every reachable
// server's objects and lists the ones related to this pod. The caller
// closes the mesh.
func (r *Runner) openRelated(ctx context.Context) (*mesh, map[*node][]string, error) {
	m, err := r.open(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	k := m.self.m.Ordinal
	r.log().Info(fmt.Sprintf("Start as %s Pod.", RoleOf(k)), "ordinal", k)
	if err := m.refresh(ctx, m.all()); err != nil {
		m.close()
		return nil, nil, err
	}
	return m, r.related(m), nil
}

// related lists, per node, the replication objects that concern this pod:
// all of its own, and each reachable peer's objects toward it.
func (r *Runner) related(m *mesh) map[*node][]string {
	k := m.self.m.Ordinal
	out := map[*node][]string{}
	for _, name := range r.allObjects(k) {
		if _, ok := m.self.states[name]; ok {
			out[m.self] = append(out[m.self], name)
		}
	}
	for _, p := range m.peerList() {
		for _, name := range r.objectsToward(k, p.m.Ordinal) {
			if _, ok := p.states[name]; ok {
				out[p] = append(out[p], name)
			}
		}
	}
	return out
}

// Clean runs `aku -p clean`: stop the related replications on the peers, drop
// every aku replication of this pod, remove the marker.
func (r *Runner) Clean(ctx context.Context) error {
	log := r.log()
	m, related, err := r.openRelated(ctx)
	if err != nil {
		return err
	}
	defer m.close()
	err = m.each(ctx, nodesOf(m, related), func(ctx context.Context, n *node) error {
		for _, name := range related[n] {
			if err := stopAndReset(ctx, n, name, false); err != nil {
				return err
			}
			if n != m.self {
				continue
			}
			if err := n.srv.Drop(ctx, name); err != nil {
				return fmt.Errorf("drop %s on %s: %w", name, n, err)
			}
			log.Info("Replication dropped.", "replication", name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.removeMarker()
}
