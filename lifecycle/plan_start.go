package lifecycle

import (
	"fmt"
	"strings"
)

// Start's steps, as passed to Runner.Checkpoint (every plan has them in this
// order, those that do not apply without work).
const (
	StepDuplicateHosts = "duplicate-hosts" // REPLICATION_ALLOW_DUPLICATE_HOSTS set (several groups)
	StepCreated        = "created"         // objects created
	StepResetGone      = "reset-gone"      // objects toward pods that left without end reset
	StepRescued        = "rescued"         // this pod's unsent changes delivered before its tables are rebuilt
	StepJoinStopped    = "join-stopped"    // objects toward the joining pod stopped and reset
	StepPinned         = "pinned"          // peers' restart points pinned
	StepDetached       = "detached"        // this pod's ends of the pinned objects dropped; the peers flushed toward pod-0
	StepTruncated      = "truncated"       // target tables truncated
	StepSynced         = "synced"          // SYNC from pod-0 done (the pinned senders stopped meanwhile)
	StepReattached     = "reattached"      // this pod's ends of the pinned objects created again
	StepPeersStarted   = "peers-started"   // senders between the pod and non-master peers started
	StepJoined         = "joined"          // the pod's sender toward pod-0 started: the join is done
	StepPairsStarted   = "pairs-started"   // both senders of every pair with a member started (master, resume)
	StepFlushed        = "flushed"         // gaps flushed (AKU_FLUSH_AT_START)
	StepStarted        = "started"         // every sender started (and flushed on resume)
	StepVerified       = "verified"        // every pair with a live member replicates both ways
	StepDelayed        = "delayed"         // AKU_DELAY_START_COMPLETE waited
	StepOpened         = "opened"          // ADMIN_MODE = 0
	StepMarked         = "marked"          // the marker file written
)

// Properties start may set.
const propDuplicateHosts = "REPLICATION_ALLOW_DUPLICATE_HOSTS"

func op(kind OpKind, name string) Op { return Op{Kind: kind, Replication: name} }

// createOp creates this pod's object name toward peer for group g.
func (p *planner) createOp(name string, peer Member, g Group) Op {
	return Op{Kind: OpCreate, Replication: name,
		Create: &Replication{Name: name, RemoteHost: peer.Host, RemotePort: p.o.ReplicationPort, Items: g.Items}}
}

// toward is an op that needs pod peer: skipped if it went away.
func toward(kind OpKind, name string, peer int) Op {
	return Op{Kind: kind, Replication: name, Peer: &peer}
}

// PlanStart is `aku -p start` on this pod for the mesh in s: create the
// missing objects, reset the ones toward pods that left without end, then
// as master start every pair, as slave join (groups whose object toward
// pod-0 carries no restart point) or resume (the others), verify, open the
// server and write the marker. Pure.
func PlanStart(o Options, s Snapshot) Plan {
	p := newPlanner(ActionStart, o, s)
	k := s.Self
	role := RoleOf(k)
	p.reason("role: %s (position %d; the manual's rule: the first pod is the master)", role, k)
	for _, m := range s.Members {
		switch {
		case m.Position == k:
		case m.Absent:
			p.reason("%s: does not exist (Kubernetes API)", m.Name)
		case m.Gone:
			p.reason("%s: outside the StatefulSet's ordinals", m.Name)
		case !p.reachable(m.Position):
			p.reason("%s: not reachable; left out", m.Name)
		}
	}
	if s.MarkerDone {
		p.fail(ErrDuplicateStart, "aku -p start has already completed on this pod; remove the marker file or run aku -p end first.",
			"marker", o.MarkerFile)
		return p.plan
	}

	if len(o.Groups) > 1 && !s.DuplicateHostsAllowed {
		p.reason("%d REPLICATIONS groups: several objects toward one peer need %s = 1", len(o.Groups), propDuplicateHosts)
		p.step(Step{Name: StepDuplicateHosts, Why: "allow several objects toward one host:port",
			Log: "Several REPLICATIONS groups need duplicate replication hosts; setting the property.", LogArgs: []any{"property", propDuplicateHosts}},
			map[int][]Op{k: {{Kind: OpSetProperty, Property: propDuplicateHosts, Value: 1}}})
	} else {
		p.step(Step{Name: StepDuplicateHosts, Why: "one group, or the property is already 1: nothing to do"}, nil)
	}

	var create []Op
	for _, obj := range Objects(o.Groups, o.ServerCount, k) {
		peer, known := s.lookup(obj.Peer)
		if _, ok := p.states[k][obj.Name]; ok || !known || p.states[k] == nil {
			continue
		}
		create = append(create, p.createOp(obj.Name, peer, o.Groups[obj.Group]))
	}
	p.step(Step{Name: StepCreated, Why: "create this pod's missing objects; existing ones are kept as they are"},
		map[int][]Op{k: create})

	p.resetGone()

	if role == RoleMaster {
		peers := map[int]States{}
		for _, j := range p.peers() {
			peers[j] = p.states[j]
		}
		if failed := MasterFailures(p.states[k], peers, o.Groups); len(failed) > 0 {
			p.reason("master failure: the slaves kept %v but pod-0 lost its end", failed)
			p.fail(fmt.Errorf("%w: replication information lost for %v", ErrMasterFailed, failed),
				"The MASTER server is detected to have failed. Check and perform a manual recovery.", "replications", failed)
			return p.plan
		}
		p.reason("no master failure: every slave's kept object has its kept end on pod-0")
		p.startPairs(o.Groups)
	} else {
		var join, resume []Group
		for _, g := range o.Groups {
			name := Name(g.Prefix, 0, k)
			if path, cause := PathFor(p.states[k], p.states, g, k); path == PathJoin {
				if cause.Holder == 0 && !MasterKeepsState(p.states[0], g, k, o.ServerCount) {
					// Pod-0's end was reset by a start that found this pod
					// gone -- or pod-0 lost its state, and a sync from it
					// would wipe what this pod holds. Only where pod-0
					// evidently kept its state toward someone else is the
					// first the likelier story.
					p.reason("group %s: %s, and pod-0 keeps no restart point toward any other pod", g.Prefix, p.whyJoin(cause))
					p.fail(fmt.Errorf("%w: %s", ErrMasterEndLost, cause.Replication),
						"The MASTER's replication toward this pod has lost its restart point while this pod kept its own: the MASTER may have lost its state. "+
							"Check the MASTER; to rejoin this pod from it, reset this pod's replications (aku -p end with AKU_REPLICATION_RESET_AT_END = 1) and start again.",
						"replication", cause.Replication)
					return p.plan
				}
				p.reason("group %s: join (%s): truncate, sync from pod-0", g.Prefix, p.whyJoin(cause))
				join = append(join, g)
			} else {
				p.reason("group %s: resume (%s keeps its restart point, XSN %d): start and flush, never truncate",
					g.Prefix, name, p.states[k][name].XSN)
				resume = append(resume, g)
			}
		}
		if len(join) > 0 && !p.join(join) {
			return p.plan
		}
		if len(resume) > 0 {
			p.startPairs(resume)
		}
	}
	p.step(Step{Name: StepStarted, Why: "every sender with a live member runs"}, nil)
	p.step(Step{Name: StepVerified, Why: "never report a hole as success"}, map[int][]Op{k: {op(OpVerify, "")}})
	if role == RoleSlave && o.DelayStartComplete > 0 {
		p.step(Step{Name: StepDelayed, Why: "AKU_DELAY_START_COMPLETE",
			Log: "Wait before opening the server.", LogArgs: []any{"delay", o.DelayStartComplete}},
			map[int][]Op{k: {{Kind: OpWait, Wait: o.DelayStartComplete}}})
	}
	// The manual sets ADMIN_MODE=0 on slaves only; a master left at
	// ADMIN_MODE=1 admits no application user, so aku opens it too.
	p.step(Step{Name: StepOpened, Why: "admit application users"},
		map[int][]Op{k: {{Kind: OpOpen, Log: "Server is open to users (ADMIN_MODE = 0)."}}})
	p.step(Step{Name: StepMarked, Why: "the startup probe's marker",
		After: &Event{EventStarted, fmt.Sprintf("aku start completed as %s pod", role)}},
		map[int][]Op{k: {{Kind: OpWriteMarker, Path: o.MarkerFile}}})
	return p.plan
}

func (p *planner) whyJoin(c JoinCause) string {
	what := "has no restart point (XSN -1)"
	if c.Missing {
		what = "does not exist"
	}
	holder := p.snap.member(c.Holder).Name
	if c.Holder == p.snap.Self {
		return fmt.Sprintf("%s on %s %s", c.Replication, holder, what)
	}
	return fmt.Sprintf("%s on %s %s: what %s wrote meanwhile was not kept for this pod", c.Replication, holder, what, holder)
}

// resetGone stops and resets the objects toward positions that left the
// StatefulSet without their preStop (a crash, a forced deletion): otherwise
// this pod and its peers keep online logs for them forever (the manual's
// caution about disk exhaustion).
func (p *planner) resetGone() {
	work := map[int][]Op{}
	var gone []string
	for _, mem := range p.snap.Members {
		if !mem.Gone || mem.Position == p.snap.Self {
			continue
		}
		gone = append(gone, mem.Name)
		for _, j := range sortedKeys(p.states) {
			if j == mem.Position {
				continue
			}
			for _, g := range p.o.Groups {
				name := Name(g.Prefix, j, mem.Position)
				if st, ok := p.states[j][name]; ok && (st.IsStarted || !st.Reset()) {
					work[j] = append(work[j], p.stopReset(j, name, true)...)
				}
			}
		}
	}
	s := Step{Name: StepResetGone, Why: "no pod left the StatefulSet without aku -p end"}
	if len(work) > 0 {
		s.Why = "reset the objects toward " + strings.Join(gone, ", ") + ", which left without aku -p end (their logs would be kept forever)"
		s.Log = "Reset replications toward pods that left without aku -p end."
	}
	p.step(s, work)
}

// members lists the reachable peers that joined group g, as seen from this
// pod.
func (p *planner) members(g Group) []int {
	var out []int
	for _, j := range p.peers() {
		if IsMember(p.states[j], g, j, p.snap.Self) {
			out = append(out, j)
		}
	}
	return out
}

// startPairs starts, for each group, both directions between this pod and
// every reachable member (a restarted pod that kept its state, or the
// master), then flushes if AKU_FLUSH_AT_START is set. Nothing is truncated.
func (p *planner) startPairs(groups []Group) {
	k := p.snap.Self
	work := map[int][]Op{}
	var flush map[int][]Op
	if p.o.FlushAtStart {
		flush = map[int][]Op{}
	}
	var names []string
	for _, g := range groups {
		for _, j := range p.members(g) {
			name := Name(g.Prefix, k, j)
			names = append(names, name)
			work[k] = append(work[k], toward(OpStart, name, j))
			work[j] = append(work[j], toward(OpStart, name, j))
			if flush != nil {
				self := toward(OpFlush, name, j)
				self.Flush = FlushMode{All: true}
				peer := toward(OpFlush, name, j)
				peer.Flush = PeerFlush(p.o.FlushTimeoutAtStart)
				flush[k] = append(flush[k], self)
				flush[j] = append(flush[j], peer)
			}
		}
	}
	if len(names) == 0 {
		p.reason("no live member to replicate with yet")
		p.step(Step{Name: StepPairsStarted, Why: "no live member yet", Log: "No live peer to replicate with yet."}, nil)
		p.step(Step{Name: StepFlushed, Why: "nothing to flush"}, nil)
		return
	}
	p.step(Step{Name: StepPairsStarted, Why: "start both senders of " + strings.Join(names, ", ")}, work)
	if flush == nil {
		p.step(Step{Name: StepFlushed, Why: "AKU_FLUSH_AT_START = 0"}, nil)
		return
	}
	p.step(Step{Name: StepFlushed, Why: "send the gaps both ways before the pod opens (AKU_FLUSH_AT_START = 1)",
		Log: "Flush replications.", Done: "Replication flush has ended.",
		After: &Event{EventFlushed, "replication gaps flushed"}}, flush)
}

// join brings a reset or new slave into the mesh for the given groups
// without losing writes made anywhere meanwhile (the pinned order,
// docs/conformance.md case 31). It reports false if the plan fails.
//  0. start this pod's objects that kept restart points and flush them
//     toward pod-0 and the members: what it has not sent yet survives the
//     reset and the truncate below;
//  1. stop and reset this pod's objects and every member's objects toward it;
//  2. pin each non-master member's restart point toward this pod (START
//     RETRY, polled until the sender runs), so its sender will replay
//     everything written after the pin;
//  3. detach: drop this pod's end of each pinned object, which stops its
//     receiver there and then (docs/altibase.md section 2), so nothing the
//     pinned senders ship lands any more; the members flush toward pod-0,
//     so what they wrote before the pin (and what the pinned senders
//     delivered here) is in pod-0's snapshot;
//  4. truncate this pod's target tables, removing whatever the pinned
//     senders delivered (the SYNC must land on empty tables:
//     docs/altibase.md section 8);
//  5. SYNC from pod-0 (copies the snapshot and starts pod-0's sender), while
//     the members STOP their pinned senders (a STOP waits for the server
//     clock's tick: here it costs nothing the SYNC does not take anyway);
//     then create this pod's ends again;
//  6. start the members' senders toward this pod (replaying the window; rows
//     the SYNC already copied are skipped as conflicts) and this pod's senders
//     toward the members, and last this pod's sender toward pod-0, so a crash
//     before the end leaves the object toward pod-0 reset and a re-run joins
//     again from the start.
func (p *planner) join(groups []Group) bool {
	k := p.snap.Self
	if !p.reachable(0) {
		p.fail(fmt.Errorf("%w: needed to sync %s", ErrMasterAbsent, groupNames(groups)),
			"The MASTER pod is not reachable; a new or reset pod must sync from it.")
		return false
	}
	for _, g := range groups {
		if !IsMember(p.states[0], g, 0, k) {
			p.fail(fmt.Errorf("%w: pod-0 has no replication %s; run aku -p start on pod-0 first",
				ErrMasterAbsent, Name(g.Prefix, 0, k)), "The MASTER pod has not started; a new or reset pod must sync from it.")
			return false
		}
	}
	// Who takes part, per group, decided before anything changes.
	parts := map[int][]string{} // member -> its objects toward k
	var pinned []int            // non-master members
	for _, g := range groups {
		for _, j := range p.members(g) {
			if _, ok := parts[j]; !ok && j != 0 {
				pinned = append(pinned, j)
			}
			parts[j] = append(parts[j], Name(g.Prefix, j, k))
		}
	}
	var memberNames []string
	for _, j := range sortedKeys(parts) {
		memberNames = append(memberNames, p.snap.member(j).Name)
	}
	p.reason("members taking part: %s", strings.Join(memberNames, ", "))

	// 0. Rescue what this pod has not sent: objects that kept their restart
	// points (a pod back from a crash whose peers reset theirs toward it)
	// may hold changes no other pod has; the reset and the truncate below
	// would lose them.
	rescue := map[int][]Op{}
	for _, g := range groups {
		for _, j := range p.members(g) {
			name := Name(g.Prefix, k, j)
			if !p.states[k].kept(name) {
				continue
			}
			start, flush := toward(OpStart, name, j), toward(OpFlush, name, j)
			if j == 0 {
				// Nothing is truncated unless pod-0 got them.
				start, flush = op(OpStart, name), op(OpFlush, name)
			}
			flush.Flush = FlushMode{All: true}
			rescue[k] = append(rescue[k], start, flush)
		}
	}
	s := Step{Name: StepRescued, Why: "no object of this pod kept a restart point: it has nothing unsent"}
	if len(rescue) > 0 {
		s = Step{Name: StepRescued, Why: "this pod's kept senders deliver what it has not sent yet, before its state is reset and its tables truncated",
			Log: "Send this pod's unsent changes before the sync.", Done: "Unsent changes delivered.", Need: []int{0}}
	}
	p.step(s, rescue)

	// 1. Stop and reset.
	stopped := map[int][]Op{}
	for _, g := range groups {
		for _, mem := range p.snap.Members {
			if mem.Position != k {
				stopped[k] = append(stopped[k], p.stopReset(k, Name(g.Prefix, k, mem.Position), true)...)
			}
		}
	}
	// The members' ends are stopped here but reset only in the next step,
	// once this pod's own are: a run killed in between must not leave
	// this pod with its restart points and pod-0's end without one (that
	// looks like a MASTER that lost its state: ErrMasterEndLost).
	for _, j := range sortedKeys(parts) {
		for _, name := range parts[j] {
			stopped[j] = append(stopped[j], p.stopReset(j, name, false)...)
		}
	}
	p.step(Step{Name: StepJoinStopped, Why: "nothing sends to this pod, and no restart point survives, until the sync is done"}, stopped)

	// 2. Reset the members' ends, then pin the other members' restart
	// points toward this pod: a START (RETRY, polled until the sender
	// runs) fixes where each will replay from.
	pin := map[int][]Op{}
	for _, j := range sortedKeys(parts) {
		for _, name := range parts[j] {
			pin[j] = append(pin[j], p.stopReset(j, name, true)...)
		}
	}
	for _, j := range pinned {
		for _, name := range parts[j] {
			pin[j] = append(pin[j], toward(OpStart, name, k))
		}
	}
	s = Step{Name: StepPinned, Why: "the members' ends reset; no non-master member: nothing to pin"}
	if len(pinned) > 0 {
		s = Step{Name: StepPinned, Why: "the members' senders will replay what is written from now on; what was written before is at pod-0 for the sync",
			Log: "Pin the restart points of live peers before the sync.", LogArgs: []any{"peers", len(pinned)}, Need: []int{0}}
	}
	p.step(s, pin)

	// 3. Detach: this pod drops its end of each pinned object, which stops
	// its receiver at once (a STOP on the member would wait for a clock
	// tick): the pinned senders lose their peer and can deliver nothing
	// more until the object exists here again, after the sync. Meanwhile
	// the members flush toward pod-0, so what they wrote before the pin
	// (and what the pinned senders shipped here, which the truncate
	// removes) is in pod-0's snapshot.
	detach := map[int][]Op{}
	recreate := map[int][]Op{}
	for _, j := range pinned {
		for _, g := range groups {
			name := Name(g.Prefix, j, k)
			if _, ok := p.states[k][name]; ok && IsMember(p.states[j], g, j, k) {
				detach[k] = append(detach[k], op(OpDrop, name))
				recreate[k] = append(recreate[k], p.createOp(name, p.snap.member(j), g))
			}
			f := toward(OpFlushTowardMaster, Name(g.Prefix, 0, j), 0)
			f.Flush = FlushMode{All: true, Wait: pinFlushWait}
			detach[j] = append(detach[j], f)
		}
	}
	s = Step{Name: StepDetached, Why: "no non-master member: nothing to detach"}
	if len(pinned) > 0 {
		s = Step{Name: StepDetached, Why: "this pod's end of each pinned object dropped (its receiver stops: nothing more arrives until the sync is done); the members flush toward pod-0",
			Need: []int{0}}
	}
	p.step(s, detach)

	// 4. Truncate (also what the pinned senders delivered).
	var items []Item
	for _, g := range groups {
		items = append(items, g.Items...)
	}
	p.step(Step{Name: StepTruncated, Why: "the sync must land on empty tables",
		Log: "Truncate tables for replications.", Done: "Table truncation has ended."},
		map[int][]Op{k: {{Kind: OpTruncate, Items: items}}})

	// 5. Sync from the master. The members' STOPs of their pinned senders
	// (asleep since they lost this pod) wait for a clock tick: they run
	// while the sync does.
	synced := map[int][]Op{}
	for _, g := range groups {
		o := toward(OpSync, Name(g.Prefix, 0, k), k)
		o.Parallel = g.SyncParallel
		synced[0] = append(synced[0], o)
	}
	for _, j := range pinned {
		for _, name := range parts[j] {
			synced[j] = append(synced[j], toward(OpStop, name, k))
		}
	}
	p.step(Step{Name: StepSynced, Why: "copy pod-0's tables; pod-0's sender starts; the members stop their pinned senders meanwhile",
		Log: "Sync tables from MASTER Server.", Done: "Replication sync has ended.", Need: []int{0},
		Before: &Event{EventSyncing, "syncing from pod-0"}, After: &Event{EventSyncFinished, "sync from pod-0 finished"}},
		synced)

	// 5b. This pod's ends of the pinned objects, again.
	s = Step{Name: StepReattached, Why: "nothing was detached"}
	if len(recreate) > 0 {
		s = Step{Name: StepReattached, Why: "this pod's ends of the pinned objects created again, now that nothing sends to it"}
	}
	p.step(s, recreate)

	// 6. Start everything; this pod's object toward pod-0 last.
	started := map[int][]Op{}
	for _, j := range pinned {
		for _, name := range parts[j] {
			started[j] = append(started[j], toward(OpStart, name, j))
		}
		for _, g := range groups {
			if IsMember(p.states[j], g, j, k) {
				started[k] = append(started[k], toward(OpStart, Name(g.Prefix, k, j), j))
			}
		}
	}
	p.step(Step{Name: StepPeersStarted, Why: "the members replay the window; this pod sends to them"}, started)
	var last []Op
	for _, g := range groups {
		last = append(last, toward(OpStart, Name(g.Prefix, 0, k), 0))
	}
	p.step(Step{Name: StepJoined, Why: "last, so that a crash before it leaves the pod to join again"}, map[int][]Op{k: last})
	return true
}

func groupNames(groups []Group) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g.Prefix)
	}
	return out
}
