package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestReplicationName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefix string
		i, j   int
		want   string
	}{
		{"AKU_REP", 0, 1, "AKU_REP_01"},
		{"AKU_REP", 1, 0, "AKU_REP_01"},
		{"AKU_REP", 2, 3, "AKU_REP_23"},
		{"AKU_REP", 5, 4, "AKU_REP_45"},
		{strings.Repeat("P", 37), 4, 5, strings.Repeat("P", 37) + "_45"},
	}
	for _, tt := range tests {
		if got := ReplicationName(tt.prefix, tt.i, tt.j); got != tt.want {
			t.Errorf("ReplicationName(%q, %d, %d) = %q, want %q", tt.prefix, tt.i, tt.j, got, tt.want)
		}
	}
	if n := len(ReplicationName(strings.Repeat("P", MaxPrefixLen), MaxServers-2, MaxServers-1)); n != MaxReplicationName {
		t.Errorf("longest name is %d bytes, want %d", n, MaxReplicationName)
	}
}

// The manual's table for AKU_SERVER_COUNT = 4 and prefix AKU_REP.
func TestPodReplicationsManual(t *testing.T) {
	t.Parallel()
	c := &Config{ServerCount: 4, Groups: []Group{{Prefix: "AKU_REP"}}}
	want := [][]string{
		{"AKU_REP_01", "AKU_REP_02", "AKU_REP_03"},
		{"AKU_REP_01", "AKU_REP_12", "AKU_REP_13"},
		{"AKU_REP_02", "AKU_REP_12", "AKU_REP_23"},
		{"AKU_REP_03", "AKU_REP_13", "AKU_REP_23"},
	}
	for pod, reps := range c.AllReplications() {
		var names []string
		for _, r := range reps {
			names = append(names, r.Name)
			if r.Local != pod || r.Peer == pod || r.Name != ReplicationName("AKU_REP", r.Local, r.Peer) {
				t.Errorf("pod %d: inconsistent %+v", pod, r)
			}
		}
		if !reflect.DeepEqual(names, want[pod]) {
			t.Errorf("pod %d: %v, want %v", pod, names, want[pod])
		}
	}
}

// For any server count and any number of groups, each pod holds
// groups*(n-1) objects, and each object name is held by exactly its two
// pods.
func TestReplicationsForAnyShape(t *testing.T) {
	t.Parallel()
	for n := 1; n <= MaxServers; n++ {
		for ng := 1; ng <= 3; ng++ {
			t.Run(fmt.Sprintf("servers=%d/groups=%d", n, ng), func(t *testing.T) {
				t.Parallel()
				var groups []Group
				for g := 0; g < ng; g++ {
					groups = append(groups, Group{Prefix: fmt.Sprintf("G%d", g)})
				}
				holders := map[string][]int{}
				for pod := 0; pod < n; pod++ {
					reps := ReplicationsFor(groups, n, pod)
					if len(reps) != ng*(n-1) {
						t.Fatalf("pod %d holds %d objects, want %d", pod, len(reps), ng*(n-1))
					}
					for _, r := range reps {
						holders[r.Name] = append(holders[r.Name], pod)
						if groups[r.Group].Prefix != r.Prefix {
							t.Errorf("%+v: wrong group", r)
						}
					}
				}
				if len(holders) != ng*n*(n-1)/2 {
					t.Errorf("%d distinct names, want %d", len(holders), ng*n*(n-1)/2)
				}
				for name, pods := range holders {
					sort.Ints(pods)
					if len(pods) != 2 || ReplicationName(name[:2], pods[0], pods[1]) != name {
						t.Errorf("%s held by %v", name, pods)
					}
				}
			})
		}
	}
}

func TestReplicationsForOutOfRange(t *testing.T) {
	t.Parallel()
	groups := []Group{{Prefix: "A"}}
	for _, ord := range []int{-1, 4, 100} {
		if got := ReplicationsFor(groups, 4, ord); got != nil {
			t.Errorf("ordinal %d: %v", ord, got)
		}
	}
}

func TestHost(t *testing.T) {
	t.Parallel()
	c := &Config{STSName: "altibase-sts", SVCName: "altibase-svc", HostFormat: defaultHostFormat}
	if got := c.Host(2); got != "altibase-sts-2.altibase-svc" {
		t.Errorf("Host(2) = %q", got)
	}
	c.HostFormat = "AKUHOST-{ordinal}.{svc}"
	if got := c.Host(0); got != "AKUHOST-0.altibase-svc" {
		t.Errorf("Host(0) = %q", got)
	}
}
