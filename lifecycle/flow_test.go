package lifecycle

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func testOptions(t *testing.T, groups ...Group) Options {
	if len(groups) == 0 {
		groups = []Group{{Prefix: "R", SyncParallel: 2, Items: []Item{{User: "SYS", Table: "T1"}}}}
	}
	return Options{
		ServerCount: 4, ReplicationPort: 20301, Groups: groups,
		FlushAtStart: true, FlushTimeoutAtStart: 0, FlushAtEnd: true, ResetAtEnd: ResetAlways,
		MarkerFile: filepath.Join(t.TempDir(), "aku_start_completed"),
	}
}

func runner(c *fakeCluster, self int, opts Options) *Runner {
	return &Runner{Opts: opts, Discovery: fakeDiscovery{self: self, n: opts.ServerCount}, Dialer: c}
}

// upTo starts pods 0..n-1 in order, as OrderedReady would.
func upTo(t *testing.T, c *fakeCluster, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := runner(c, i, testOptions(t)).Start(context.Background()); err != nil {
			t.Fatalf("start pod %d: %v", i, err)
		}
	}
	c.trace = nil
}

func indexOf(trace []string, s string) int { return slices.Index(trace, s) }

func TestStartMasterAlone(t *testing.T) {
	c := newFakeCluster(4)
	for i := 1; i < 4; i++ {
		c.down[i] = true
	}
	opts := testOptions(t)
	if err := runner(c, 0, opts).Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := c.traceOf(0)
	want := []string{"CREATE R_01", "CREATE R_02", "CREATE R_03", "ADMIN_MODE false"}
	if !slices.Equal(got, want) {
		t.Errorf("pod0 statements = %q, want %q", got, want)
	}
	if err := runner(c, 0, opts).Start(context.Background()); !errors.Is(err, ErrDuplicateStart) {
		t.Errorf("second start: err = %v, want ErrDuplicateStart", err)
	}
}

func TestJoinUsesPinnedOrder(t *testing.T) {
	c := newFakeCluster(4)
	c.down[2], c.down[3] = true, true
	upTo(t, c, 2)
	c.down[2] = false

	opts := testOptions(t)
	if err := runner(c, 2, opts).Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	all := c.trace
	at := func(s string) int {
		i := indexOf(all, s)
		if i < 0 {
			t.Fatalf("%q not run; trace %q", s, all)
		}
		return i
	}
	truncate := at("pod2: TRUNCATE SYS.T1")
	pinStart := at("pod1: START R_12")
	detach := at("pod2: DROP R_12")
	pinStop := at("pod1: STOP R_12")
	flush := at("pod1: FLUSH ALL WAIT 2 R_01")
	sync := at("pod0: SYNC R_02 PARALLEL 2")
	reattach := indexOf(all[detach+1:], "pod2: CREATE R_12") + detach + 1
	resume := indexOf(all[pinStart+1:], "pod1: START R_12") + pinStart + 1
	// The pin's STOP runs alongside the SYNC, after this pod detached
	// (nothing the pinned sender ships can land after the truncate).
	if !(pinStart < detach && detach < truncate && pinStart < flush && flush < truncate && truncate < sync &&
		detach < pinStop && pinStop < reattach && sync < reattach && reattach < resume) {
		t.Errorf("want pin START < (DROP here, flush toward pod-0) < truncate < (SYNC, pin STOP) < CREATE here < START; trace %q", all)
	}
	p1 := c.traceOf(1)
	if n := strings.Count(strings.Join(p1, "\n"), "START R_12"); n != 2 {
		t.Errorf("pod1 START R_12 ran %d times, want 2 (pin, then resume); %q", n, p1)
	}
	p2 := c.traceOf(2)
	if last := p2[len(p2)-2]; last != "START R_02" {
		t.Errorf("pod2's object toward pod-0 must start last; got %q", p2)
	}
	if p2[len(p2)-1] != "ADMIN_MODE false" {
		t.Errorf("ADMIN_MODE must be opened last; got %q", p2)
	}
	for _, s := range c.traceOf(0) {
		if strings.HasPrefix(s, "START R_02") {
			t.Errorf("pod-0 must not START toward the new pod; SYNC starts it: %q", c.traceOf(0))
		}
	}
}

func TestRestartKeptStateNeverTruncates(t *testing.T) {
	c := newFakeCluster(4)
	c.down[3] = true
	upTo(t, c, 3)
	// pod-1 stops without reset, as a crash or AKU_REPLICATION_RESET_AT_END=0 leaves it.
	opts := testOptions(t)
	opts.ResetAtEnd = ResetNever
	if err := runner(c, 1, opts).End(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.trace = nil
	opts.FlushTimeoutAtStart = 300 * time.Second
	if err := runner(c, 1, opts).Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.trace {
		if strings.Contains(s, "TRUNCATE") || strings.Contains(s, "SYNC") || strings.Contains(s, "RESET") {
			t.Errorf("resume path ran %q", s)
		}
	}
	p0 := c.traceOf(0)
	for _, want := range []string{"START R_01", "FLUSH WAIT 300 R_01"} {
		if !slices.Contains(p0, want) {
			t.Errorf("pod0 did not run %q: %q", want, p0)
		}
	}
	p1 := c.traceOf(1)
	for _, want := range []string{"START R_01", "START R_12", "FLUSH ALL R_01", "FLUSH ALL R_12"} {
		if !slices.Contains(p1, want) {
			t.Errorf("pod1 did not run %q: %q", want, p1)
		}
	}
}

func TestEndResetsSlaveNotMaster(t *testing.T) {
	c := newFakeCluster(4)
	c.down[3] = true
	upTo(t, c, 3)
	opts := testOptions(t)
	if err := runner(c, 2, opts).End(context.Background()); err != nil {
		t.Fatal(err)
	}
	p2 := c.traceOf(2)
	for _, want := range []string{"FLUSH ALL WAIT 2 R_02", "STOP R_02", "RESET R_02", "STOP R_12", "RESET R_12"} {
		if !slices.Contains(p2, want) {
			t.Errorf("pod2 did not run %q: %q", want, p2)
		}
	}
	if i, j := indexOf(p2, "FLUSH ALL WAIT 2 R_02"), indexOf(p2, "STOP R_02"); i > j {
		t.Errorf("flush must come before stop: %q", p2)
	}
	for _, want := range []string{"STOP R_02", "RESET R_02"} {
		if !slices.Contains(c.traceOf(0), want) {
			t.Errorf("pod0 did not run %q: %q", want, c.traceOf(0))
		}
	}
	c.trace = nil
	if err := runner(c, 0, opts).End(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.trace {
		if strings.Contains(s, "RESET") {
			t.Errorf("master end ran %q", s)
		}
	}
}

func TestEndAutoResetFollowsIntent(t *testing.T) {
	for _, tc := range []struct {
		why   Intent
		reset bool
	}{{IntentScaleDown, true}, {IntentRestart, false}, {IntentUnknown, false}} {
		t.Run(tc.why.String(), func(t *testing.T) {
			c := newFakeCluster(4)
			c.down[2], c.down[3] = true, true
			upTo(t, c, 2)
			opts := testOptions(t)
			opts.ResetAtEnd = ResetAuto
			r := runner(c, 1, opts)
			r.Intent = func(context.Context) (Intent, string) { return tc.why, "test" }
			if err := r.End(context.Background()); err != nil {
				t.Fatal(err)
			}
			// A pod that leaves resets both ends of its pairs; one that
			// restarts touches neither.
			for _, pod := range []int{0, 1} {
				if got := slices.Contains(c.traceOf(pod), "RESET R_01"); got != tc.reset {
					t.Errorf("pod-%d reset = %v, want %v: %q", pod, got, tc.reset, c.traceOf(pod))
				}
			}
		})
	}
}

func TestMasterFailureDetected(t *testing.T) {
	c := newFakeCluster(4)
	c.down[2], c.down[3] = true, true
	upTo(t, c, 2)
	// The master loses its object toward pod-1 while pod-1 keeps its state.
	delete(c.servers[0].objs, "R_01")
	c.servers[0].objs["R_01"] = &fakeObj{xsn: -1, peer: 1}
	if err := runner(c, 0, testOptions(t)).Start(context.Background()); !errors.Is(err, ErrMasterFailed) {
		t.Fatalf("err = %v, want ErrMasterFailed", err)
	}
}

func TestSlaveNeedsMaster(t *testing.T) {
	c := newFakeCluster(4)
	c.down[0], c.down[2], c.down[3] = true, true, true
	if err := runner(c, 1, testOptions(t)).Start(context.Background()); !errors.Is(err, ErrMasterAbsent) {
		t.Fatalf("err = %v, want ErrMasterAbsent", err)
	}
}

func TestClean(t *testing.T) {
	c := newFakeCluster(4)
	c.down[3] = true
	upTo(t, c, 3)
	opts := testOptions(t)
	if err := runner(c, 2, opts).Clean(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(c.servers[2].objs) != 0 {
		t.Errorf("pod2 still has %v", c.servers[2].objs)
	}
	if c.servers[1].objs["R_12"].started || c.servers[0].objs["R_02"].started {
		t.Errorf("peers' objects toward pod2 still started")
	}
}

func TestSeveralGroupsAllowDuplicateHosts(t *testing.T) {
	c := newFakeCluster(2)
	c.down[1] = true
	opts := testOptions(t, Group{Prefix: "A", SyncParallel: 1, Items: []Item{{User: "SYS", Table: "T1"}}},
		Group{Prefix: "B", SyncParallel: 1, Items: []Item{{User: "SYS", Table: "T2", Partition: "P1"}}})
	opts.ServerCount = 2
	if err := runner(c, 0, opts).Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.servers[0].props["REPLICATION_ALLOW_DUPLICATE_HOSTS"] != 1 {
		t.Errorf("REPLICATION_ALLOW_DUPLICATE_HOSTS not set: %q", c.traceOf(0))
	}
}

func TestStartResetsObjectsTowardGonePods(t *testing.T) {
	c := newFakeCluster(4)
	upTo(t, c, 4)
	// pod-3 was scaled away without its preStop: its server is gone, and the
	// others still hold started objects toward it.
	c.down[3] = true
	opts := testOptions(t)
	opts.ResetAtEnd = ResetNever
	if err := runner(c, 1, opts).End(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.trace = nil
	r := runner(c, 1, opts)
	r.Discovery = fakeDiscovery{self: 1, n: 4, gone: map[int]bool{3: true}}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for pod, name := range map[int]string{0: "R_03", 1: "R_13", 2: "R_23"} {
		o := c.servers[pod].objs[name]
		if o.started || o.xsn != -1 {
			t.Errorf("pod%d %s = %+v, want stopped and reset", pod, name, *o)
		}
	}
}

func TestStartTakesLockAndWaitsForMaster(t *testing.T) {
	c := newFakeCluster(4)
	c.down[2], c.down[3] = true, true
	upTo(t, c, 1)
	var events []string
	locked, released, waited := false, false, false
	r := runner(c, 1, testOptions(t))
	r.Lock = func(context.Context) (func(context.Context) error, error) {
		locked = true
		return func(context.Context) error { released = true; return nil }, nil
	}
	r.WaitReady = func(_ context.Context, ord int) error { waited = ord == 0; return nil }
	r.Event = func(_ context.Context, _ bool, reason, _ string) { events = append(events, reason) }
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !locked || !released || !waited {
		t.Errorf("locked %v released %v waited for pod-0 %v", locked, released, waited)
	}
	want := []string{"AkuStarting", "AkuWaitingForMaster", "AkuSyncing", "AkuSyncFinished", "AkuStarted"}
	if !slices.Equal(events, want) {
		t.Errorf("events = %q, want %q", events, want)
	}
}

// A crash after any step of a join, followed by a re-run, converges to the
// same state as an uninterrupted start.
func TestJoinCrashAfterEachStepConverges(t *testing.T) {
	steps := []string{StepCreated, StepJoinStopped, StepPinned, StepDetached, StepTruncated, StepSynced, StepReattached, StepPeersStarted, StepStarted, StepOpened}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			c := newFakeCluster(4)
			c.down[2], c.down[3] = true, true
			upTo(t, c, 2)
			c.down[2] = false
			opts := testOptions(t)
			r := runner(c, 2, opts)
			crash := errors.New("crash")
			r.Checkpoint = func(_ context.Context, s string) error {
				if s == step {
					return crash
				}
				return nil
			}
			if err := r.Start(context.Background()); !errors.Is(err, crash) {
				t.Fatalf("err = %v, want the injected crash", err)
			}
			r.Checkpoint = nil
			if err := r.Start(context.Background()); err != nil {
				t.Fatalf("re-run: %v", err)
			}
			for pod, names := range map[int][]string{0: {"R_02"}, 1: {"R_12"}, 2: {"R_02", "R_12"}} {
				for _, name := range names {
					if o := c.servers[pod].objs[name]; !o.started || o.xsn == -1 {
						t.Errorf("pod%d %s = %+v, want started", pod, name, *o)
					}
				}
			}
		})
	}
}

func TestEndFlushesOnlyTowardReachablePeers(t *testing.T) {
	c := newFakeCluster(4)
	c.down[3] = true
	upTo(t, c, 3)
	c.down[1] = true // pod-1 died; its object on pod-2 still says started
	if err := runner(c, 2, testOptions(t)).End(context.Background()); err != nil {
		t.Fatal(err)
	}
	p2 := c.traceOf(2)
	if slices.Contains(p2, "FLUSH ALL WAIT 2 R_12") || !slices.Contains(p2, "FLUSH ALL WAIT 2 R_02") {
		t.Errorf("pod2 flushed %q; want toward pod-0 only", p2)
	}
}

// aku-start runs as a postStart hook, usually before the local server
// accepts connections: it waits for it, within its deadline.
func TestStartWaitsForTheLocalServer(t *testing.T) {
	c := newFakeCluster(4)
	c.down[0], c.down[1], c.down[2], c.down[3] = true, true, true, true
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := runner(c, 0, testOptions(t))
	// The server comes up during the second pause; no wall clock.
	var pauses []time.Duration
	r.Sleep = func(ctx context.Context, d time.Duration) error {
		pauses = append(pauses, d)
		if len(pauses) == 2 {
			c.mu.Lock()
			c.down[0] = false
			c.mu.Unlock()
		}
		return ctx.Err()
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if len(pauses) != 2 || pauses[0] != selfRetryInterval {
		t.Errorf("pauses %v, want two of %v", pauses, selfRetryInterval)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	c.down[1] = true
	if err := runner(c, 1, testOptions(t)).Start(short); !errors.Is(err, ErrSelfUnreachable) {
		t.Fatalf("err = %v, want ErrSelfUnreachable once the deadline passes", err)
	}
}
