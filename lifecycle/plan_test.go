package lifecycle

import (
	"slices"
	"testing"
)

var g1 = Group{Prefix: "R"}

func TestPathFor(t *testing.T) {
	kept := States{"R_02": {Name: "R_02", XSN: 512}}
	peersKept := map[int]States{0: {"R_02": {XSN: 90}}, 1: {"R_01": {XSN: 70}, "R_12": {XSN: 60}}}
	for _, tc := range []struct {
		name  string
		self  States
		peers map[int]States
		want  Path
		cause JoinCause
	}{
		{"fresh pod, no object", States{}, peersKept, PathJoin, JoinCause{"R_02", 2, true}},
		{"created, never started", States{"R_02": {Name: "R_02", XSN: -1}}, peersKept, PathJoin, JoinCause{"R_02", 2, false}},
		{"reset at end", States{"R_02": {Name: "R_02", XSN: -1}, "R_12": {Name: "R_12", XSN: 77}}, peersKept, PathJoin, JoinCause{"R_02", 2, false}},
		{"kept state", kept, peersKept, PathResume, JoinCause{}},
		{"kept and running", States{"R_02": {Name: "R_02", XSN: 512, IsStarted: true}}, peersKept, PathResume, JoinCause{}},
		{"kept, no peer reachable", kept, nil, PathResume, JoinCause{}},
		{"kept, own entry among the peers", kept, map[int]States{2: kept, 0: {"R_02": {XSN: 90}}}, PathResume, JoinCause{}},
		// A start that found pod-2 gone reset the objects toward it.
		{"kept, pod-0 reset its end", kept, map[int]States{0: {"R_02": {XSN: -1}}, 1: peersKept[1]}, PathJoin, JoinCause{"R_02", 0, false}},
		{"kept, a member reset its end", kept, map[int]States{0: peersKept[0], 1: {"R_01": {XSN: 70}, "R_12": {XSN: -1}}}, PathJoin, JoinCause{"R_12", 1, false}},
		{"kept, a member has no object toward it", kept, map[int]States{0: peersKept[0], 1: {"R_01": {XSN: 70}}}, PathJoin, JoinCause{"R_12", 1, true}},
		// A peer still to join keeps nothing for anybody: its own join
		// brings it the rows.
		{"kept, a peer that is no member", kept, map[int]States{0: peersKept[0], 1: {"R_01": {XSN: -1}, "R_12": {XSN: -1}}}, PathResume, JoinCause{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, cause := PathFor(tc.self, tc.peers, g1, 2)
			if got != tc.want || cause != tc.cause {
				t.Errorf("PathFor = %v, %+v; want %v, %+v", got, cause, tc.want, tc.cause)
			}
		})
	}
}

func TestMasterKeepsState(t *testing.T) {
	for _, tc := range []struct {
		name   string
		master States
		want   bool
	}{
		{"keeps a point toward another slave", States{"R_01": {XSN: 90}, "R_02": {XSN: -1}}, true},
		{"only its end toward k, reset", States{"R_01": {XSN: -1}, "R_02": {XSN: -1}, "R_03": {XSN: -1}}, false},
		{"its end toward k kept does not count", States{"R_02": {XSN: 80}, "R_01": {XSN: -1}}, false},
		{"no objects (a new database)", States{}, false},
		{"another group's point does not count", States{"R_X_01": {XSN: 90}, "R_01": {XSN: -1}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MasterKeepsState(tc.master, g1, 2, 4); got != tc.want {
				t.Errorf("MasterKeepsState = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestIsMember(t *testing.T) {
	for _, tc := range []struct {
		name   string
		peer   States
		j, k   int
		member bool
	}{
		{"master with object toward k", States{"R_02": {XSN: -1}}, 0, 2, true},
		{"master without object", States{}, 0, 2, false},
		{"slave joined", States{"R_01": {XSN: 10}}, 1, 2, true},
		{"slave reset or never joined", States{"R_01": {XSN: -1}}, 1, 2, false},
		{"slave without objects", States{}, 1, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsMember(tc.peer, g1, tc.j, tc.k); got != tc.member {
				t.Errorf("IsMember = %v, want %v", got, tc.member)
			}
		})
	}
}

func TestMasterFailures(t *testing.T) {
	groups := []Group{{Prefix: "A"}, {Prefix: "B"}}
	for _, tc := range []struct {
		name   string
		master States
		peers  map[int]States
		want   []string
	}{
		{"first start, no peers", States{}, nil, nil},
		{"peers reset", States{"A_01": {XSN: -1}}, map[int]States{1: {"A_01": {XSN: -1}}}, nil},
		{"both kept", States{"A_01": {XSN: 5}, "B_01": {XSN: 5}}, map[int]States{1: {"A_01": {XSN: 9}, "B_01": {XSN: 9}}}, nil},
		{"master lost one", States{"A_01": {XSN: -1}, "B_01": {XSN: 5}}, map[int]States{1: {"A_01": {XSN: 9}, "B_01": {XSN: 9}}}, []string{"A_01"}},
		{"master object dropped", States{}, map[int]States{2: {"A_02": {XSN: 9}}}, []string{"A_02"}},
		{"slave never joined", States{}, map[int]States{3: {}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MasterFailures(tc.master, tc.peers, groups)
			if !slices.Equal(got, tc.want) {
				t.Errorf("MasterFailures = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestShouldReset(t *testing.T) {
	for _, tc := range []struct {
		p       ResetPolicy
		ordinal int
		why     Intent
		want    bool
	}{
		{ResetAlways, 0, IntentScaleDown, false}, // the master never resets
		{ResetAlways, 2, IntentUnknown, true},
		{ResetAlways, 2, IntentRestart, true},
		{ResetNever, 2, IntentScaleDown, false},
		{ResetAuto, 2, IntentScaleDown, true},
		{ResetAuto, 2, IntentDelete, true},
		{ResetAuto, 2, IntentRestart, false},
		{ResetAuto, 2, IntentUnknown, false}, // API unreachable: flush only
	} {
		if got := ShouldReset(tc.p, tc.ordinal, tc.why); got != tc.want {
			t.Errorf("ShouldReset(%v, %d, %v) = %v, want %v", tc.p, tc.ordinal, tc.why, got, tc.want)
		}
	}
}

func TestPeerFlush(t *testing.T) {
	if m := PeerFlush(0); !m.All || m.Wait != 0 {
		t.Errorf("PeerFlush(0) = %+v, want FLUSH ALL", m)
	}
	if m := PeerFlush(300e9); m.All || m.Wait != 300e9 {
		t.Errorf("PeerFlush(300s) = %+v, want FLUSH WAIT 300", m)
	}
}
