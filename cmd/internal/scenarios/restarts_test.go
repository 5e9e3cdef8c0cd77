package wire_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/lifecycle"
)

func upTo(c *cluster, n int) {
	for i := 0; i < n; i++ {
		c.start(i)
	}
}

func pods(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// A slave that ended cleanly (reset) comes back through truncate and sync,
// with the rows written while it was away.
func TestRestartAfterCleanEndResyncs(t *testing.T) {
	c := newCluster(t, 3, oneGroup())
	upTo(c, 3)
	w0, w2 := c.writer(0, "T1"), c.writer(2, "T1")
	w0.burst(60)
	w2.burst(60)
	c.converge(pods(3), []string{"T1"}, w0, w2)
	c.end(2, true)
	w0.burst(60)
	w1 := c.writer(1, "T1")
	w1.burst(60)
	c.logs.reset()
	c.startWriting(2, []*writer{w0, w1}, 10)
	if !strings.Contains(c.logs.String(), "Sync tables from MASTER Server.") {
		t.Errorf("a reset slave must be synced from pod-0")
	}
	c.converge(pods(3), []string{"T1"}, w0, w1, w2)
}

// A slave killed with unsent changes (a stalled sender) comes back through
// the resume path: never truncated, its changes flushed to the others.
func TestKilledSlaveKeepsUnsentWrites(t *testing.T) {
	c := newCluster(t, 3, oneGroup())
	upTo(c, 3)
	w2 := c.writer(2, "T1")
	w2.burst(10)
	c.converge(pods(3), []string{"T1"}, w2)
	n := c.servers[2].Node()
	n.StallSender("AKU_REP_02")
	n.StallSender("AKU_REP_12")
	w2.burst(80) // acknowledged on pod-2, not sent
	if c.diff([]int{0, 2}, []string{"T1"}, nil) == "" {
		t.Fatal("stalled senders shipped anyway: no gap to test")
	}
	c.servers[2].Kill()
	if err := c.servers[2].Restart(); err != nil {
		t.Fatal(err)
	}
	c.markerGone(2)
	c.logs.reset()
	if err := c.startErr(2, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.logs.String(), "Truncate tables") {
		t.Errorf("a pod that kept its state was truncated")
	}
	c.converge(pods(3), []string{"T1"}, w2)
}

// Scale 4 to 2: end on pods 3 and 2, with reset on and off. With reset off
// a pod that comes back resumes; with it on it is synced again.
func TestScaleDownResetOnAndOff(t *testing.T) {
	for _, reset := range []bool{true, false} {
		name := "reset"
		if !reset {
			name = "keep"
		}
		t.Run(name, func(t *testing.T) {
			c := newCluster(t, 4, oneGroup())
			upTo(c, 4)
			ws := []*writer{c.writer(0, "T1"), c.writer(1, "T1"), c.writer(3, "T1")}
			for _, w := range ws {
				w.burst(30)
			}
			c.converge(pods(4), []string{"T1"}, ws...)
			c.end(3, reset)
			c.end(2, reset)
			c.servers[3].Close()
			c.servers[2].Close()
			for _, w := range ws[:2] {
				w.burst(30)
			}
			c.converge(pods(2), []string{"T1"}, ws[:2]...)
			p0 := c.client(0)
			states, err := p0.Replications(bounded(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range states {
				if st.Name == "AKU_REP_01" {
					continue
				}
				if st.IsStarted || reset != (st.XSN == -1) {
					t.Errorf("pod-0 %s = %+v after scale-down with reset=%v", st.Name, st, reset)
				}
			}
			p0.Close()
			// Pod-2 comes back.
			if err := c.servers[2].Restart(); err != nil {
				t.Fatal(err)
			}
			c.markerGone(2)
			c.logs.reset()
			c.start(2)
			synced := strings.Contains(c.logs.String(), "Sync tables from MASTER Server.")
			if synced != reset {
				t.Errorf("pod-2 synced = %v, want %v", synced, reset)
			}
			c.converge(pods(3), []string{"T1"}, ws[:2]...)
		})
	}
}

func TestCleanDropsEverything(t *testing.T) {
	c := newCluster(t, 3, oneGroup())
	upTo(c, 3)
	if err := c.runner(2, nil).Clean(bounded(t)); err != nil {
		t.Fatal(err)
	}
	p2 := c.client(2)
	if states, err := p2.Replications(bounded(t)); err != nil || len(states) != 0 {
		t.Errorf("pod-2 after clean: %v, %v", states, err)
	}
	p2.Close()
	for i, name := range map[int]string{0: "AKU_REP_02", 1: "AKU_REP_12"} {
		p := c.client(i)
		st, ok, err := p.Replication(bounded(t), name)
		if err != nil || !ok || st.IsStarted {
			t.Errorf("pod-%d %s after clean: %+v ok=%v err=%v, want stopped", i, name, st, ok, err)
		}
		p.Close()
	}
	// A second start refused on a completed pod; clean removed pod-2's marker.
	if err := c.startErr(1, nil); !errors.Is(err, lifecycle.ErrDuplicateStart) {
		t.Errorf("second start: %v, want ErrDuplicateStart", err)
	}
}

func TestMasterFailureDetected(t *testing.T) {
	c := newCluster(t, 2, oneGroup())
	upTo(c, 2)
	p0 := c.client(0)
	must(t, p0.Stop(bounded(t), "AKU_REP_01"))
	must(t, p0.Reset(bounded(t), "AKU_REP_01"))
	p0.Close()
	c.markerGone(0)
	if err := c.startErr(0, nil); !errors.Is(err, lifecycle.ErrMasterFailed) {
		t.Fatalf("err = %v, want ErrMasterFailed", err)
	}
	if !strings.Contains(c.logs.String(), "The MASTER server is detected to have failed. Check and perform a manual recovery.") {
		t.Errorf("the manual's message was not logged")
	}
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

// A crash after any step of a join, then a re-run, converges with nothing
// lost, through the real stack.
func TestCrashAfterEachStepConverges(t *testing.T) {
	steps := []string{lifecycle.StepCreated, lifecycle.StepJoinStopped, lifecycle.StepPinned, lifecycle.StepTruncated,
		lifecycle.StepSynced, lifecycle.StepPeersStarted, lifecycle.StepStarted, lifecycle.StepOpened}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			c := newCluster(t, 3, oneGroup())
			upTo(c, 2)
			w0, w1 := c.writer(0, "T1"), c.writer(1, "T1")
			w0.burst(30)
			w1.burst(30)
			crash := errors.New("crash")
			err := c.startErr(2, func(r *lifecycle.Runner) {
				r.Checkpoint = func(_ context.Context, s string) error {
					w0.burst(5)
					w1.burst(5)
					if s == step {
						return crash
					}
					return nil
				}
			})
			if !errors.Is(err, crash) {
				t.Fatalf("err = %v, want the crash", err)
			}
			w1.burst(20)
			c.startWriting(2, []*writer{w0, w1}, 5)
			c.converge(pods(3), []string{"T1"}, w0, w1)
		})
	}
}

// Several REPLICATIONS groups, one with a partition.
func TestSeveralGroupsWithPartitions(t *testing.T) {
	groups := []lifecycle.Group{
		{Prefix: "AKU_A", SyncParallel: 1, Items: []lifecycle.Item{{User: "SYS", Table: "T1"}}},
		{Prefix: "AKU_B", SyncParallel: 2, Items: []lifecycle.Item{{User: "SYS", Table: "T2"}, {User: "SYS", Table: "T3", Partition: "P1"}}},
	}
	c := newCluster(t, 3, groups)
	c.start(0)
	ws := []*writer{c.writer(0, "T1"), c.writer(0, "T2"), c.writer(0, "T3")}
	for _, w := range ws {
		w.burst(30)
	}
	c.startWriting(1, ws, 5)
	ws = append(ws, c.writer(1, "T3"))
	c.startWriting(2, ws, 5)
	c.converge(pods(3), []string{"T1", "T2", "T3"}, ws...)
}
