package scenarios_test

// Restarts and resume: a pod that comes back (its marker gone, as a
// container restart does) after a clean end is truncated and synced; after
// a kill with unsent changes it resumes and keeps them; after a crash at any
// step of its join a re-run converges. A master whose objects were reset
// behind its back is detected; a marker that cannot be written is found
// before anything changes.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase/altibasetest"
	"github.com/aku-k8s/aku/lifecycle"
)

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

// A crash after any step of a join, then a re-run, converges with nothing
// lost, through the real stack.
func TestCrashAfterEachStepConverges(t *testing.T) {
	steps := []string{lifecycle.StepCreated, lifecycle.StepJoinStopped, lifecycle.StepPinned, lifecycle.StepDetached,
		lifecycle.StepTruncated, lifecycle.StepSynced, lifecycle.StepReattached, lifecycle.StepPeersStarted,
		lifecycle.StepStarted, lifecycle.StepOpened}
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

// A slave that crashed with unsent changes and was scaled away without its
// preStop, then scaled back with its volume, comes back after another pod's
// start reset the objects toward it (they kept logs for nobody). Its kept
// restart points are no longer enough: the peers' senders toward it lost
// theirs, so what they wrote meanwhile can only reach it by a sync. Its own
// unsent changes must reach the others first: nothing is lost either way,
// also where its senders do not start by themselves at boot
// (REPLICATION_SENDER_AUTO_START = 0).
func TestPodBackAfterPeersResetTowardItResyncs(t *testing.T) {
	for _, autoStart := range []int64{1, 0} {
		t.Run(fmt.Sprintf("REPLICATION_SENDER_AUTO_START=%d", autoStart), func(t *testing.T) {
			c := newCluster(t, 3, oneGroup())
			upTo(c, 3)
			w0, w1, w2 := c.writer(0, "T1"), c.writer(1, "T1"), c.writer(2, "T1")
			w0.burst(20)
			w2.burst(20)
			c.converge(pods(3), []string{"T1"}, w0, w2)
			n := c.servers[2].Node()
			n.StallSender("AKU_REP_02")
			n.StallSender("AKU_REP_12")
			w2.burst(40) // acknowledged on pod-2, not sent
			c.servers[2].Kill()

			// Scaled to 2 without pod-2's preStop; pod-1 restarts
			// meanwhile and resets the objects toward pod-2.
			c.gone = map[int]bool{2: true}
			c.end(1, false)
			c.markerGone(1)
			c.logs.reset()
			c.start(1)
			if !strings.Contains(c.logs.String(), "Reset replications toward pods that left without aku -p end.") {
				t.Fatalf("pod-1's start did not reset the objects toward the gone pod-2")
			}
			w0.burst(50)
			w1.burst(50)

			// Scaled back to 3: pod-2 returns with its volume.
			c.gone = nil
			c.servers[2].SetBootProperty("REPLICATION_SENDER_AUTO_START", autoStart)
			if err := c.servers[2].Restart(); err != nil {
				t.Fatal(err)
			}
			c.markerGone(2)
			c.start(2)
			c.finish(w0, w1, w2)
		})
	}
}

// A real server's sender that loses its peer sleeps
// REPLICATION_SENDER_SLEEP_TIMEOUT seconds (60 by default) before it tries
// again. A pod that comes back with its state -- after a crash, or after a
// restarting end, which stops no sender -- finds the peers' senders toward
// it started but asleep: its start must wake them (STOP, START RETRY)
// rather than wait out the sleep in a FLUSH. Here the sleep is an hour:
// waiting it out fails the start at its deadline.
func TestRestartWakesSleepingSenders(t *testing.T) {
	for _, graceful := range []bool{false, true} {
		name := "crash"
		if graceful {
			name = "restarting end"
		}
		t.Run(name, func(t *testing.T) {
			c := newClusterWith(t, 3, oneGroup(), altibasetest.Profile{SenderSleepsAfterLoss: true})
			upTo(c, 3)
			for i := 0; i < 3; i++ {
				p := c.client(i)
				must(t, p.SetProperty(bounded(t), "REPLICATION_SENDER_SLEEP_TIMEOUT", 3600))
				p.Close()
			}
			w0, w1, w2 := c.writer(0, "T1"), c.writer(1, "T1"), c.writer(2, "T1")
			w0.burst(20)
			w2.burst(20)
			c.converge(pods(3), []string{"T1"}, w0, w2)
			if graceful {
				c.end(2, false)
			}
			c.servers[2].Kill()
			w0.burst(30) // sent to pod-2 only once pod-0's sender wakes
			w1.burst(30)
			if err := c.servers[2].Restart(); err != nil {
				t.Fatal(err)
			}
			c.markerGone(2)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := c.runner(2, nil).Start(ctx); err != nil {
				t.Fatalf("start of the restarted pod-2: %v", err)
			}
			c.finish(w0, w1, w2)
		})
	}
}
