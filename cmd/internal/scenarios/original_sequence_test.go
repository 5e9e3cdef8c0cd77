package scenarios_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/cmd/internal/original"
)

// originalPods are the cluster's pods as the original's reference driver
// addresses them: by endpoint, like real servers.
func (c *cluster) originalPods() []original.Pod {
	pods := make([]original.Pod, c.n)
	for i := range pods {
		pods[i] = original.Pod{Name: fmt.Sprintf("altibase-sts-%d", i),
			SQL: altibase.Endpoint{Host: c.host(i), Port: c.port}, Host: c.host(i)}
	}
	return pods
}

// originalConfig is the manual's default aku.conf for the cluster (flush at
// start and end, FLUSH ALL on peers, reset at end), with the client options
// aku's runner uses.
func (c *cluster) originalConfig() original.Config {
	cfg := original.Config{
		Client: altibase.Options{
			Dialect: altibase.DialectSimulator, Password: "manager",
			LoginTimeout: 5 * time.Second, QueryTimeout: 60 * time.Second,
			RetryCount: max(c.retries, 2), RetryDelay: 50 * time.Millisecond,
		},
		ReplicationPort: c.replPort, FlushAtStart: true, FlushAtEnd: true, ResetAtEnd: true,
	}
	for _, g := range c.groups {
		og := original.Group{Prefix: g.Prefix, SyncParallel: g.SyncParallel}
		for _, it := range g.Items {
			og.Items = append(og.Items, altibase.Item{User: it.User, Table: it.Table, Partition: it.Partition})
		}
		cfg.Groups = append(cfg.Groups, og)
	}
	return cfg
}

// statementLog collects what the reference driver issued.
type statementLog struct {
	mu    sync.Mutex
	stmts []original.Statement
	steps []string
}

func (l *statementLog) observe(s original.Statement) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stmts = append(l.stmts, s)
}

func (l *statementLog) checkpoint(_ context.Context, step string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.steps = append(l.steps, step)
	return nil
}

// attach makes cfg report to a fresh log.
func (l *statementLog) attach(cfg original.Config) original.Config {
	l.mu.Lock()
	l.stmts, l.steps = nil, nil
	l.mu.Unlock()
	cfg.Observe, cfg.Checkpoint = l.observe, l.checkpoint
	return cfg
}

// perPod lists, per pod, "KIND NAME" in the order issued; connects and
// catalog reads are left out.
func (l *statementLog) perPod() map[int][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	stmts := slices.Clone(l.stmts)
	slices.SortStableFunc(stmts, func(a, b original.Statement) int { return a.Begin.Compare(b.Begin) })
	out := map[int][]string{}
	for _, s := range stmts {
		if s.Kind == original.KindConnect || s.Kind == original.KindRead {
			continue
		}
		out[s.Pod] = append(out[s.Pod], strings.TrimSpace(string(s.Kind)+" "+s.Replication))
	}
	return out
}

// all lists "pod-N KIND NAME" in the order issued (Sequential runs).
func (l *statementLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.stmts {
		if s.Kind == original.KindConnect || s.Kind == original.KindRead {
			continue
		}
		out = append(out, strings.TrimSpace(fmt.Sprintf("pod-%d %s %s", s.Pod, s.Kind, s.Replication)))
	}
	return out
}

func wantPerPod(t *testing.T, what string, got, want map[int][]string) {
	t.Helper()
	for pod := range 8 {
		if !slices.Equal(got[pod], want[pod]) {
			t.Errorf("%s: pod-%d issued %q, want %q (the manual's order)", what, pod, got[pod], want[pod])
		}
	}
}

// The reference driver issues the manual's statements in the manual's
// order: master start, a slave's first start (create, truncate, SYNC on
// pod-0, START both directions, ADMIN_MODE = 0), end with reset (FLUSH ALL,
// STOP on every related pod, RESET), a slave's restart with kept state
// (START both directions, FLUSH ALL here and on the peers, ADMIN_MODE = 0).
// Fast profile, no timing asserted.
func TestOriginalSequence(t *testing.T) {
	c := newCluster(t, 3, oneGroup())
	pp := c.originalPods()
	var l statementLog
	ctx := bounded(t)
	cfg := l.attach(c.originalConfig())

	must(t, original.Start(ctx, pp, 0, cfg))
	wantPerPod(t, "master start", l.perPod(), map[int][]string{0: {"CREATE AKU_REP_01", "CREATE AKU_REP_02"}})

	// The manual opens slaves only; a master left at ADMIN_MODE = 1 admits
	// no application (README), so the test opens it.
	p0 := c.client(0)
	must(t, p0.SetAdminMode(ctx, 0))
	p0.Close()
	w0 := c.writer(0, "T1")
	w0.burst(30)
	cfg = l.attach(cfg)
	must(t, original.Start(ctx, pp, 1, cfg))
	wantPerPod(t, "first start of pod-1", l.perPod(), map[int][]string{
		0: {"SYNC AKU_REP_01", "START AKU_REP_01"}, // already started by SYNC: taken as success
		1: {"CREATE AKU_REP_01", "CREATE AKU_REP_12", "TRUNCATE", "START AKU_REP_01", "ADMIN_MODE"},
	})
	if want := []string{original.StepConnected, original.StepCreated, original.StepTruncated,
		original.StepSynced, original.StepStarted, original.StepOpened}; !slices.Equal(l.steps, want) {
		t.Errorf("steps %q, want %q", l.steps, want)
	}
	c.converge(pods(2), []string{"T1"}, w0)

	// Sequential: one statement at a time, this pod's STARTs before the
	// peers'.
	seq := cfg
	seq.Sequential = true
	seq = l.attach(seq)
	must(t, original.Start(ctx, pp, 2, seq))
	want := []string{
		"pod-2 CREATE AKU_REP_02", "pod-2 CREATE AKU_REP_12", "pod-2 TRUNCATE", "pod-0 SYNC AKU_REP_02",
		"pod-2 START AKU_REP_02", "pod-2 START AKU_REP_12", "pod-0 START AKU_REP_02", "pod-1 START AKU_REP_12",
		"pod-2 ADMIN_MODE",
	}
	if got := l.all(); !slices.Equal(got, want) {
		t.Errorf("sequential first start of pod-2:\n got %q\nwant %q", got, want)
	}
	w0.burst(30)
	c.converge(pods(3), []string{"T1"}, w0)
	c.meshStarted(pods(3))

	// End of pod-2, leaving: FLUSH ALL, STOP on every related pod, then RESET.
	cfg = l.attach(cfg)
	must(t, original.End(ctx, pp, 2, cfg))
	wantPerPod(t, "end of pod-2", l.perPod(), map[int][]string{
		0: {"STOP AKU_REP_02", "RESET AKU_REP_02"},
		1: {"STOP AKU_REP_12", "RESET AKU_REP_12"},
		2: {"FLUSH AKU_REP_02", "FLUSH AKU_REP_12", "STOP AKU_REP_02", "STOP AKU_REP_12", "RESET AKU_REP_02", "RESET AKU_REP_12"},
	})
	var lastStop, firstReset time.Time
	for _, s := range l.stmts {
		switch s.Kind {
		case original.KindStop:
			if s.End.After(lastStop) {
				lastStop = s.End
			}
		case original.KindReset:
			if firstReset.IsZero() || s.Begin.Before(firstReset) {
				firstReset = s.Begin
			}
		}
	}
	if firstReset.Before(lastStop) {
		t.Error("a RESET ran before every STOP had ended")
	}
	c.servers[2].Close() // scaled away

	// Restart of pod-1 with kept state (AKU_REPLICATION_RESET_AT_END = 0).
	keep := cfg
	keep.ResetAtEnd = false
	keep = l.attach(keep)
	must(t, original.End(ctx, pp, 1, keep))
	wantPerPod(t, "end of pod-1, no reset", l.perPod(), map[int][]string{
		0: {"STOP AKU_REP_01"},
		1: {"FLUSH AKU_REP_01", "FLUSH AKU_REP_12", "STOP AKU_REP_01", "STOP AKU_REP_12"},
	})
	keep = l.attach(keep)
	must(t, original.Start(ctx, pp, 1, keep))
	wantPerPod(t, "restart of pod-1 with kept state", l.perPod(), map[int][]string{
		0: {"START AKU_REP_01", "FLUSH AKU_REP_01"},
		1: {"START AKU_REP_01", "FLUSH AKU_REP_01", "ADMIN_MODE"},
	})
	w0.burst(30)
	c.converge(pods(2), []string{"T1"}, w0)
}
