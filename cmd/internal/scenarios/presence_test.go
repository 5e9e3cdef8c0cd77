package wire_test

// Presence by evidence, over the real ODBC stack: a server that answered is
// in the mesh whatever it answered (issue 8). Each test has writers on the
// live pods and ends with the invariant checker, so a peer left out of the
// mesh shows up as rows missing, not as a log line.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aku-k8s/aku/cmd/internal/wire"
	"github.com/aku-k8s/aku/lifecycle"
)

// waitLog waits until aku's log holds s; false if it did not within d.
func (c *cluster) waitLog(s string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !strings.Contains(c.logs.String(), s) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// startAsync runs pod i's start in the background; the result arrives on
// the channel.
func (c *cluster) startAsync(r *lifecycle.Runner, ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() { done <- r.Start(ctx) }()
	return done
}

// meshStarted fails the test unless every pair among pods is started in
// both directions with a restart point.
func (c *cluster) meshStarted(pods []int) {
	c.t.Helper()
	for _, i := range pods {
		conn := c.client(i)
		list, err := conn.Replications(bounded(c.t))
		conn.Close() // the SYSDBA slot is needed by the checks that follow
		if err != nil {
			c.t.Fatalf("pod-%d: %v", i, err)
		}
		byName := map[string]bool{}
		for _, r := range list {
			byName[r.Name] = r.IsStarted && r.XSN != -1
		}
		for _, j := range pods {
			if j == i {
				continue
			}
			for _, g := range c.groups {
				name := lifecycle.Name(g.Prefix, i, j)
				if !byName[name] {
					c.t.Errorf("pod-%d: %s is not replicating", i, name)
				}
			}
		}
	}
}

// finish writes on every pod of the mesh once more and checks the end
// state: every pair replicating, every pod identical, nothing lost.
func (c *cluster) finish(writers ...*writer) {
	c.t.Helper()
	for _, w := range writers {
		w.burst(30)
	}
	c.meshStarted(pods(c.n))
	c.converge(pods(c.n), []string{"T1"}, writers...)
}

// joinWithHeldSession joins pod-2 while a DBA holds pod `held`'s SYSDBA
// session, with writers on pods 0 and 1 throughout.
func joinWithHeldSession(t *testing.T, held int) {
	c := newCluster(t, 3, oneGroup())
	upTo(c, 2)
	w0, w1 := c.writer(0, "T1"), c.writer(1, "T1")
	w0.burst(30)
	w1.burst(30)
	dba := c.open(held, true) // isql -sysdba on pod-`held`
	w0.run()
	w1.run()
	r := c.runner(2, nil)
	r.Checkpoint = func(context.Context, string) error { w0.burst(5); w1.burst(5); return nil }
	done := c.startAsync(r, bounded(t))
	if !c.waitLog("SYSDBA session is in use", 20*time.Second) {
		t.Errorf("the join did not wait for pod-%d's SYSDBA session", held)
	}
	dba.Close()
	if err := <-done; err != nil {
		t.Fatalf("start pod-2: %v", err)
	}
	w0.halt()
	w1.halt()
	w2 := c.writer(2, "T1")
	c.finish(w0, w1, w2)
}

// A DBA (or a monitoring job) in `isql -sysdba` on a member while a pod
// joins: the member is waited for, not left out.
func TestHeldSessionOnMemberDuringJoin(t *testing.T) { joinWithHeldSession(t, 1) }

// The same on pod-0: the join waits; it is not "MASTER not reachable".
func TestHeldSessionOnMasterDuringJoin(t *testing.T) { joinWithHeldSession(t, 0) }

// gate holds a runner's first dial of a pod until another runner's first
// dial of some pod returned (or a few seconds passed), to interleave two
// starts deterministically.
type gate struct {
	once  map[int]*sync.Once
	after map[int]chan struct{} // first dial of pod waits for this
	done  map[int]chan struct{} // closed when the first dial of pod returned
}

type gatedDialer struct {
	lifecycle.Dialer
	g gate
}

func newGatedDialer(d lifecycle.Dialer, n int) *gatedDialer {
	g := gate{once: map[int]*sync.Once{}, after: map[int]chan struct{}{}, done: map[int]chan struct{}{}}
	for i := 0; i < n; i++ {
		g.once[i] = &sync.Once{}
		g.done[i] = make(chan struct{})
	}
	return &gatedDialer{Dialer: d, g: g}
}

func (d *gatedDialer) Dial(ctx context.Context, m lifecycle.Member) (lifecycle.Server, error) {
	first := false
	d.g.once[m.Ordinal].Do(func() { first = true })
	if !first {
		return d.Dialer.Dial(ctx, m)
	}
	if ch := d.g.after[m.Ordinal]; ch != nil {
		select {
		case <-ch:
		case <-time.After(3 * time.Second):
		}
	}
	defer close(d.g.done[m.Ordinal])
	return d.Dialer.Dial(ctx, m)
}

// The same pod's aku-start twice at once (a postStart run twice, DNS mode
// without the Lease), interleaved so that each run gets some of the SYSDBA
// sessions: both complete, and the mesh has no hole.
func TestSameStartTwiceAtOnce(t *testing.T) {
	c := newCluster(t, 3, oneGroup())
	upTo(c, 2)
	w0, w1 := c.writer(0, "T1"), c.writer(1, "T1")
	w0.burst(30)
	w1.burst(30)
	a, b := c.runner(2, nil), c.runner(2, nil)
	ga, gb := newGatedDialer(a.Dialer, 3), newGatedDialer(b.Dialer, 3)
	a.Dialer, b.Dialer = ga, gb
	// B takes pod-1 first; A takes pod-0 and pod-2 first.
	ga.g.after[1] = gb.g.done[1]
	gb.g.after[0] = ga.g.done[0]
	gb.g.after[2] = ga.g.done[2]
	a.Checkpoint = func(context.Context, string) error { w0.burst(5); w1.burst(5); return nil }
	ctx := bounded(t)
	da, db := c.startAsync(a, ctx), c.startAsync(b, ctx)
	for name, done := range map[string]<-chan error{"first": da, "second": db} {
		if err := <-done; err != nil {
			t.Errorf("%s start of pod-2: %v", name, err)
		}
	}
	w2 := c.writer(2, "T1")
	c.finish(w0, w1, w2)
}

// aku-start killed while its SYNC still runs on pod-0, and run again at
// once: pod-0's SYSDBA slot stays taken until the statement ends (Altibase
// does not end a session's running statement when its client dies). The
// re-run waits for it and completes.
func TestKilledStartRerunWhileItsStatementRuns(t *testing.T) {
	c := newCluster(t, 3, oneGroup())
	upTo(c, 2)
	w0, w1 := c.writer(0, "T1"), c.writer(1, "T1")
	w0.burst(30)
	w1.burst(30)
	// The killed run's last statement, still running on pod-0 with its
	// SYSDBA session: a slow statement on a session nobody will close
	// before it ends.
	c.servers[0].Node().SetDelayOn("SELECT COUNT", 3*time.Second)
	zombie := c.open(0, true)
	running := make(chan error, 1)
	go func() {
		rows, err := zombie.QueryContext(context.Background(), "SELECT COUNT(*) FROM T1")
		if err == nil {
			rows.Close()
		}
		zombie.Close() // the server ends the dead client's session when the statement ends
		running <- err
	}()
	r := c.runner(2, nil)
	r.Checkpoint = func(context.Context, string) error { w0.burst(5); w1.burst(5); return nil }
	if err := r.Start(bounded(t)); err != nil {
		t.Fatalf("re-run of start pod-2: %v", err)
	}
	if !strings.Contains(c.logs.String(), "pods=[altibase-sts-0]") {
		t.Error("the re-run did not wait for pod-0's SYSDBA session")
	}
	if err := <-running; err != nil {
		t.Fatalf("the slow statement: %v", err)
	}
	c.servers[0].Node().SetDelayOn("SELECT COUNT", 0)
	w2 := c.writer(2, "T1")
	c.finish(w0, w1, w2)
}

// A start waiting for its own server (a postStart runs before the database
// is up) holds no peer's SYSDBA session: a peer's preStop meanwhile flushes
// and stops as usual.
func TestStartWaitingForItsServerLetsAPeerEnd(t *testing.T) {
	c := newCluster(t, 3, oneGroup())
	upTo(c, 3)
	w1 := c.writer(1, "T1")
	w1.burst(30)
	c.converge(pods(3), []string{"T1"}, w1)
	c.servers[2].Kill() // pod-2's container restarts; its server opens late
	c.markerGone(2)
	done := c.startAsync(c.runner(2, nil), bounded(t))
	if !c.waitLog("Waiting for the local Altibase server", 20*time.Second) {
		t.Fatal("pod-2's start is not waiting for its server")
	}
	w1.burst(30)
	// pod-1 restarts meanwhile: its preStop must flush and stop.
	if err := c.runner(1, func(o *lifecycle.Options) { o.ResetAtEnd = lifecycle.ResetNever }).End(bounded(t)); err != nil {
		t.Fatalf("end of pod-1 while pod-2's start waits: %v", err)
	}
	if err := c.servers[2].Restart(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("start pod-2: %v", err)
	}
	c.markerGone(1)
	c.start(1)
	w0, w2 := c.writer(0, "T1"), c.writer(2, "T1")
	c.finish(w0, w1, w2)
}

// A wrong SYS password fails at once with the cause, naming the pod, and
// changes nothing: it is not "unreachable", and nobody waits for it.
func TestWrongPasswordFailsAtOnce(t *testing.T) {
	c := newCluster(t, 2, oneGroup())
	c.start(0)
	r := c.runner(1, nil)
	r.Dialer.(*wire.Dialer).Opts.Password = "not-the-password"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := r.Start(ctx)
	if !errors.Is(err, lifecycle.ErrLoginRefused) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrLoginRefused at once", err)
	}
	if !strings.Contains(err.Error(), "altibase-sts-1") {
		t.Errorf("err = %v, want it to name the pod", err)
	}
	if strings.Contains(c.logs.String(), "not reachable") {
		t.Errorf("a refused login was logged as unreachable:\n%s", c.logs.String())
	}
	c.noObjects(1)
}

// noObjects fails the test if pod i holds any replication object.
func (c *cluster) noObjects(i int) {
	c.t.Helper()
	conn := c.client(i)
	defer conn.Close()
	list, err := conn.Replications(bounded(c.t))
	if err != nil {
		c.t.Fatal(err)
	}
	if len(list) != 0 {
		c.t.Errorf("pod-%d changed: %v", i, list)
	}
}

// pod-0 killed while a member flushes toward it in the pin step: the join
// ends promptly with the cause (not after the query timeout), and a re-run
// once pod-0 is back completes with nothing lost.
func TestMasterKilledDuringThePinFlush(t *testing.T) {
	c := newCluster(t, 3, oneGroup())
	upTo(c, 2)
	w1 := c.writer(1, "T1")
	w1.burst(20)
	c.converge(pods(2), []string{"T1"}, w1)
	c.servers[1].Node().StallSender("AKU_REP_01") // pod-1 has a backlog toward pod-0
	w1.burst(40)
	done := c.startAsync(c.runner(2, nil), bounded(t))
	if !c.waitLog("Pin the restart points", 20*time.Second) {
		t.Fatal("the join did not reach the pin step")
	}
	c.servers[0].Kill()
	select {
	case err := <-done:
		if !errors.Is(err, lifecycle.ErrMasterAbsent) {
			t.Fatalf("err = %v, want ErrMasterAbsent", err)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("the join still waits on a flush toward a dead pod-0")
	}
	if err := c.servers[0].Restart(); err != nil {
		t.Fatal(err)
	}
	c.servers[1].Node().ResumeSender("AKU_REP_01")
	c.markerGone(0)
	c.start(0)
	c.start(2)
	w0, w2 := c.writer(0, "T1"), c.writer(2, "T1")
	c.finish(w0, w1, w2)
}

// A marker that cannot be written is found before any replication state
// changes.
func TestUnwritableMarkerChangesNothing(t *testing.T) {
	c := newCluster(t, 2, oneGroup())
	c.start(0)
	w0 := c.writer(0, "T1")
	w0.burst(20)
	r := c.runner(1, func(o *lifecycle.Options) {
		o.MarkerFile = filepath.Join(t.TempDir(), "no-such-dir", "aku_start_completed")
	})
	err := r.Start(bounded(t))
	if !errors.Is(err, lifecycle.ErrMarker) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrMarker", err)
	}
	c.noObjects(1)
}

// Two new pods start at once in DNS mode (no Lease), interleaved so that
// pod-1's start holds pod-0 and pod-2's start holds pod-1's server: the
// runs take turns instead of giving up on a busy pod-0 or leaving each
// other out, and the mesh ends complete.
func TestTwoPodsStartAtOnce(t *testing.T) {
	c := newCluster(t, 3, oneGroup())
	c.start(0)
	w0 := c.writer(0, "T1")
	w0.burst(30)
	a, b := c.runner(1, nil), c.runner(2, nil)
	ga, gb := newGatedDialer(a.Dialer, 3), newGatedDialer(b.Dialer, 3)
	a.Dialer, b.Dialer = ga, gb
	// pod-2's start reaches pod-1's server first; pod-1's start reaches
	// pod-0 first.
	ga.g.after[1] = gb.g.done[1]
	gb.g.after[0] = ga.g.done[0]
	w0.run()
	ctx := bounded(t)
	da, db := c.startAsync(a, ctx), c.startAsync(b, ctx)
	for pod, done := range map[int]<-chan error{1: da, 2: db} {
		if err := <-done; err != nil {
			t.Errorf("start pod-%d: %v", pod, err)
		}
	}
	w0.halt()
	w1, w2 := c.writer(1, "T1"), c.writer(2, "T1")
	c.finish(w0, w1, w2)
}
