package lifecycle

import (
	"fmt"
	"maps"
	"slices"
)

// planner builds a plan over a copy of the mesh's states, applying each
// op's effect as it is added, so that later decisions see what the earlier
// steps will have done.
type planner struct {
	o      Options
	snap   Snapshot
	states map[int]States // reachable servers, simulated
	plan   Plan
}

func newPlanner(action Action, o Options, s Snapshot) *planner {
	p := &planner{o: o, snap: s, states: map[int]States{}}
	for j, st := range s.States {
		if p.states[j] = maps.Clone(st); p.states[j] == nil {
			p.states[j] = States{} // read, holding no object
		}
	}
	self := s.member(s.Self)
	p.plan = Plan{Action: action, Pod: self.Name, Position: s.Self, Role: RoleOf(s.Self).String()}
	for _, j := range sortedKeys(s.States) {
		sr := ServerRead{Pod: s.member(j).Name, Position: j, Objects: []ObjectRead{}}
		names := make([]string, 0, len(s.States[j]))
		for name := range s.States[j] {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			st := s.States[j][name]
			sr.Objects = append(sr.Objects, ObjectRead{Name: name, XSN: st.XSN, Started: st.IsStarted})
		}
		p.plan.Read = append(p.plan.Read, sr)
	}
	return p
}

func (p *planner) reason(format string, args ...any) {
	p.plan.Reasons = append(p.plan.Reasons, fmt.Sprintf(format, args...))
}

// reachable reports whether server j was read.
func (p *planner) reachable(j int) bool { _, ok := p.states[j]; return ok }

// peers lists the reachable peers' positions in order.
func (p *planner) peers() []int {
	var out []int
	for _, j := range sortedKeys(p.states) {
		if j != p.snap.Self {
			out = append(out, j)
		}
	}
	return out
}

// step appends a step; work is by position, each server's ops in order.
// Ops are applied to the simulated states.
func (p *planner) step(s Step, work map[int][]Op) {
	// The local server first (its failure is the one that matters), then
	// the peers in order.
	order := []int{p.snap.Self}
	for _, j := range sortedKeys(work) {
		if j != p.snap.Self {
			order = append(order, j)
		}
	}
	for _, j := range order {
		ops := work[j]
		if len(ops) == 0 {
			continue
		}
		for _, op := range ops {
			p.apply(j, op)
		}
		s.Work = append(s.Work, Work{Position: j, Pod: p.snap.member(j).Name, Ops: ops})
	}
	p.plan.Steps = append(p.plan.Steps, s)
}

// fail ends the plan with err after the steps so far.
func (p *planner) fail(err error, log string, args ...any) {
	p.plan.Steps = append(p.plan.Steps, Step{Name: "failed", Why: err.Error(), Log: log, LogArgs: args, Fail: err})
	p.plan.Error = err.Error()
}

// apply is an op's effect on the object states, as far as later decisions
// look at them.
func (p *planner) apply(j int, op Op) {
	st := p.states[j]
	if st == nil {
		return
	}
	cur, ok := st[op.Replication]
	switch op.Kind {
	case OpCreate:
		st[op.Replication] = RepState{Name: op.Replication, XSN: -1}
	case OpStart, OpSync:
		if ok {
			cur.IsStarted = true
			if cur.XSN == -1 {
				cur.XSN = 0 // a restart point now exists
			}
			st[op.Replication] = cur
		}
	case OpStop:
		if ok {
			cur.IsStarted = false
			st[op.Replication] = cur
		}
	case OpReset:
		if ok {
			cur.XSN = -1
			st[op.Replication] = cur
		}
	case OpDrop:
		delete(st, op.Replication)
	}
}

// stopReset are the ops that leave object name on server j stopped and,
// with reset, without a restart point, as far as its state says they are
// needed.
func (p *planner) stopReset(j int, name string, reset bool) []Op {
	st, ok := p.states[j][name]
	if !ok {
		return nil
	}
	var ops []Op
	if st.IsStarted {
		ops = append(ops, op(OpStop, name))
	}
	if reset && !st.Reset() {
		ops = append(ops, op(OpReset, name))
	}
	return ops
}

// Snapshot is the mesh as a hook (or `aku plan`) read it.
type Snapshot struct {
	Self    int            // this pod's position (Member.Position)
	Members []Member       // every position of the mesh
	States  map[int]States // the servers that were read, this pod's included
	// DuplicateHostsAllowed: REPLICATION_ALLOW_DUPLICATE_HOSTS is 1 on this
	// pod (read only when there are several groups).
	DuplicateHostsAllowed bool
	// MarkerDone: the marker file exists (start refuses to run again).
	MarkerDone bool
	// Intent and IntentReason: why the pod stops (end).
	Intent       Intent
	IntentReason string
}

// member is the member at position j, or a stand-in named pod-j.
func (s Snapshot) member(j int) Member {
	if m, ok := s.lookup(j); ok {
		return m
	}
	return Member{Position: j, Name: fmt.Sprintf("pod-%d", j)}
}

// lookup finds the member at position j.
func (s Snapshot) lookup(j int) (Member, bool) {
	for _, m := range s.Members {
		if m.Position == j {
			return m, true
		}
	}
	return Member{}, false
}
