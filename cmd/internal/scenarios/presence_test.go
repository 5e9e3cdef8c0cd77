package scenarios_test

// Presence by evidence, over the real ODBC stack: a server that answered is
// in the mesh whatever it answered (issue 8). A refused login is the cause,
// at once, not "unreachable"; a server down or a link lost for a moment is
// retried as configured; pod-0 dying in the middle of a join ends the join
// promptly, and a re-run once it is back completes. Each test ends with the
// invariant checker (or proves nothing changed), so a peer left out of the
// mesh shows up as rows missing, not as a log line. Servers that answered
// "busy" (a held SYSDBA session) are in held_sessions_test.go; starts that
// overlap in concurrent_starts_test.go.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/cmd/internal/altibaselc"
	"github.com/aku-k8s/aku/lifecycle"
)

// A wrong SYS password fails at once with the cause, naming the pod, and
// changes nothing: it is not "unreachable", and nobody waits for it.
func TestWrongPasswordFailsAtOnce(t *testing.T) {
	c := newCluster(t, 2, oneGroup())
	c.start(0)
	r := c.runner(1, nil)
	r.Dialer.(*altibaselc.Dialer).Opts.Password = "not-the-password"
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

// Transient failures are retried as configured: another SYSDBA session on
// pod-0 for a moment, a peer's server down for a moment.
// A transient failure in the middle of a join (the link to pod-1 lost
// while it starts its sender toward pod-0) is retried by the client, which
// reads the sender's state before sending START again, and the join
// completes. The log shows the retry happened. (A link lost during SYNC or
// TRUNCATE is not retried: their outcome is unknown, ErrUncertain.)
func TestTransientErrorsRetried(t *testing.T) {
	c := newCluster(t, 3, oneGroup())
	c.start(0)
	w := c.writer(0, "T1")
	w.burst(20)
	c.servers[1].Node().FailNextOn("ALTER REPLICATION AKU_REP_01 START", altibase.CodeLinkFailure)
	c.start(1)
	if !strings.Contains(c.logs.String(), "retryable failure") {
		t.Error("no retry was logged: the injected link failure was not retried")
	}
	c.converge(pods(2), []string{"T1"}, w)
}

// A master that is down for a moment when a slave starts is reached by the
// configured connect retries (AKU_QUERY_RETRY_COUNT / _DELAY_MSEC).
func TestMasterDownForAMomentRetried(t *testing.T) {
	c := newCluster(t, 2, oneGroup())
	c.retries = 40 // 40 x 50 ms
	c.start(0)
	w := c.writer(0, "T1")
	w.burst(20)
	c.servers[0].Kill()
	done := make(chan error, 1)
	go func() {
		time.Sleep(150 * time.Millisecond)
		done <- c.servers[0].Restart()
	}()
	c.start(1)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.logs.String(), "retryable failure") {
		t.Error("the start never had to retry: the test did not exercise the retry")
	}
	w2 := c.writer(1, "T1") // pod-0 came back at ADMIN_MODE=1, as a restarted server does
	w2.burst(20)
	c.converge(pods(2), []string{"T1"}, w, w2)
}
