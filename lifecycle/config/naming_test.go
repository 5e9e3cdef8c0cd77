package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aku-k8s/aku/lifecycle"
)

// The longest prefix with the highest pair of positions is Altibase's
// longest name.
func TestLongestReplicationName(t *testing.T) {
	t.Parallel()
	if n := len(lifecycle.Name(strings.Repeat("P", MaxPrefixLen), MaxServers-2, MaxServers-1)); n != MaxReplicationName {
		t.Errorf("longest name is %d bytes, want %d", n, MaxReplicationName)
	}
}

// The manual's table for AKU_SERVER_COUNT = 4 and prefix AKU_REP.
func TestPodReplicationsManual(t *testing.T) {
	t.Parallel()
	c := &Config{ServerCount: 4, Groups: []lifecycle.Group{{Prefix: "AKU_REP"}}}
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
			if r.Local != pod || r.Peer == pod || r.Name != lifecycle.Name("AKU_REP", r.Local, r.Peer) {
				t.Errorf("pod %d: inconsistent %+v", pod, r)
			}
		}
		if !reflect.DeepEqual(names, want[pod]) {
			t.Errorf("pod %d: %v, want %v", pod, names, want[pod])
		}
	}
	if got := c.PodReplications(4); got != nil {
		t.Errorf("position 4 of 4: %v", got)
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
