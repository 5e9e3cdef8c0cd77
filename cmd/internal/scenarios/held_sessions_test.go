package scenarios_test

// Held SYSDBA sessions, over the real ODBC stack: Altibase admits one SYSDBA
// session per server, and a DBA's `isql -sysdba`, a killed run's statement
// still running, or a peer's hook may hold it. A server that answered busy
// is in the mesh (issue 8): the start waits for it, never leaves it out, and
// a start waiting for its own server holds no peer's session. Each test has
// writers on the live pods and ends with the invariant checker, so a peer
// left out of the mesh shows up as rows missing, not as a log line.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aku-k8s/aku/lifecycle"
)

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
