package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Start runs `aku -p start` on this pod.
func (r *Runner) Start(ctx context.Context) (err error) {
	log := r.log()
	defer func() {
		if err != nil && !errors.Is(err, ErrDuplicateStart) {
			r.event(context.WithoutCancel(ctx), true, "AkuStartFailed", err.Error())
		}
	}()
	done, err := r.markerExists()
	if err != nil {
		return err
	}
	if done {
		log.Error("aku -p start has already completed on this pod; remove the marker file or run aku -p end first.",
			"marker", r.Opts.MarkerFile)
		return ErrDuplicateStart
	}
	// What can be checked before anything changes is checked first.
	if err := r.checkMarkerDir(); err != nil {
		return err
	}
	r.event(ctx, false, "AkuStarting", "aku start began")
	lock := startLock{r: r}
	if err := lock.take(ctx); err != nil {
		return err
	}
	defer lock.release(ctx)
	m, err := r.open(ctx, true)
	if err != nil {
		return err
	}
	defer func() { m.close() }() // m may be reopened below
	k := m.self.m.Ordinal
	role := RoleOf(k)
	log.Info(fmt.Sprintf("Start as %s Pod.", role), "ordinal", k)

	if err := m.refresh(ctx, m.all()); err != nil {
		return err
	}
	if role == RoleSlave && r.WaitReady != nil && r.needsJoin(m) && !m.members[0].Ready {
		// Wait for pod-0 holding no session and not the start lock, so
		// that the peers' hooks (and a DBA) can work meanwhile -- pod-0's
		// own start among them, which needs the lock (a Parallel
		// StatefulSet starts every pod at once); then look at the mesh
		// afresh.
		m.close()
		lock.release(ctx)
		r.event(ctx, false, "AkuWaitingForMaster", "waiting for pod-0 to be Ready before the sync")
		log.Info("Wait for the MASTER pod to be Ready.")
		if err := r.WaitReady(ctx, 0); err != nil {
			return fmt.Errorf("%w: %w", ErrMasterAbsent, err)
		}
		if err := lock.take(ctx); err != nil {
			return err
		}
		if m, err = r.open(ctx, true); err != nil {
			return err
		}
		if err := m.refresh(ctx, m.all()); err != nil {
			return err
		}
	}
	if err := r.allowDuplicateHosts(ctx, m.self); err != nil {
		return err
	}
	if err := r.createObjects(ctx, m); err != nil {
		return err
	}
	if err := r.resetGone(ctx, m); err != nil {
		return err
	}
	if err := r.checkpoint(ctx, StepCreated); err != nil {
		return err
	}
	if role == RoleMaster {
		err = r.startMaster(ctx, m)
	} else {
		err = r.startSlave(ctx, m)
	}
	if err != nil {
		return err
	}
	if err := r.checkpoint(ctx, StepStarted); err != nil {
		return err
	}
	if err := r.verify(ctx, m); err != nil {
		return err
	}
	if role == RoleSlave && r.Opts.DelayStartComplete > 0 {
		log.Info("Wait before opening the server.", "delay", r.Opts.DelayStartComplete)
		if err := r.sleep(ctx, r.Opts.DelayStartComplete); err != nil {
			return err
		}
	}
	// The manual sets ADMIN_MODE=0 on slaves only; a master left at
	// ADMIN_MODE=1 admits no application user, so aku opens it too.
	if err := m.self.srv.SetAdminMode(ctx, false); err != nil {
		return fmt.Errorf("set ADMIN_MODE = 0 on %s: %w", m.self, err)
	}
	log.Info("Server is open to users (ADMIN_MODE = 0).")
	if err := r.checkpoint(ctx, StepOpened); err != nil {
		return err
	}
	if err := r.writeMarker(); err != nil {
		return err
	}
	r.event(ctx, false, "AkuStarted", fmt.Sprintf("aku start completed as %s pod", role))
	return nil
}

// allowDuplicateHosts: several groups mean several objects toward the same
// peer host:port, which Altibase refuses (0x6110C) unless
// REPLICATION_ALLOW_DUPLICATE_HOSTS = 1.
func (r *Runner) allowDuplicateHosts(ctx context.Context, self *node) error {
	if len(r.Opts.Groups) < 2 {
		return nil
	}
	const prop = "REPLICATION_ALLOW_DUPLICATE_HOSTS"
	v, err := self.srv.Property(ctx, prop)
	if err != nil {
		return fmt.Errorf("read %s on %s: %w", prop, self, err)
	}
	if v == 1 {
		return nil
	}
	r.log().Info("Several REPLICATIONS groups need duplicate replication hosts; setting the property.", "property", prop)
	if err := self.srv.SetProperty(ctx, prop, 1); err != nil {
		return fmt.Errorf("set %s = 1 on %s (set it in altibase.properties or ALTIBASE_%s=1): %w", prop, self, prop, err)
	}
	return nil
}

// createObjects creates the pod's missing replication objects; existing ones
// (a restart, or a reset pod) are kept as they are.
func (r *Runner) createObjects(ctx context.Context, m *mesh) error {
	k := m.self.m.Ordinal
	created := 0
	for _, g := range r.Opts.Groups {
		for _, peer := range m.members {
			j := peer.Ordinal
			if j == k {
				continue
			}
			name := Name(g.Prefix, k, j)
			if _, ok := m.self.states[name]; ok {
				continue
			}
			rep := Replication{Name: name, RemoteHost: peer.Host, RemotePort: r.Opts.ReplicationPort, Items: g.Items}
			if err := m.self.srv.CreateReplication(ctx, rep); err != nil {
				return fmt.Errorf("create replication %s on %s: %w", name, m.self, err)
			}
			r.log().Debug("Replication created.", "replication", name, "remoteHost", peer.Host)
			created++
		}
	}
	if created == 0 {
		return nil
	}
	return m.refresh(ctx, []*node{m.self})
}

func (r *Runner) startMaster(ctx context.Context, m *mesh) error {
	peers := map[int]States{}
	for j, p := range m.peers {
		peers[j] = p.states
	}
	if failed := MasterFailures(m.self.states, peers, r.Opts.Groups); len(failed) > 0 {
		r.log().Error("The MASTER server is detected to have failed. Check and perform a manual recovery.",
			"replications", failed)
		return fmt.Errorf("%w: replication information lost for %v", ErrMasterFailed, failed)
	}
	return r.startPairs(ctx, m, r.Opts.Groups)
}

func (r *Runner) startSlave(ctx context.Context, m *mesh) error {
	k := m.self.m.Ordinal
	var join, resume []Group
	for _, g := range r.Opts.Groups {
		p := PathFor(m.self.states, g, k)
		r.log().Debug("Replication group path decided.", "group", g.Prefix, "path", p.String())
		if p == PathJoin {
			join = append(join, g)
		} else {
			resume = append(resume, g)
		}
	}
	if len(join) > 0 {
		if err := r.join(ctx, m, join); err != nil {
			return err
		}
	}
	if len(resume) > 0 {
		return r.startPairs(ctx, m, resume)
	}
	return nil
}

// members lists the reachable peers that joined group g, as seen from k.
func (r *Runner) members(m *mesh, g Group) []*node {
	k := m.self.m.Ordinal
	var out []*node
	for _, p := range m.peerList() {
		if IsMember(p.states, g, p.m.Ordinal, k) {
			out = append(out, p)
		}
	}
	return out
}

// startPairs starts, for each group, both directions between this pod and
// every reachable member (a restarted pod that kept its state, or the master),
// then flushes if AKU_FLUSH_AT_START is set. Nothing is truncated.
func (r *Runner) startPairs(ctx context.Context, m *mesh, groups []Group) error {
	k := m.self.m.Ordinal
	mine := map[*node][]string{}
	total := 0
	for _, g := range groups {
		for _, p := range r.members(m, g) {
			name := Name(g.Prefix, k, p.m.Ordinal)
			mine[m.self] = append(mine[m.self], name)
			mine[p] = append(mine[p], name)
			total++
		}
	}
	if total == 0 {
		r.log().Info("No live peer to replicate with yet.")
		return nil
	}
	nodes := nodesOf(m, mine)
	err := m.each(ctx, nodes, func(ctx context.Context, n *node) error {
		for _, name := range mine[n] {
			if err := start(ctx, n, name, r.log()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !r.Opts.FlushAtStart {
		return nil
	}
	r.log().Info("Flush replications.")
	err = m.each(ctx, nodesOf(m, mine), func(ctx context.Context, n *node) error {
		mode := FlushMode{All: true}
		if n != m.self {
			mode = PeerFlush(r.Opts.FlushTimeoutAtStart)
		}
		for _, name := range mine[n] {
			if err := n.srv.Flush(ctx, name, mode); err != nil {
				return fmt.Errorf("flush %s on %s: %w", name, n, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.log().Info("Replication flush has ended.")
	r.event(ctx, false, "AkuFlushed", "replication gaps flushed")
	return nil
}

// nodesOf lists the nodes that have work, self first, peers still reachable.
func nodesOf(m *mesh, work map[*node][]string) []*node {
	var out []*node
	for _, n := range m.all() {
		if len(work[n]) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// join brings a reset or new slave into the mesh for the given groups without
// losing writes made anywhere meanwhile (the pinned order, conformance case 31):
//  1. stop and reset this pod's objects and every member's objects toward it;
//  2. pin each non-master member's restart point toward this pod (START then
//     STOP), so its sender will replay everything written after the pin;
//  3. flush each non-master member toward pod-0, so what it wrote before the
//     pin (and what its pinning START shipped) is in pod-0's snapshot;
//  4. truncate this pod's target tables, only now that every sender toward
//     it is stopped, removing whatever the pinning STARTs delivered (the
//     SYNC must land on empty tables: docs/altibase.md section 8);
//  5. SYNC from pod-0 (copies the snapshot and starts pod-0's sender);
//  6. start the members' senders toward this pod (replaying the window; rows
//     the SYNC already copied are skipped as conflicts) and this pod's senders
//     toward the members, and last this pod's sender toward pod-0, so a crash
//     before the end leaves the object toward pod-0 reset and a re-run joins
//     again from the start.
func (r *Runner) join(ctx context.Context, m *mesh, groups []Group) error {
	log := r.log()
	k := m.self.m.Ordinal
	master := m.peers[0]
	if master == nil {
		log.Error("The MASTER pod is not reachable; a new or reset pod must sync from it.")
		return fmt.Errorf("%w: needed to sync %s", ErrMasterAbsent, groupNames(groups))
	}
	for _, g := range groups {
		if !IsMember(master.states, g, 0, k) {
			return fmt.Errorf("%w: pod-0 has no replication %s; run aku -p start on pod-0 first",
				ErrMasterAbsent, Name(g.Prefix, 0, k))
		}
	}
	// Who takes part, per group, decided before anything changes.
	type part struct {
		n     *node
		names []string // the member's objects toward k
	}
	parts := map[*node]*part{}
	var pinned []*node
	for _, g := range groups {
		for _, p := range r.members(m, g) {
			pt := parts[p]
			if pt == nil {
				pt = &part{n: p}
				parts[p] = pt
				if p.m.Ordinal != 0 {
					pinned = append(pinned, p)
				}
			}
			pt.names = append(pt.names, Name(g.Prefix, p.m.Ordinal, k))
		}
	}
	var selfNames []string
	for _, g := range groups {
		for _, mem := range m.members {
			if mem.Ordinal != k {
				selfNames = append(selfNames, Name(g.Prefix, k, mem.Ordinal))
			}
		}
	}

	// 1. Stop and reset.
	involved := []*node{m.self}
	for _, n := range m.peerList() {
		if parts[n] != nil {
			involved = append(involved, n)
		}
	}
	err := m.each(ctx, involved, func(ctx context.Context, n *node) error {
		names := selfNames
		if n != m.self {
			names = parts[n].names
		}
		for _, name := range names {
			if err := stopAndReset(ctx, n, name, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	if err := r.checkpoint(ctx, StepJoinStopped); err != nil {
		return err
	}

	// 2 and 3. Pin the other members' restart points, then flush them toward pod-0.
	pinned = stillReachable(m, pinned)
	if len(pinned) > 0 {
		log.Info("Pin the restart points of live peers before the sync.", "peers", len(pinned))
		err = m.each(ctx, pinned, func(ctx context.Context, n *node) error {
			for _, name := range parts[n].names {
				if err := start(ctx, n, name, log); err != nil {
					return err
				}
				if err := stop(ctx, n, name); err != nil {
					return err
				}
			}
			j := n.m.Ordinal
			for _, g := range groups {
				name := Name(g.Prefix, 0, j)
				err := r.flushTowardMaster(ctx, n, name, master)
				if errors.Is(err, ErrNotStarted) {
					log.Warn("Peer's replication toward the MASTER is not running; its unsent rows reach this pod only after it is started.",
						"pod", n.m.Name, "replication", name)
					continue
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}

	if err := r.checkpoint(ctx, StepPinned); err != nil {
		return err
	}

	// 4. Truncate (also what the pinning STARTs may have shipped).
	var items []Item
	for _, g := range groups {
		items = append(items, g.Items...)
	}
	log.Info("Truncate tables for replications.")
	if err := m.self.srv.Truncate(ctx, items); err != nil {
		return fmt.Errorf("truncate on %s: %w", m.self, err)
	}
	log.Info("Table truncation has ended.")
	if err := r.checkpoint(ctx, StepTruncated); err != nil {
		return err
	}

	// 5. Sync from the master.
	if m.peers[0] == nil {
		return fmt.Errorf("%w: lost during the join", ErrMasterAbsent)
	}
	log.Info("Sync tables from MASTER Server.")
	r.event(ctx, false, "AkuSyncing", "syncing from pod-0")
	for _, g := range groups {
		name := Name(g.Prefix, 0, k)
		if err := master.srv.Sync(ctx, name, g.SyncParallel); err != nil {
			return fmt.Errorf("sync %s from %s: %w", name, master, err)
		}
	}
	log.Info("Replication sync has ended.")
	r.event(ctx, false, "AkuSyncFinished", "sync from pod-0 finished")
	if err := r.checkpoint(ctx, StepSynced); err != nil {
		return err
	}

	// 6. Start everything; this pod's object toward pod-0 last.
	pinned = stillReachable(m, pinned)
	work := map[*node][]string{}
	for _, p := range pinned {
		work[p] = parts[p].names
		for _, g := range groups {
			if IsMember(p.states, g, p.m.Ordinal, k) {
				work[m.self] = append(work[m.self], Name(g.Prefix, k, p.m.Ordinal))
			}
		}
	}
	err = m.each(ctx, nodesOf(m, work), func(ctx context.Context, n *node) error {
		for _, name := range work[n] {
			if err := start(ctx, n, name, log); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := r.checkpoint(ctx, StepPeersStarted); err != nil {
		return err
	}
	for _, g := range groups {
		if err := start(ctx, m.self, Name(g.Prefix, 0, k), log); err != nil {
			return err
		}
	}
	return nil
}

func stillReachable(m *mesh, nodes []*node) []*node {
	var out []*node
	for _, n := range nodes {
		if m.peers[n.m.Ordinal] == n {
			out = append(out, n)
		}
	}
	return out
}

func groupNames(groups []Group) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g.Prefix)
	}
	return out
}

// resetGone stops and resets the objects toward ordinals that left the
// StatefulSet without their preStop (a crash, a forced deletion): otherwise
// this pod and its peers keep online logs for them forever (the manual's
// caution about disk exhaustion).
func (r *Runner) resetGone(ctx context.Context, m *mesh) error {
	k := m.self.m.Ordinal
	work := map[*node][]string{}
	for _, mem := range m.members {
		if !mem.Gone || mem.Ordinal == k {
			continue
		}
		for _, n := range m.all() {
			if n.m.Ordinal == mem.Ordinal {
				continue
			}
			for _, name := range r.objectsToward(n.m.Ordinal, mem.Ordinal) {
				if st, ok := n.states[name]; ok && (st.IsStarted || !st.Reset()) {
					work[n] = append(work[n], name)
				}
			}
		}
	}
	if len(work) == 0 {
		return nil
	}
	r.log().Info("Reset replications toward pods that left without aku -p end.")
	err := m.each(ctx, nodesOf(m, work), func(ctx context.Context, n *node) error {
		for _, name := range work[n] {
			if err := stopAndReset(ctx, n, name, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return m.refresh(ctx, nodesOf(m, work))
}

// startLock is the start lease (Runner.Lock), which a start gives up while
// it waits for pod-0.
type startLock struct {
	r    *Runner
	drop func(context.Context) error // set while held
}

func (l *startLock) take(ctx context.Context) error {
	if l.r.Lock == nil || l.drop != nil {
		return nil
	}
	release, err := l.r.Lock(ctx)
	if err != nil {
		return fmt.Errorf("take the start lock: %w", err)
	}
	l.drop = release
	return nil
}

// release gives the lock up; it does nothing when not held. The work's
// context may have ended: releasing must still happen.
func (l *startLock) release(ctx context.Context) {
	if l.drop == nil {
		return
	}
	release := l.drop
	l.drop = nil
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := release(rctx); err != nil {
		l.r.log().Warn("Could not release the start lock; it expires by itself.", "err", err)
	}
}
