package e2e_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// stepTimeout bounds one step's wait for its pods (a pod needs its boot
// delay, aku-start, and up to a startupProbe period of 10 s).
const stepTimeout = 5 * time.Minute

// TestRealNode runs the shipped manifests on a real kubelet (containerd,
// runc, CNI, CoreDNS): the hooks are run by the kubelet at its moments,
// the init container installs aku into an emptyDir, the startup probe gates
// readiness, peers are found through the API and reached by the headless
// Service's DNS names. A writer inserts through the pod IPs all along, and
// after every step all live pods must hold identical rows with no
// acknowledged row lost. The steps build on each other, so the first
// failure ends the test.
func TestRealNode(tt *testing.T) {
	c := startCluster(tt, "aku-e2e")
	var w *writer
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"scale 0 to 1 to 3 with writes", func(t *testing.T) {
			c.scale(1)
			c.waitPods(1, stepTimeout)
			w = startWriter(tt, c) // writes through every later step
			w.t = t
			waitAcked(t, w, 20)
			c.scale(3)
			pods := c.waitPods(3, stepTimeout)
			t.Logf("3 pods hold %d identical rows", w.check(pods, time.Minute))
			// The hooks' lines reach the container log through PID 1, and
			// their events the pod's description.
			logs := c.kubectl(time.Minute, "logs", sts+"-2", "-c", "altibase")
			for _, want := range []string{"Start as SLAVE Pod.", "Server is open to users"} {
				if !strings.Contains(logs, want) {
					t.Errorf("kubectl logs %s-2 lacks %q:\n%s", sts, want, tailLines(logs, 30))
				}
			}
			desc := c.kubectl(time.Minute, "describe", "pod", sts+"-2")
			for _, want := range []string{"AkuStarting", "AkuSyncing", "AkuStarted"} {
				if !strings.Contains(desc, want) {
					t.Errorf("kubectl describe pod %s-2 lacks the event %s:\n%s", sts, want, desc)
				}
			}
			// aku plan in the pod discovers as the hooks do (the API, the
			// pod's marker) and changes nothing.
			planEnd := c.kubectl(time.Minute, "exec", sts+"-2", "-c", "altibase", "--", "/aku/bin/aku", "plan", "end", "-o", "json")
			var plan struct {
				Action, Pod string
				Reasons     []string
				Steps       []struct{ Name string }
			}
			// (stderr, warnings only, shares kubectl's output)
			js := planEnd[max(strings.Index(planEnd, "{"), 0) : strings.LastIndex(planEnd, "}")+1]
			if err := json.Unmarshal([]byte(js), &plan); err != nil {
				t.Errorf("aku plan end -o json: %v\n%s", err, planEnd)
			} else if plan.Action != "end" || plan.Pod != sts+"-2" || len(plan.Steps) != 4 ||
				!strings.Contains(strings.Join(plan.Reasons, "\n"), "reset: no") {
				t.Errorf("aku plan end in %s-2: %+v, want its end keeping its state (a running pod of the StatefulSet)", sts, plan)
			}
			out, err := c.kubectlErr(time.Minute, "exec", sts+"-2", "-c", "altibase", "--", "/aku/bin/aku", "plan", "start")
			if err == nil || !strings.Contains(out, "already completed") {
				t.Errorf("aku plan start in a started pod: %v, want exit 1 naming the marker:\n%s", err, out)
			}
		}},
		{"rolling restart returns through the kept state", func(t *testing.T) {
			since := time.Now()
			c.kubectl(time.Minute, "rollout", "restart", "statefulset/"+sts)
			c.kubectl(stepTimeout+time.Minute, "rollout", "status", "statefulset/"+sts, "--timeout="+stepTimeout.String())
			pods := c.waitPods(3, stepTimeout)
			t.Logf("3 pods hold %d identical rows", w.check(pods, time.Minute))
			if e := c.events("AkuSyncing", "", since); len(e) > 0 {
				t.Errorf("a restarted pod was synced (truncated) instead of resuming: %s", e[0].InvolvedObject.Name)
			}
			if n := len(c.events("AkuStarted", "", since)); n < 3 {
				t.Errorf("%d AkuStarted events since the restart, want 3", n)
			}
			noHookFailures(t, c, since)
		}},
		{"force-deleted pod with fresh writes comes back with them", func(t *testing.T) {
			pods := c.waitPods(3, stepTimeout)
			w.burst(pods[2], 50)
			c.kubectl(time.Minute, "delete", "pod", sts+"-2", "--grace-period=0", "--force")
			pods = c.waitPods(3, stepTimeout)
			t.Logf("3 pods hold %d identical rows", w.check(pods, time.Minute))
		}},
		{"a postStart that fails restarts the container", func(t *testing.T) {
			since := time.Now()
			knob := filepath.Join(c.node.HostPath("data-1"), ".never-open")
			if err := os.WriteFile(knob, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			c.kubectl(time.Minute, "delete", "pod", sts+"-1")
			pods := c.waitPods(3, stepTimeout)
			if len(c.events("FailedPostStartHook", sts+"-1", since)) == 0 {
				t.Errorf("no FailedPostStartHook event for %s-1 although its server never opened", sts)
			}
			if restarts(pods[1]) == 0 {
				t.Errorf("%s-1 was not restarted after its failed postStart", sts)
			}
			t.Logf("3 pods hold %d identical rows", w.check(pods, time.Minute))
		}},
		{"scale 3 to 1 resets the leaving pods", func(t *testing.T) {
			since := time.Now()
			c.scale(1)
			pods := c.waitPods(1, stepTimeout)
			t.Logf("pod-0 holds %d rows", w.check(pods, time.Minute))
			for _, p := range []string{sts + "-1", sts + "-2"} {
				if len(c.events("AkuReset", p, since)) == 0 {
					t.Errorf("%s left without AkuReset", p)
				}
			}
			noHookFailures(t, c, since)
		}},
		{"parallel pods all deleted at once take turns", func(t *testing.T) {
			c.kubectl(stepTimeout, "delete", "statefulset", sts, "--wait=true")
			c.waitPods(0, stepTimeout)
			since := time.Now()
			c.apply("Parallel")
			c.scale(3)
			pods := c.waitPods(3, stepTimeout)
			t.Logf("3 parallel pods hold %d identical rows", w.check(pods, time.Minute))
			noHookFailures(t, c, since)
			since = time.Now()
			c.kubectl(stepTimeout, "delete", "pod", "-l", "app="+sts, "--wait=false")
			// Every hook at once waits for the others' SYSDBA slots, flushes
			// and connects toward addresses of pods that are going away:
			// minutes, within the hooks' default deadlines.
			pods = c.waitPods(3, 2*stepTimeout)
			t.Logf("after all were deleted at once, 3 pods hold %d identical rows", w.check(pods, time.Minute))
			noHookFailures(t, c, since)
		}},
	}
	for _, s := range steps {
		ok := tt.Run(s.name, func(t *testing.T) {
			// The helpers fail the step that uses them.
			c.t = t
			if w != nil {
				w.t = t
			}
			s.run(t)
		})
		c.t = tt
		if w != nil {
			w.t = tt
		}
		if !ok {
			tt.Fatalf("step %q failed; the later steps build on it", s.name)
		}
	}
}

// waitAcked waits until the writer has n acknowledged rows.
func waitAcked(t *testing.T, w *writer, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for w.acked() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the writer has %d acknowledged rows after a minute, want %d\n%s", w.acked(), n, w.c.diagnose())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func restarts(p corev1.Pod) int32 {
	var n int32
	for _, cs := range p.Status.ContainerStatuses {
		n += cs.RestartCount
	}
	return n
}

// noHookFailures fails if a hook failed or aku reported a failure since.
func noHookFailures(t *testing.T, c *cluster, since time.Time) {
	t.Helper()
	for _, reason := range []string{"FailedPreStopHook", "FailedPostStartHook", "AkuStartFailed", "AkuEndFailed"} {
		for _, e := range c.events(reason, "", since) {
			t.Errorf("%s on %s: %s", reason, e.InvolvedObject.Name, e.Message)
		}
	}
}
