package lifecycle

import (
	"context"
	"fmt"
	"slices"
)

// Action names one of the Runner's actions (Start, End, Clean) by the word
// aku -p and aku plan take for it.
type Action string

// Actions a Plan can be made for.
const (
	ActionStart Action = "start"
	ActionEnd   Action = "end"
	ActionClean Action = "clean"
)

// Plan is what Start, End or Clean would do on this pod now: it discovers
// and connects as the hooks do, reads every reachable server and plans,
// and changes nothing (no statement but reads, no Event, no lock, no
// marker). The Dialer should hand out ordinary sessions where the servers
// admit them, so that the plan never takes a SYSDBA slot a hook needs.
func (r *Runner) Plan(ctx context.Context, action Action) (Plan, error) {
	if !slices.Contains([]Action{ActionStart, ActionEnd, ActionClean}, action) {
		return Plan{}, fmt.Errorf("unknown action %q: want start, end or clean", action)
	}
	m, err := r.open(ctx, false)
	if err != nil {
		return Plan{}, err
	}
	defer m.close()
	if err := m.refresh(ctx, m.all()); err != nil {
		return Plan{}, err
	}
	snap := r.snapshot(m)
	switch action {
	case ActionStart:
		if snap.MarkerDone, err = r.markerExists(); err != nil {
			return Plan{}, err
		}
		if len(r.Opts.Groups) > 1 {
			v, err := m.self.srv.Property(ctx, propDuplicateHosts)
			if err != nil {
				return Plan{}, fmt.Errorf("read %s on %s: %w", propDuplicateHosts, m.self, err)
			}
			snap.Allowed = map[string]bool{propDuplicateHosts: v == 1}
		}
		p := PlanStart(r.Opts, snap)
		if RoleOf(snap.Self) == RoleSlave && r.WaitReady != nil && r.needsJoin(m) && !m.members[0].Ready {
			p.Reasons = append(p.Reasons, "pod-0 is not Ready: start first waits for it (AKU_MASTER_READY_TIMEOUT), then reads the mesh again")
		}
		return p, nil
	case ActionEnd:
		if r.Intent != nil {
			snap.Intent, snap.IntentReason = r.Intent(ctx)
		}
		return PlanEnd(r.Opts, snap, true), nil
	}
	return PlanClean(r.Opts, snap), nil
}
