package lifecycle

import (
	"context"
	"errors"
	"fmt"
)

// End runs `aku -p end` on this pod: flush, stop and (by policy) reset its
// replications here and on every reachable peer, then remove the marker.
func (r *Runner) End(ctx context.Context) error {
	m, err := r.openRead(ctx)
	if err != nil {
		return err
	}
	defer func() { m.close() }() // m may be reopened below
	snap := r.endSnapshot(ctx, m)
	err = r.run(ctx, m, PlanEnd(r.Opts, snap, true))
	if !errors.Is(err, errPeersGivenUp) {
		return err
	}
	// The flush gave the peers' sessions up while it waited; look at the
	// mesh afresh and plan the rest again.
	m.close()
	if m, err = r.openRead(ctx); err != nil {
		return err
	}
	intent, reason := snap.Intent, snap.IntentReason
	snap = r.snapshot(m)
	snap.Intent, snap.IntentReason = intent, reason
	return r.run(ctx, m, PlanEnd(r.Opts, snap, false))
}

// endSnapshot is the mesh as read, with why the pod stops.
func (r *Runner) endSnapshot(ctx context.Context, m *mesh) Snapshot {
	snap := r.snapshot(m)
	if r.Intent != nil {
		snap.Intent, snap.IntentReason = r.Intent(ctx)
	}
	return snap
}

func resetSkipReason(p ResetPolicy, position int, why Intent, reason string) string {
	switch {
	case position == 0:
		return "the MASTER pod keeps its replication information"
	case p == ResetNever:
		return "AKU_REPLICATION_RESET_AT_END = 0"
	}
	if reason != "" {
		return fmt.Sprintf("pod is not leaving for good (%s: %s)", why, reason)
	}
	return fmt.Sprintf("pod is not leaving for good (%s)", why)
}

// openRead connects, says which role the pod has and reads every
// reachable server's objects. The caller closes the mesh.
func (r *Runner) openRead(ctx context.Context) (*mesh, error) {
	m, err := r.open(ctx, false)
	if err != nil {
		return nil, err
	}
	k := m.self.m.Position
	r.log().Info(fmt.Sprintf("Start as %s Pod.", RoleOf(k)), "position", k)
	if err := m.refresh(ctx, m.all()); err != nil {
		m.close()
		return nil, err
	}
	return m, nil
}

// Clean runs `aku -p clean`: stop the related replications on the peers, drop
// every aku replication of this pod, remove the marker.
func (r *Runner) Clean(ctx context.Context) error {
	m, err := r.openRead(ctx)
	if err != nil {
		return err
	}
	defer m.close()
	return r.run(ctx, m, PlanClean(r.Opts, r.snapshot(m)))
}
