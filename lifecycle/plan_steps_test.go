package lifecycle

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden plans in testdata/plans")

// objects builds one server's states from "NAME=STATE" words: STATE is
// started:XSN, kept:XSN (stopped with a restart point) or reset.
func objects(t *testing.T, words ...string) States {
	t.Helper()
	s := States{}
	for _, w := range words {
		name, state, _ := strings.Cut(w, "=")
		kind, xsn, _ := strings.Cut(state, ":")
		st := RepState{Name: name, XSN: -1}
		switch kind {
		case "started", "kept":
			n, err := strconv.ParseInt(xsn, 10, 64)
			if err != nil {
				t.Fatalf("bad state %q", w)
			}
			st.XSN, st.IsStarted = n, kind == "started"
		case "reset":
		default:
			t.Fatalf("bad state %q", w)
		}
		s[name] = st
	}
	return s
}

func members4(gone ...int) []Member {
	var out []Member
	for j := 0; j < 4; j++ {
		m := Member{Position: j, Name: "altibase-" + strconv.Itoa(j), Host: "altibase-" + strconv.Itoa(j) + ".svc"}
		m.Gone = slices.Contains(gone, j)
		out = append(out, m)
	}
	return out
}

func planOptions(groups ...Group) Options {
	if len(groups) == 0 {
		groups = []Group{{Prefix: "R", SyncParallel: 2, Items: []Item{{User: "SYS", Table: "T1"}}}}
	}
	return Options{ServerCount: 4, ReplicationPort: 20301, Groups: groups, FlushAtStart: true,
		FlushAtEnd: true, ResetAtEnd: ResetAuto, MarkerFile: "/home/altibase/aku_start_completed"}
}

// Plans for representative meshes, without any server: the steps in order,
// every server's statements, the reasons. Regenerate with -update after a
// deliberate change and read the diff.
func TestPlansGolden(t *testing.T) {
	two := planOptions(
		Group{Prefix: "A", SyncParallel: 1, Items: []Item{{User: "SYS", Table: "T1"}}},
		Group{Prefix: "B", SyncParallel: 1, Items: []Item{{User: "SYS", Table: "T2", Partition: "P1"}}})
	for _, tc := range []struct {
		name string
		plan func(t *testing.T) Plan
	}{
		{"start-master-fresh", func(t *testing.T) Plan {
			return PlanStart(planOptions(), Snapshot{Self: 0, Members: members4(), States: map[int]States{0: {}}})
		}},
		{"start-master-restart", func(t *testing.T) Plan {
			return PlanStart(planOptions(), Snapshot{Self: 0, Members: members4(), States: map[int]States{
				0: objects(t, "R_01=kept:90", "R_02=kept:80", "R_03=reset"),
				1: objects(t, "R_01=started:70", "R_12=started:60", "R_13=reset"),
				2: objects(t, "R_02=started:50", "R_12=started:40", "R_23=reset"),
			}})
		}},
		{"start-master-failed", func(t *testing.T) Plan {
			return PlanStart(planOptions(), Snapshot{Self: 0, Members: members4(), States: map[int]States{
				0: {},
				1: objects(t, "R_01=started:70"),
			}})
		}},
		{"start-slave-join", func(t *testing.T) Plan {
			return PlanStart(planOptions(), Snapshot{Self: 2, Members: members4(), States: map[int]States{
				0: objects(t, "R_01=started:90", "R_02=reset", "R_03=reset"),
				1: objects(t, "R_01=started:70", "R_12=reset", "R_13=reset"),
				2: {},
			}})
		}},
		{"start-slave-join-master-absent", func(t *testing.T) Plan {
			return PlanStart(planOptions(), Snapshot{Self: 2, Members: members4(), States: map[int]States{2: {}}})
		}},
		{"start-slave-resume", func(t *testing.T) Plan {
			return PlanStart(planOptions(), Snapshot{Self: 2, Members: members4(), States: map[int]States{
				0: objects(t, "R_01=started:90", "R_02=kept:80", "R_03=reset"),
				1: objects(t, "R_01=started:70", "R_12=kept:60", "R_13=reset"),
				2: objects(t, "R_02=started:50", "R_12=started:40", "R_23=reset"),
			}})
		}},
		{"start-slave-join-after-forced-delete", func(t *testing.T) Plan {
			return PlanStart(planOptions(), Snapshot{Self: 2, Members: members4(3), States: map[int]States{
				0: objects(t, "R_01=started:90", "R_02=reset", "R_03=started:30"),
				1: objects(t, "R_01=started:70", "R_12=reset", "R_13=started:20"),
				2: {},
			}})
		}},
		// pod-2 crashed and left the StatefulSet without its preStop; a
		// start found it gone and reset the objects toward it; now it is
		// back with its volume: it keeps restart points, the others do not.
		{"start-slave-back-after-peers-reset", func(t *testing.T) Plan {
			return PlanStart(planOptions(), Snapshot{Self: 2, Members: members4(), States: map[int]States{
				0: objects(t, "R_01=started:90", "R_02=reset", "R_03=reset"),
				1: objects(t, "R_01=started:70", "R_12=reset", "R_13=reset"),
				2: objects(t, "R_02=started:50", "R_12=started:40", "R_23=reset"),
			}})
		}},
		// The same, but pod-0 keeps no restart point toward anybody: it
		// may have lost its state, and a sync from it could wipe pod-2.
		{"start-slave-master-end-lost", func(t *testing.T) Plan {
			return PlanStart(planOptions(), Snapshot{Self: 2, Members: members4(), States: map[int]States{
				0: objects(t, "R_01=reset", "R_02=reset", "R_03=reset"),
				2: objects(t, "R_02=started:50", "R_12=started:40", "R_23=reset"),
			}})
		}},
		{"start-slave-two-groups", func(t *testing.T) Plan {
			return PlanStart(two, Snapshot{Self: 1, Members: members4(), States: map[int]States{
				0: objects(t, "A_01=reset", "B_01=reset"),
				1: {},
			}})
		}},
		{"start-marker-present", func(t *testing.T) Plan {
			return PlanStart(planOptions(), Snapshot{Self: 1, Members: members4(), States: map[int]States{1: {}}, MarkerDone: true})
		}},
		{"end-restart", func(t *testing.T) Plan {
			return PlanEnd(planOptions(), Snapshot{Self: 2, Members: members4(), Intent: IntentRestart, IntentReason: "rollout",
				States: map[int]States{
					0: objects(t, "R_01=started:90", "R_02=started:80"),
					1: objects(t, "R_01=started:70", "R_12=started:60"),
					2: objects(t, "R_02=started:50", "R_12=started:40", "R_23=reset"),
				}}, true)
		}},
		{"end-scale-down", func(t *testing.T) Plan {
			return PlanEnd(planOptions(), Snapshot{Self: 2, Members: members4(), Intent: IntentScaleDown,
				States: map[int]States{
					0: objects(t, "R_01=started:90", "R_02=started:80"),
					1: objects(t, "R_01=started:70", "R_12=started:60"),
					2: objects(t, "R_02=started:50", "R_12=started:40", "R_23=reset"),
				}}, true)
		}},
		{"clean", func(t *testing.T) Plan {
			return PlanClean(planOptions(), Snapshot{Self: 1, Members: members4(), States: map[int]States{
				0: objects(t, "R_01=started:90"),
				1: objects(t, "R_01=started:70", "R_12=kept:60", "R_13=reset"),
			}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.plan(t).Text(nil)
			path := filepath.Join("testdata", "plans", tc.name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestPlansGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("plan differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}

// The steps of each kind of run, in order: the README's lists and the
// checkpoint names are this list.
func TestPlanStepOrder(t *testing.T) {
	start := []string{StepDuplicateHosts, StepCreated, StepResetGone}
	tail := []string{StepStarted, StepVerified, StepOpened, StepMarked}
	join := []string{StepRescued, StepJoinStopped, StepPinned, StepDetached, StepTruncated, StepSynced, StepReattached, StepPeersStarted, StepJoined}
	pairs := []string{StepPairsStarted, StepFlushed}
	cat := func(parts ...[]string) []string { return slices.Concat(parts...) }
	joinSnap := Snapshot{Self: 1, Members: members4(), States: map[int]States{0: {"R_01": {XSN: -1}}, 1: {}}}
	resumeSnap := Snapshot{Self: 1, Members: members4(), States: map[int]States{0: {"R_01": {XSN: 5}}, 1: {"R_01": {XSN: 6}}}}
	delayed := planOptions()
	delayed.DelayStartComplete = time.Second
	endSnap := Snapshot{Self: 1, Members: members4(), States: map[int]States{1: {}}}
	for _, tc := range []struct {
		name string
		plan Plan
		want []string
	}{
		{"master", PlanStart(planOptions(), Snapshot{Self: 0, Members: members4(), States: map[int]States{0: {}}}), cat(start, pairs, tail)},
		{"join", PlanStart(planOptions(), joinSnap), cat(start, join, tail)},
		{"resume", PlanStart(planOptions(), resumeSnap), cat(start, pairs, tail)},
		{"join, delayed open", PlanStart(delayed, joinSnap),
			cat(start, join, []string{StepStarted, StepVerified, StepDelayed, StepOpened, StepMarked})},
		{"end", PlanEnd(planOptions(), endSnap, true), []string{StepEndFlushed, StepStopped, StepReset, StepUnmarked}},
		{"end after a slow flush", PlanEnd(planOptions(), endSnap, false), []string{StepStopped, StepReset, StepUnmarked}},
		{"clean", PlanClean(planOptions(), endSnap), []string{StepDropped, StepUnmarked}},
	} {
		if got := tc.plan.Names(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: steps %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Planning never changes the snapshot it was given: the planner's
// simulated effects work on a copy of every server's states.
func TestPlanningLeavesTheSnapshot(t *testing.T) {
	read := func(fresh bool) map[int]States {
		self := objects(t, "R_02=started:50", "R_12=started:40", "R_23=reset")
		if fresh {
			self = States{} // a join: creates here, stops and resets on the peers
		}
		return map[int]States{
			0: objects(t, "R_01=started:90", "R_02=started:80", "R_03=started:30"),
			1: objects(t, "R_01=started:70", "R_12=started:60", "R_13=kept:20"),
			2: self,
		}
	}
	for _, tc := range []struct {
		name  string
		fresh bool
		plan  func(s Snapshot)
	}{
		{"end", false, func(s Snapshot) { PlanEnd(planOptions(), s, true) }},
		{"resume", false, func(s Snapshot) { PlanStart(planOptions(), s) }},
		{"join", true, func(s Snapshot) { PlanStart(planOptions(), s) }},
		{"clean", false, func(s Snapshot) { PlanClean(planOptions(), s) }},
	} {
		s := Snapshot{Self: 2, Members: members4(3), States: read(tc.fresh), Intent: IntentScaleDown}
		tc.plan(s)
		if want := read(tc.fresh); !reflect.DeepEqual(s.States, want) {
			t.Errorf("%s: states after planning:\n%v\nwant\n%v", tc.name, s.States, want)
		}
	}
}
