package lifecycle

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		a, b   int
		want   string
	}{
		{"AKU_REP", 0, 1, "AKU_REP_01"},
		{"AKU_REP", 3, 1, "AKU_REP_13"},
		{"R", 2, 5, "R_25"},
	} {
		if got := Name(tc.prefix, tc.a, tc.b); got != tc.want {
			t.Errorf("Name(%q, %d, %d) = %q, want %q", tc.prefix, tc.a, tc.b, got, tc.want)
		}
	}
}

func TestNameLongest(t *testing.T) {
	// The longest prefix aku.conf accepts (37 bytes) with two digits is
	// Altibase's longest name (40 bytes).
	if got := Name(strings.Repeat("P", 37), 5, 4); got != strings.Repeat("P", 37)+"_45" {
		t.Errorf("got %q", got)
	}
}

// The manual's table for AKU_SERVER_COUNT = 4 and prefix AKU_REP.
func TestObjectsManual(t *testing.T) {
	t.Parallel()
	groups := []Group{{Prefix: "AKU_REP"}}
	want := [][]string{
		{"AKU_REP_01", "AKU_REP_02", "AKU_REP_03"},
		{"AKU_REP_01", "AKU_REP_12", "AKU_REP_13"},
		{"AKU_REP_02", "AKU_REP_12", "AKU_REP_23"},
		{"AKU_REP_03", "AKU_REP_13", "AKU_REP_23"},
	}
	for pod := range want {
		var names []string
		for _, o := range Objects(groups, 4, pod) {
			names = append(names, o.Name)
			if o.Local != pod || o.Peer == pod || o.Name != Name("AKU_REP", o.Local, o.Peer) {
				t.Errorf("pod %d: inconsistent %+v", pod, o)
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
func TestObjectsAnyShape(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 10; n++ {
		for ng := 1; ng <= 3; ng++ {
			t.Run(fmt.Sprintf("servers=%d/groups=%d", n, ng), func(t *testing.T) {
				t.Parallel()
				var groups []Group
				for g := 0; g < ng; g++ {
					groups = append(groups, Group{Prefix: fmt.Sprintf("G%d", g)})
				}
				holders := map[string][]int{}
				for pod := 0; pod < n; pod++ {
					objs := Objects(groups, n, pod)
					if len(objs) != ng*(n-1) {
						t.Fatalf("pod %d holds %d objects, want %d", pod, len(objs), ng*(n-1))
					}
					for _, o := range objs {
						holders[o.Name] = append(holders[o.Name], pod)
						if groups[o.Group].Prefix != o.Prefix {
							t.Errorf("%+v: wrong group", o)
						}
					}
				}
				if len(holders) != ng*n*(n-1)/2 {
					t.Errorf("%d distinct names, want %d", len(holders), ng*n*(n-1)/2)
				}
				for name, pods := range holders {
					sort.Ints(pods)
					if len(pods) != 2 || Name(name[:2], pods[0], pods[1]) != name {
						t.Errorf("%s held by %v", name, pods)
					}
				}
			})
		}
	}
}

func TestObjectsOutOfRange(t *testing.T) {
	t.Parallel()
	groups := []Group{{Prefix: "A"}}
	for _, pos := range []int{-1, 4, 100} {
		if got := Objects(groups, 4, pos); got != nil {
			t.Errorf("position %d: %v", pos, got)
		}
	}
}

func TestHostName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		format string
		n      int
		want   string
	}{
		{DefaultHostFormat, 2, "sts-2.svc"},
		{"", 2, "sts-2.svc"},
		{"AKUHOST-{ordinal}.{svc}", 0, "AKUHOST-0.svc"},
		{"127.0.1.1{ordinal}", 3, "127.0.1.13"},
	} {
		if got := HostName(tc.format, "sts", "svc", tc.n); got != tc.want {
			t.Errorf("HostName(%q, %d) = %q, want %q", tc.format, tc.n, got, tc.want)
		}
	}
}
