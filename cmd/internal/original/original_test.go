package original

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/lifecycle/config"
)

// FromConfig addresses the pods as aku.conf does (the manual's sample: four
// pods at <sts>-<n>.<svc>, port 20300) and keeps the manual's properties.
func TestFromConfig(t *testing.T) {
	cfg, err := config.Load("../../../lifecycle/config/testdata/valid-manual-sample.conf",
		config.WithEnv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	pods, c := FromConfig(cfg, nil)
	if len(pods) != 4 {
		t.Fatalf("%d pods, want 4", len(pods))
	}
	want := Pod{Name: "altibase-sts-2", SQL: altibase.Endpoint{Host: "altibase-sts-2.altibase-svc", Port: 20300},
		Host: "altibase-sts-2.altibase-svc"}
	if pods[2] != want {
		t.Errorf("pod 2 = %+v, want %+v", pods[2], want)
	}
	if c.ReplicationPort != 20301 || !c.FlushAtStart || c.FlushTimeoutAtStart != 300*time.Second ||
		!c.FlushAtEnd || !c.ResetAtEnd || c.Client.Password != "manager" || c.Client.RetryCount != 5 {
		t.Errorf("config = %+v", c)
	}
	if len(c.Groups) != 1 || c.Groups[0].Prefix != "AKU_REP" || c.Groups[0].SyncParallel != 1 ||
		len(c.Groups[0].Items) != 3 || c.Groups[0].Items[1] != (altibase.Item{User: "SYS", Table: "T2", Partition: "P1"}) {
		t.Errorf("groups = %+v", c.Groups)
	}
}

// Nothing is dialled for a pod that is not one of the pods, or without
// groups.
func TestStartRefusesBadInput(t *testing.T) {
	pods := []Pod{{Name: "p0"}}
	if err := Start(context.Background(), pods, 1, Config{Groups: []Group{{Prefix: "P"}}}); err == nil {
		t.Error("pod 1 of 1 accepted")
	}
	if err := End(context.Background(), pods, 0, Config{}); err == nil {
		t.Error("no groups accepted")
	}
}

// The run's own steps fan out per server and keep each server's order;
// Sequential keeps the global order.
func TestRunKeepsPerServerOrder(t *testing.T) {
	for _, seq := range []bool{false, true} {
		var (
			mu  sync.Mutex
			got []string
		)
		observe := func(s Statement) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, s.Replication)
		}
		d := &driver{cfg: Config{Sequential: seq, Observe: observe},
			pods: []Pod{{Name: "p0"}, {Name: "p1"}}, conns: []*altibase.Conn{{}, {}}}
		mk := func(pod int, repl string, err error, ok ...error) job {
			return job{pod: pod, kind: KindStop, repl: repl, ok: ok,
				run: func(context.Context, *altibase.Conn) error { time.Sleep(time.Millisecond); return err }}
		}
		err := d.run(context.Background(), []job{
			mk(0, "A", nil), mk(1, "B", altibase.ErrNotStarted, altibase.ErrNotStarted), mk(0, "C", nil), mk(1, "D", nil),
		})
		if err != nil {
			t.Fatalf("sequential=%v: %v", seq, err)
		}
		pos := map[string]int{}
		for i, r := range got {
			pos[r] = i
		}
		if len(got) != 4 || pos["A"] > pos["C"] || pos["B"] > pos["D"] {
			t.Errorf("sequential=%v: order %v", seq, got)
		}
		if seq && (got[0] != "A" || got[1] != "B" || got[2] != "C" || got[3] != "D") {
			t.Errorf("sequential: order %v, want A B C D", got)
		}
		fail := errors.New("boom")
		err = d.run(context.Background(), []job{mk(0, "E", fail), mk(0, "F", nil)})
		if !errors.Is(err, fail) {
			t.Errorf("sequential=%v: error %v, want boom", seq, err)
		}
	}
}
