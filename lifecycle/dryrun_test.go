package lifecycle

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// fakeStatements is an op as the fake server traces it.
func fakeStatements(o Op) []string {
	switch o.Kind {
	case OpCreate:
		return []string{"CREATE " + o.Replication}
	case OpStart, OpStop, OpReset, OpDrop:
		return []string{strings.ToUpper(o.Kind.String()) + " " + o.Replication}
	case OpFlush, OpFlushTowardMaster:
		mode := o.Flush
		kw := "FLUSH"
		if mode.All {
			kw += " ALL"
		}
		if mode.Wait > 0 {
			kw += fmt.Sprintf(" WAIT %d", int(mode.Wait.Seconds()))
		}
		return []string{kw + " " + o.Replication}
	case OpTruncate:
		var names []string
		for _, it := range o.Items {
			names = append(names, it.User+"."+it.Table)
		}
		return []string{"TRUNCATE " + strings.Join(names, ",")}
	case OpSync:
		return []string{fmt.Sprintf("SYNC %s PARALLEL %d", o.Replication, o.Parallel)}
	case OpOpen:
		return []string{"ADMIN_MODE false"}
	case OpSetProperty:
		return []string{fmt.Sprintf("SET %s = %d", o.Property, o.Value)}
	}
	return nil
}

// planned lists the plan's statements on one pod, in order.
func planned(p Plan, pod int) []string {
	var out []string
	for _, s := range p.Steps {
		for _, w := range s.Work {
			if w.Position != pod {
				continue
			}
			for _, o := range w.Ops {
				out = append(out, fakeStatements(o)...)
			}
		}
	}
	return out
}

// The plan is what runs: Runner.Plan changes nothing, and the run that
// follows issues exactly the plan's statements on every server, in order.
func TestPlanIsWhatRuns(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, c *fakeCluster) // the mesh before
		self   int
		action Action
		opts   func(o *Options)
	}{
		{"master fresh", func(t *testing.T, c *fakeCluster) { c.down[1], c.down[2], c.down[3] = true, true, true }, 0, ActionStart, nil},
		{"join of pod-2", func(t *testing.T, c *fakeCluster) { c.down[3] = true; upTo(t, c, 2) }, 2, ActionStart, nil},
		{"resume of pod-2", func(t *testing.T, c *fakeCluster) {
			c.down[3] = true
			upTo(t, c, 3)
			o := testOptions(t)
			o.ResetAtEnd = ResetNever
			if err := runner(c, 2, o).End(context.Background()); err != nil {
				t.Fatal(err)
			}
		}, 2, ActionStart, nil},
		{"two groups", func(t *testing.T, c *fakeCluster) {
			c.down[2], c.down[3] = true, true
			if err := runner(c, 0, twoGroups(testOptions(t))).Start(context.Background()); err != nil {
				t.Fatal(err)
			}
		}, 1, ActionStart, func(o *Options) { *o = twoGroups(*o) }},
		{"end with reset", func(t *testing.T, c *fakeCluster) { upTo(t, c, 4) }, 3, ActionEnd, nil},
		{"end of a restarting pod", func(t *testing.T, c *fakeCluster) { upTo(t, c, 4) }, 2, ActionEnd,
			func(o *Options) { o.ResetAtEnd = ResetNever }},
		{"clean", func(t *testing.T, c *fakeCluster) { upTo(t, c, 4) }, 1, ActionClean, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeCluster(4)
			opts := testOptions(t)
			if tc.opts != nil {
				tc.opts(&opts)
			}
			tc.setup(t, c)
			c.trace = nil
			r := runner(c, tc.self, opts)
			p, err := r.Plan(context.Background(), tc.action)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.trace) != 0 {
				t.Fatalf("planning ran statements: %q", c.trace)
			}
			switch tc.action {
			case ActionStart:
				err = r.Start(context.Background())
			case ActionEnd:
				err = r.End(context.Background())
			case ActionClean:
				err = r.Clean(context.Background())
			}
			if err != nil {
				t.Fatal(err)
			}
			for pod := range 4 {
				if got, want := c.traceOf(pod), planned(p, pod); !slices.Equal(got, want) {
					t.Errorf("pod%d ran %q\nplan said %q", pod, got, want)
				}
			}
		})
	}
}

func twoGroups(o Options) Options {
	o.Groups = append(slices.Clone(o.Groups), Group{Prefix: "S", Items: []Item{{User: "SYS", Table: "T2"}}})
	return o
}
