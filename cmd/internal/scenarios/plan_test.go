package scenarios_test

// aku plan through the real stack: it changes nothing, and it is what the
// run then does.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aku-k8s/aku/cmd/internal/altibaselc"
	"github.com/aku-k8s/aku/lifecycle"
)

// fullState is everything a run could change on pod i: its replication
// objects, ADMIN_MODE and REPLICATION_ALLOW_DUPLICATE_HOSTS, and the rows.
func (c *cluster) fullState(i int) string {
	c.t.Helper()
	conn := c.client(i)
	defer conn.Close()
	ctx := bounded(c.t)
	reps, err := conn.Replications(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	var lines []string
	for _, r := range reps {
		lines = append(lines, fmt.Sprintf("%s xsn=%d started=%v", r.Name, r.XSN, r.IsStarted))
	}
	sort.Strings(lines)
	for _, p := range []string{"ADMIN_MODE", "REPLICATION_ALLOW_DUPLICATE_HOSTS"} {
		v, err := conn.PropertyInt(ctx, p)
		if err != nil {
			c.t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("%s=%d", p, v))
	}
	conn.Close()
	rows := c.rows(i, "T1")
	lines = append(lines, fmt.Sprintf("T1: %d rows %v", len(rows), rows))
	return strings.Join(lines, "\n")
}

func (c *cluster) plan(k int, action lifecycle.Action) lifecycle.Plan {
	c.t.Helper()
	r := c.runner(k, nil)
	r.Dialer.(*altibaselc.Dialer).Read = true
	p, err := r.Plan(bounded(c.t), action)
	if err != nil {
		c.t.Fatalf("plan %s on pod-%d: %v", action, k, err)
	}
	return p
}

// Every plan for every pod leaves every server as it was, and needs no
// SYSDBA slot of a pod that admits ordinary sessions (a DBA holds those).
// Then the plan of pod-2's start says join, and the start does it: its
// events and its statements' steps are the plan's.
func TestPlanChangesNothingAndIsWhatRuns(t *testing.T) {
	c := newCluster(t, 4, oneGroup())
	upTo(c, 2)
	w0, w1 := c.writer(0, "T1"), c.writer(1, "T1")
	w0.burst(20)
	w1.burst(20)
	c.converge(pods(2), []string{"T1"}, w0, w1)
	before := make([]string, 4)
	for i := range before {
		before[i] = c.fullState(i)
	}
	dbas := []*session{c.open(0, true), c.open(1, true)}
	for k := range 4 {
		for _, action := range []lifecycle.Action{lifecycle.ActionStart, lifecycle.ActionEnd, lifecycle.ActionClean} {
			if p := c.plan(k, action); len(p.Steps) == 0 {
				t.Errorf("pod-%d %s: an empty plan", k, action)
			}
		}
	}
	for _, d := range dbas {
		d.Close()
	}
	for i := range before {
		if after := c.fullState(i); after != before[i] {
			t.Errorf("pod-%d changed by planning:\n--- before\n%s\n--- after\n%s", i, before[i], after)
		}
	}

	p := c.plan(2, lifecycle.ActionStart)
	if !slices.Contains(p.Names(), lifecycle.StepSynced) || p.Error != "" {
		t.Fatalf("pod-2's plan: %s", p.Text(nil))
	}
	var steps []string
	var events []string
	err := c.startErr(2, func(r *lifecycle.Runner) {
		r.Checkpoint = func(_ context.Context, s string) error { steps = append(steps, s); return nil }
		r.Event = func(_ context.Context, _ bool, reason, _ string) { events = append(events, reason) }
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(steps, p.Names()) {
		t.Errorf("steps run %q, plan %q", steps, p.Names())
	}
	var want []string
	for _, s := range p.Steps {
		if s.Before != nil {
			want = append(want, s.Before.Reason)
		}
		if s.After != nil {
			want = append(want, s.After.Reason)
		}
	}
	if events = slices.DeleteFunc(events, func(e string) bool { return e == lifecycle.EventStarting }); !slices.Equal(events, want) {
		t.Errorf("events %q, plan %q", events, want)
	}
	c.converge(pods(3), []string{"T1"}, w0, w1)
}
