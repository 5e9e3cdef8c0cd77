package lifecycle

import "strings"

// End's and clean's steps, as passed to Runner.Checkpoint.
const (
	StepEndFlushed = "end-flushed" // this pod's senders flushed toward the live peers
	StepStopped    = "stopped"     // senders stopped
	StepReset      = "reset"       // restart points dropped (or the reset skipped, by policy)
	StepDropped    = "dropped"     // clean: this pod's objects dropped
	StepUnmarked   = "unmarked"    // the marker file removed
)

// endFlushSlice bounds a FLUSH at end while the peers' sessions are held.
const endFlushSlice = pinFlushWait

// related lists, per server, the objects that concern this pod and exist:
// its own (Objects), and each reachable peer's objects toward it (the same
// names, held at the other end).
func (p *planner) related() map[int][]string {
	k := p.snap.Self
	objs := Objects(p.o.Groups, p.o.ServerCount, k)
	out := map[int][]string{}
	for _, o := range objs {
		if _, ok := p.states[k][o.Name]; ok {
			out[k] = append(out[k], o.Name)
		}
	}
	for _, j := range p.peers() {
		for _, o := range objs {
			if _, ok := p.states[j][o.Name]; ok && o.Peer == j {
				out[j] = append(out[j], o.Name)
			}
		}
	}
	return out
}

// PlanEnd is `aku -p end` on this pod for the mesh in s: flush this pod's
// senders toward the live peers, stop the senders that must stop, reset
// by policy, remove the marker. Pure. With flush false the flush is left
// out (it was done before the plan was made again).
func PlanEnd(o Options, s Snapshot, flush bool) Plan {
	p := newPlanner(ActionEnd, o, s)
	k := s.Self
	p.reason("role: %s (position %d)", RoleOf(k), k)
	related := p.related()

	if o.FlushAtEnd && flush {
		var ops []Op
		for _, j := range p.peers() {
			for _, g := range o.Groups {
				name := Name(g.Prefix, k, j)
				if p.states[k][name].IsStarted {
					f := toward(OpFlush, name, j)
					f.Flush = FlushMode{All: true, Wait: endFlushSlice}
					f.Alone = true
					ops = append(ops, f)
				}
			}
		}
		p.step(Step{Name: StepEndFlushed, Why: "the peers get every change this pod made (AKU_FLUSH_AT_END = 1); toward live peers only",
			Log: "Flush replications.", Done: "Replication flush has ended."}, map[int][]Op{k: ops})
	} else if !o.FlushAtEnd {
		p.step(Step{Name: StepEndFlushed, Why: "AKU_FLUSH_AT_END = 0"}, nil)
	}

	reset := ShouldReset(o.ResetAtEnd, k, s.Intent)
	intent := s.Intent.String()
	if s.IntentReason != "" {
		intent += ": " + s.IntentReason
	}
	if reset {
		p.reason("reset: yes (AKU_REPLICATION_RESET_AT_END = %s, pod is leaving: %s)", o.ResetAtEnd, intent)
	} else {
		p.reason("reset: no (%s)", resetSkipReason(o.ResetAtEnd, k, s.Intent, s.IntentReason))
	}

	// Which senders stop, and why so few: each STOP costs a tick of the
	// server clock (0-1 s), and a server runs its STOPs one at a time.
	//  - A pod that keeps its state stops nothing. Its own senders stop as
	//    its server shuts down and start again at boot
	//    (REPLICATION_SENDER_AUTO_START) from the restart points they keep.
	//    The peers' senders toward it lose their connection and sleep
	//    (REPLICATION_SENDER_SLEEP_TIMEOUT) with their restart points kept;
	//    its start restarts any that still sleep (StartRetry), as after a
	//    crash, where nobody stopped them either.
	//  - A pod that resets stops every sender of its objects, here and on
	//    the peers. Its own ends must be reset too: a pod that came back
	//    with its own restart points while pod-0's end toward it has none
	//    looks to pod-0 exactly like a MASTER that lost its state (a master
	//    failure, and a start that refuses), and with its own senders left
	//    running, late writes would reach some peers and not others.
	//  - A pod that leaves without a reset (AKU_REPLICATION_RESET_AT_END
	//    = 0) has the peers' senders toward it stopped, keeping their
	//    restart points, rather than retry toward a pod that may not come
	//    back for long.
	leaving := s.Intent == IntentScaleDown || s.Intent == IntentDelete
	stop := map[int][]Op{}
	// With a reset, this pod's own ends lose their restart points in this
	// step already, the peers' in the next: an end killed in between must
	// not leave this pod with its restart points and pod-0's end without
	// one (that looks like a MASTER that lost its state).
	if reset || leaving {
		for j, names := range related {
			if j == k && !reset {
				continue
			}
			for _, name := range names {
				stop[j] = append(stop[j], p.stopReset(j, name, j == k)...)
			}
		}
	}
	why := "nothing: the peers' senders toward this pod keep their restart points (its start wakes any that sleep); its own stop with its server"
	switch {
	case reset:
		why = "every sender of this pod's objects, here and on the peers"
	case leaving:
		why = "the peers' senders toward this pod, keeping their restart points; its own stop with its server"
	}
	p.step(Step{Name: StepStopped, Why: why, Log: "Stop replications.", Done: "Replication stop has ended."}, stop)

	if !reset {
		skip := resetSkipReason(o.ResetAtEnd, k, s.Intent, s.IntentReason)
		p.step(Step{Name: StepReset, Why: "skipped: " + skip,
			Log: "Replication reset skipped.", LogArgs: []any{"why", skip},
			After: &Event{EventResetSkipped, "replication reset skipped: " + skip}}, nil)
	} else {
		work := map[int][]Op{}
		for j, names := range related {
			for _, name := range names {
				work[j] = append(work[j], p.stopReset(j, name, true)...)
			}
		}
		p.step(Step{Name: StepReset, Why: "the pod is leaving for good: nobody keeps logs for it",
			Log: "Reset replications.", LogArgs: []any{"intent", s.Intent.String()}, Done: "Replication reset has ended.",
			After: &Event{EventReset, "replications reset (" + s.Intent.String() + ")"}}, work)
	}
	p.step(Step{Name: StepUnmarked, Why: "the startup probe fails until the next start"},
		map[int][]Op{k: {{Kind: OpRemoveMarker, Path: o.MarkerFile}}})
	return p.plan
}

// PlanClean is `aku -p clean` on this pod: stop the related replications
// here and on the peers, drop this pod's objects, remove the marker. Pure.
func PlanClean(o Options, s Snapshot) Plan {
	p := newPlanner(ActionClean, o, s)
	k := s.Self
	related := p.related()
	work := map[int][]Op{}
	var dropped []string
	for j, names := range related {
		for _, name := range names {
			work[j] = append(work[j], p.stopReset(j, name, false)...)
			if j == k {
				d := op(OpDrop, name)
				d.Log = "Replication dropped."
				work[j] = append(work[j], d)
				dropped = append(dropped, name)
			}
		}
	}
	p.reason("objects of this pod: %d (%s)", len(dropped), strings.Join(dropped, ", "))
	p.step(Step{Name: StepDropped, Why: "stop the related senders, drop this pod's objects"}, work)
	p.step(Step{Name: StepUnmarked, Why: "the startup probe fails until the next start"},
		map[int][]Op{k: {{Kind: OpRemoveMarker, Path: o.MarkerFile}}})
	return p.plan
}
