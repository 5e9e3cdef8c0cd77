package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// noSleep makes the waits between connect attempts instant.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func bounded(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// A member whose SYSDBA slot is taken answered: it is waited for and joins
// the mesh, never left out (a hole that exits 0).
func TestBusyMemberIsWaitedForNotDropped(t *testing.T) {
	c := newFakeCluster(4)
	c.down[2], c.down[3] = true, true
	upTo(t, c, 2)
	c.down[2] = false
	c.busy[1] = 3 // a DBA holds pod-1's SYSDBA session for a while
	r := runner(c, 2, testOptions(t))
	r.Sleep = noSleep
	if err := r.Start(bounded(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for pod, name := range map[int]string{1: "R_12", 2: "R_12"} {
		if o := c.servers[pod].objs[name]; o == nil || !o.started || o.xsn == -1 {
			t.Errorf("pod%d %s not started: the busy member was left out", pod, name)
		}
	}
	if n := c.openSessions(); n != 0 {
		t.Errorf("%d sessions left open", n)
	}
}

// A busy pod-0 is waited for too; the join does not say "not reachable".
func TestBusyMasterIsWaitedFor(t *testing.T) {
	c := newFakeCluster(4)
	c.down[2], c.down[3] = true, true
	upTo(t, c, 1)
	c.busy[0] = 2
	r := runner(c, 1, testOptions(t))
	r.Sleep = noSleep
	if err := r.Start(bounded(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(c.traceOf(0), "SYNC R_01 PARALLEL 2") {
		t.Errorf("pod-0 did not sync pod-1: %q", c.traceOf(0))
	}
}

// A SYSDBA slot that stays taken ends the run at its deadline, naming the
// pod, with nothing changed.
func TestBusyForeverFailsAtDeadlineNamingThePod(t *testing.T) {
	c := newFakeCluster(4)
	c.down[2], c.down[3] = true, true
	upTo(t, c, 2)
	c.down[2] = false
	c.busy[1] = -1
	r := runner(c, 2, testOptions(t))
	err := r.Start(bounded(t, 1500*time.Millisecond))
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "sts-1") {
		t.Fatalf("err = %v, want ErrBusy naming sts-1", err)
	}
	if tr := c.traceOf(2); len(tr) != 0 {
		t.Errorf("pod2 changed: %q", tr)
	}
}

// A refused login (wrong password) fails at once, naming the pod, before
// anything changes; it is not "unreachable" and is not waited for.
func TestRefusedLoginFailsAtOnce(t *testing.T) {
	for _, refused := range []int{1, 0} {
		c := newFakeCluster(4)
		c.down[2], c.down[3] = true, true
		upTo(t, c, 1)
		c.refused[refused] = true
		r := runner(c, 1, testOptions(t))
		err := r.Start(bounded(t, 30*time.Second))
		if !errors.Is(err, ErrLoginRefused) || errors.Is(err, ErrSelfUnreachable) {
			t.Fatalf("pod%d refuses: err = %v, want ErrLoginRefused", refused, err)
		}
		if !strings.Contains(err.Error(), member(refused).Name) {
			t.Errorf("err = %v, want it to name %s", err, member(refused).Name)
		}
		if tr := c.traceOf(1); len(tr) != 0 {
			t.Errorf("pod1 changed: %q", tr)
		}
	}
}

// While a joining pod waits for pod-0 to be Ready it holds no session, so
// the peers' preStop hooks can work.
func TestWaitForMasterHoldsNoSession(t *testing.T) {
	c := newFakeCluster(4)
	c.down[2], c.down[3] = true, true
	upTo(t, c, 2)
	c.down[2] = false
	held := -1
	r := runner(c, 2, testOptions(t))
	r.WaitReady = func(context.Context, int) error { held = c.openSessions(); return nil }
	if err := r.Start(bounded(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if held != 0 {
		t.Errorf("%d sessions held while waiting for pod-0", held)
	}
}

// The local server is waited for holding no peer's session.
func TestWaitForSelfHoldsNoPeerSession(t *testing.T) {
	c := newFakeCluster(4)
	c.down[3] = true
	upTo(t, c, 2)
	c.down[2] = true
	held := 0
	r := runner(c, 2, testOptions(t))
	r.Sleep = func(ctx context.Context, _ time.Duration) error {
		held = max(held, c.openSessions())
		c.mu.Lock()
		c.down[2] = false // the server opens
		c.mu.Unlock()
		return ctx.Err()
	}
	if err := r.Start(bounded(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if held != 0 {
		t.Errorf("%d sessions held while waiting for the local server", held)
	}
}

// A marker that cannot be written is found before anything changes.
func TestUnwritableMarkerFailsFirst(t *testing.T) {
	c := newFakeCluster(4)
	c.down[2], c.down[3] = true, true
	upTo(t, c, 1)
	opts := testOptions(t)
	opts.MarkerFile = filepath.Join(t.TempDir(), "missing", "aku_start_completed")
	err := runner(c, 1, opts).Start(bounded(t, 10*time.Second))
	if !errors.Is(err, ErrMarker) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrMarker", err)
	}
	for pod := 0; pod < 2; pod++ {
		if tr := c.traceOf(pod); len(tr) != 0 {
			t.Errorf("pod%d changed: %q", pod, tr)
		}
	}
}

// A pair that did not start, whatever the reason, fails the start: no
// marker, an error naming the pair.
func TestStartVerifiesTheMesh(t *testing.T) {
	c := newFakeCluster(4)
	c.down[2], c.down[3] = true, true
	upTo(t, c, 2)
	c.down[2] = false
	c.servers[1].deaf = map[string]bool{"R_12": true}
	opts := testOptions(t)
	err := runner(c, 2, opts).Start(bounded(t, 10*time.Second))
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "R_12 on sts-1 (not started)") {
		t.Fatalf("err = %v, want ErrIncomplete naming R_12 on sts-1", err)
	}
	if _, serr := os.Stat(opts.MarkerFile); serr == nil {
		t.Error("marker written for an incomplete mesh")
	}
}

// The pin step's flush toward pod-0 is bounded: when pod-0 goes away while
// a member flushes toward it, the join ends promptly naming the cause.
func TestPinFlushEndsWhenMasterIsLost(t *testing.T) {
	c := newFakeCluster(4)
	c.down[2], c.down[3] = true, true
	upTo(t, c, 2)
	c.down[2] = false
	c.servers[1].stalled = map[string]bool{"R_01": true}
	r := runner(c, 2, testOptions(t))
	r.Checkpoint = func(_ context.Context, step string) error {
		if step == StepJoinStopped {
			c.mu.Lock()
			c.down[0] = true // pod-0 is killed
			c.mu.Unlock()
		}
		return nil
	}
	err := r.Start(bounded(t, 30*time.Second))
	if !errors.Is(err, ErrMasterAbsent) {
		t.Fatalf("err = %v, want ErrMasterAbsent; trace %q", err, c.trace)
	}
}

func TestMeshGaps(t *testing.T) {
	g := []Group{{Prefix: "R"}}
	self := Member{Position: 2, Name: "p2"}
	peers := map[int]Member{0: {Position: 0, Name: "p0"}, 1: {Position: 1, Name: "p1"}, 3: {Position: 3, Name: "p3"}}
	on := RepState{XSN: 5, IsStarted: true}
	for _, tc := range []struct {
		name   string
		mine   States
		states map[int]States
		want   []string
	}{
		{"complete", States{"R_02": on, "R_12": on, "R_23": {XSN: -1}},
			map[int]States{0: {"R_02": on}, 1: {"R_01": on, "R_12": on}, 3: {"R_03": {XSN: -1}}}, nil},
		{"peer not started", States{"R_02": on, "R_12": on},
			map[int]States{0: {"R_02": on}, 1: {"R_01": on, "R_12": {XSN: 7}}},
			[]string{"R_12 on p1 (not started)"}},
		{"peer reset", States{"R_02": on, "R_12": on},
			map[int]States{0: {"R_02": on}, 1: {"R_01": on, "R_12": {XSN: -1, IsStarted: true}}},
			[]string{"R_12 on p1 (no restart point)"}},
		{"own missing and stopped", States{"R_02": {XSN: 3}},
			map[int]States{0: {"R_02": on}, 1: {"R_01": on, "R_12": on}},
			[]string{"R_02 on p2 (not started)", "R_12 on p2 (missing)"}},
		{"non-member ignored", States{"R_02": on},
			map[int]States{0: {"R_02": on}, 1: {"R_01": {XSN: -1}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, gap := range MeshGaps(self, tc.mine, peers, tc.states, g) {
				got = append(got, gap.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("gaps = %q, want %q", got, tc.want)
			}
		})
	}
}

// A pod that keeps its state (restart) stops no sender: its own stop with
// its server and start again at boot, the peers' keep their restart points
// and its start wakes them; each STOP would cost a tick.
func TestEndOfARestartStopsNothing(t *testing.T) {
	c := newFakeCluster(4)
	c.down[3] = true
	upTo(t, c, 3)
	opts := testOptions(t)
	opts.ResetAtEnd = ResetNever
	if err := runner(c, 2, opts).End(bounded(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range c.traceOf(2) {
		if strings.HasPrefix(stmt, "STOP") || strings.HasPrefix(stmt, "RESET") {
			t.Errorf("the restarting pod ran %q", stmt)
		}
	}
	for pod, name := range map[int]string{0: "R_02", 1: "R_12"} {
		if o := c.servers[pod].objs[name]; !o.started || o.xsn == -1 {
			t.Errorf("pod%d %s was stopped or reset", pod, name)
		}
	}
	// It comes back through the resume path with nothing lost.
	if err := runner(c, 2, opts).Start(bounded(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(c.traceOf(2), "TRUNCATE SYS.T1") {
		t.Error("a pod that kept its state was truncated")
	}
}

// Runs of three pods at once (all pods deleted together, a Parallel
// StatefulSet) contend for the servers' single SYSDBA slots. Dialling at
// the same moments and pausing alike, runs that release everything on a
// taken slot stay in step and never finish (seen on a real kubelet: three
// preStop hooks for 80 s); taking contended slots in ordinal order, each
// run gets the whole mesh in turn.
func TestRunsAtOnceEachGetTheMesh(t *testing.T) {
	c := newFakeCluster(3)
	c.exclusive, c.dialDelay = true, 10*time.Millisecond
	members := []Member{member(0), member(1), member(2)}
	ctx := bounded(t, 5*time.Second)
	errs := make(chan error, 3)
	for k := 0; k < 3; k++ {
		r := runner(c, k, testOptions(t))
		// Pauses alike, without jitter: the runs stay in step.
		r.Sleep = func(ctx context.Context, _ time.Duration) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(5 * time.Millisecond):
				return nil
			}
		}
		go func() {
			m, err := r.connect(ctx, members[k], members, false)
			if err == nil {
				if len(m.peers) != 2 {
					err = fmt.Errorf("pod%d got %d peers, want 2", k, len(m.peers))
				}
				time.Sleep(20 * time.Millisecond) // the run's work
				m.close()
			}
			errs <- err
		}()
	}
	for k := 0; k < 3; k++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := c.openSessions(); n != 0 {
		t.Errorf("%d sessions left open", n)
	}
}

// A Parallel StatefulSet starts every pod at once. A joining pod that took
// the start lock and waits for pod-0 to be Ready must give the lock up
// meanwhile: pod-0's own start needs it (holding it deadlocked both for the
// whole start timeout on a real kubelet).
func TestWaitForMasterGivesUpTheStartLock(t *testing.T) {
	c := newFakeCluster(4)
	c.down[2], c.down[3] = true, true
	sem := make(chan struct{}, 1)
	lock := func(ctx context.Context) (func(context.Context) error, error) {
		select {
		case sem <- struct{}{}:
			return func(context.Context) error { <-sem; return nil }, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	ctx := bounded(t, 5*time.Second)
	waiting, ready0 := make(chan struct{}), make(chan struct{})
	r1 := runner(c, 1, testOptions(t))
	r1.Lock = lock
	r1.WaitReady = func(ctx context.Context, _ int) error {
		close(waiting)
		select {
		case <-ready0:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	done1 := make(chan error, 1)
	go func() { done1 <- r1.Start(ctx) }()
	<-waiting
	r0 := runner(c, 0, testOptions(t))
	r0.Lock = lock
	if err := r0.Start(ctx); err != nil {
		t.Fatalf("pod-0's start while pod-1 waits for it: %v", err)
	}
	close(ready0)
	if err := <-done1; err != nil {
		t.Fatalf("pod-1's start: %v", err)
	}
	if !slices.Contains(c.traceOf(0), "SYNC R_01 PARALLEL 2") {
		t.Errorf("pod-0 did not sync pod-1: %q", c.traceOf(0))
	}
}

// A flush at end that waits (its sender reconnecting to a peer that is
// restarting too) goes on holding only the local session, so that the
// peers' own hooks can take their SYSDBA slots; then the end looks at the
// mesh afresh and stops and resets as usual.
func TestSlowFlushAtEndHoldsNoPeerSession(t *testing.T) {
	c := newFakeCluster(4)
	c.down[3] = true
	upTo(t, c, 3)
	c.servers[2].slowFlush = map[string]bool{"R_02": true}
	r := runner(c, 2, testOptions(t))
	if err := r.End(bounded(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := c.servers[2].peerSessions; len(got) != 1 || got[0] != 0 {
		t.Errorf("sessions held on the peers during the slow flush: %v, want [0]", got)
	}
	trace := c.traceOf(2)
	if indexOf(trace, "FLUSH ALL WAIT 2 R_02") < 0 || indexOf(trace, "FLUSH ALL R_02") < 0 {
		t.Errorf("pod-2 did not flush R_02 in a slice and then to the end: %q", trace)
	}
	if o := c.servers[0].objs["R_02"]; o == nil || o.started {
		t.Errorf("pod-0's R_02 after the end: %+v, want stopped", o)
	}
	if n := c.openSessions(); n != 0 {
		t.Errorf("%d sessions left open", n)
	}
}
