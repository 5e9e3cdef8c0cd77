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
			r.event(context.WithoutCancel(ctx), true, EventStartFailed, err.Error())
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
	r.event(ctx, false, EventStarting, "aku start began")
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
	k := m.self.m.Position
	log.Info(fmt.Sprintf("Start as %s Pod.", RoleOf(k)), "position", k)

	if err := m.refresh(ctx, m.all()); err != nil {
		return err
	}
	if r.waitsForMaster(m) {
		// Wait for pod-0 holding no session and not the start lock, so
		// that the peers' hooks (and a DBA) can work meanwhile -- pod-0's
		// own start among them, which needs the lock (a Parallel
		// StatefulSet starts every pod at once); then look at the mesh
		// afresh.
		m.close()
		lock.release(ctx)
		r.event(ctx, false, EventWaitingForMaster, "waiting for pod-0 to be Ready before the sync")
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
	snap, err := r.startSnapshot(ctx, m)
	if err != nil {
		return err
	}
	return r.run(ctx, m, PlanStart(r.Opts, snap))
}

// waitsForMaster: a slave that must join waits for pod-0 to be Ready (by
// Kubernetes readiness, where known) before it plans.
func (r *Runner) waitsForMaster(m *mesh) bool {
	return RoleOf(m.self.m.Position) == RoleSlave && r.WaitReady != nil && r.needsJoin(m) && !m.members[0].Ready
}

// startSnapshot is the mesh as read, with what PlanStart needs beyond the
// objects: REPLICATION_ALLOW_DUPLICATE_HOSTS, read when there are several
// groups.
func (r *Runner) startSnapshot(ctx context.Context, m *mesh) (Snapshot, error) {
	snap := r.snapshot(m)
	if len(r.Opts.Groups) > 1 {
		v, err := m.self.srv.Property(ctx, propDuplicateHosts)
		if err != nil {
			return snap, fmt.Errorf("read %s on %s: %w", propDuplicateHosts, m.self, err)
		}
		snap.DuplicateHostsAllowed = v == 1
	}
	return snap, nil
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
