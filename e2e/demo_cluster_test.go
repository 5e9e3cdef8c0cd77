package e2e_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDemoCluster is `make demo-cluster`: the shipped manifests on a real
// node, scaled 1 -> 3 -> 1 while an application writes, with the pods'
// progress, the hooks' logs, the events and each pod's replication state
// printed as they happen. It runs only with AKU_DEMO_CLUSTER=1.
func TestDemoCluster(t *testing.T) {
	if os.Getenv("AKU_DEMO_CLUSTER") != "1" {
		t.Skip("the demo runs with AKU_DEMO_CLUSTER=1 (make demo-cluster)")
	}
	say := func(format string, args ...any) {
		fmt.Printf("\n==> %s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	show := func(title, text string) {
		fmt.Printf("--- %s\n%s", title, text)
		if !strings.HasSuffix(text, "\n") {
			fmt.Println()
		}
	}
	say("starting etcd, kube-apiserver, the controller manager, containerd, the kubelet, the scheduler and CoreDNS")
	start := time.Now()
	c := startCluster(t, "aku-demo")
	say("node Ready and the shipped manifests applied in %s (StatefulSet at 0 replicas)", time.Since(start).Round(time.Second))
	c.quiet = true
	stopWatch := watchPods(c)
	defer stopWatch()

	say("scale to 1: pod-0 starts as the MASTER")
	c.scale(1)
	c.waitPods(1, stepTimeout)
	w := startWriter(t, c)
	waitAcked(t, w, 20)
	say("an application writes through the Ready pods' IPs (%d rows so far)", w.acked())

	say("scale to 3: each pod joins in turn (OrderedReady); pod-0 syncs the data over")
	c.scale(3)
	pods := c.waitPods(3, stepTimeout)
	say("3 pods hold %d identical rows, none lost", w.check(pods, time.Minute))
	show("the hooks' lines in `kubectl logs altibase-sts-2` (PID 1's output)", akuLines(c.kubectl(time.Minute, "logs", sts+"-2", "-c", "altibase")))
	show("events", c.kubectl(time.Minute, "get", "events", "--field-selector", "involvedObject.kind=Pod", "--sort-by=.lastTimestamp",
		"-o", "custom-columns=TIME:.lastTimestamp,POD:.involvedObject.name,REASON:.reason,MESSAGE:.message"))
	for _, p := range pods {
		show("kubectl exec "+p.Name+" -- aku status", c.kubectl(time.Minute, "exec", p.Name, "-c", "altibase", "--", "/aku/bin/aku", "status"))
	}

	say("scale to 1: the leaving pods flush and reset in their preStop hook")
	c.scale(1)
	pods = c.waitPods(1, stepTimeout)
	say("pod-0 holds %d rows, none lost", w.check(pods, time.Minute))
	show("kubectl exec altibase-sts-0 -- aku status", c.kubectl(time.Minute, "exec", sts+"-0", "-c", "altibase", "--", "/aku/bin/aku", "status"))
	show("events of the scale-down", c.kubectl(time.Minute, "get", "events", "--field-selector", "reason=AkuReset",
		"-o", "custom-columns=TIME:.lastTimestamp,POD:.involvedObject.name,REASON:.reason,MESSAGE:.message"))
	say("tearing the node down")
}

// akuLines keeps the log lines the hooks wrote ("[AKU]..." and "AKU ...").
func akuLines(logs string) string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "AKU") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

// watchPods prints the pods' states as they change, like kubectl get pods
// -w, until the returned function is called.
func watchPods(c *cluster) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		last := ""
		for {
			if _, state := c.pods(); state != last {
				fmt.Printf("    %s  pods: %s\n", time.Now().Format("15:04:05"), state)
				last = state
			}
			select {
			case <-done:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); <-stopped }
}
