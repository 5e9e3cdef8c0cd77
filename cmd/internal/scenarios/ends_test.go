package scenarios_test

// Ends and scale-down: aku-end with reset on and off, what the remaining
// pods hold afterwards, and how a pod that comes back rejoins (resumes or is
// synced again); aku clean drops the pod's objects and stops the peers'.

import (
	"errors"
	"strings"
	"testing"

	"github.com/aku-k8s/aku/lifecycle"
)

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
			c.leave(3, reset)
			c.leave(2, reset)
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

// The StatefulSet deleted (every pod's end sees the deletion and resets)
// and created again on the same volumes: pod-0 must start, not see a
// master failure in slaves that kept restart points toward it, and the
// slaves join again. (A leaving end that reset only the peers' ends left
// exactly that: pod-0 refused, the slaves waited for it.)
func TestStatefulSetDeletedAndRecreated(t *testing.T) {
	c := newCluster(t, 3, oneGroup())
	upTo(c, 3)
	ws := []*writer{c.writer(0, "T1"), c.writer(1, "T1"), c.writer(2, "T1")}
	for _, w := range ws {
		w.burst(30)
	}
	c.converge(pods(3), []string{"T1"}, ws...)
	for _, i := range []int{2, 1, 0} {
		c.endFor(i, true, lifecycle.IntentDelete)
		c.servers[i].Close()
	}
	for i := range 3 {
		if err := c.servers[i].Restart(); err != nil {
			t.Fatal(err)
		}
		c.markerGone(i)
	}
	upTo(c, 3)
	c.finish(ws...)
}
