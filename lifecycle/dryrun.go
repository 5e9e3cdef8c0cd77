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
	switch action {
	case ActionStart:
		snap, err := r.startSnapshot(ctx, m)
		if err != nil {
			return Plan{}, err
		}
		if snap.MarkerDone, err = r.markerExists(); err != nil {
			return Plan{}, err
		}
		p := PlanStart(r.Opts, snap)
		if r.waitsForMaster(m) {
			p.Reasons = append(p.Reasons, "pod-0 is not Ready: start first waits for it (AKU_MASTER_READY_TIMEOUT), then reads the mesh again")
		}
		return p, nil
	case ActionEnd:
		return PlanEnd(r.Opts, r.endSnapshot(ctx, m), true), nil
	}
	return PlanClean(r.Opts, r.snapshot(m)), nil
}
