package scenarios_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/altibase/altibasetest"
	"github.com/aku-k8s/aku/cmd/internal/bench"
	"github.com/aku-k8s/aku/cmd/internal/original"
	"github.com/aku-k8s/aku/lifecycle"
)

// BenchmarkSpeed is `make bench`: aku and the original's documented sequence
// (package original) side by side, on the same simulated 4-pod cluster in
// the same process, under the latency measured on real servers
// (altibasetest.Realistic: START and STOP on the server clock's whole-second
// tick, SYNC ~40,000 rows/s and at least 2 s), with AKU_BENCH_ROWS rows
// (100,000) in the replicated table. Each of AKU_BENCH_RUNS runs (5) plays,
// for each side (the order alternating between runs):
//
//   - scale-up: pod-0 starts, then pods 1, 2, 3 join (each pod's server is
//     brought up just before its start, as a StatefulSet creates pods);
//   - rolling restart: for pods 3, 2, 1, 0: end, server restart, start (aku:
//     end without reset, kept-state resume; the original: reset at end,
//     truncate and full SYNC at start, as its default configuration does);
//   - scale-down 4 to 3: end of pod-3 with reset.
//
// Between two runs of a side the cluster is put back (objects dropped,
// pods 1-3 emptied and down); none of the harness's work is timed. Then it
// runs the real aku binary (AKU_BENCH_BIN, else a fresh build; and
// AKU_BENCH_DIST's bin/aku if present) through start and end for its peak
// RSS. It writes report.md and timeline.svg to AKU_BENCH_OUT (default: a
// temporary directory, logged). No timing is asserted.
func BenchmarkSpeed(b *testing.B) {
	runs := envInt(b, "AKU_BENCH_RUNS", 5)
	rows := envInt(b, "AKU_BENCH_ROWS", 100_000)
	out := os.Getenv("AKU_BENCH_OUT")
	if out == "" {
		out = filepath.Join(os.TempDir(), fmt.Sprintf("aku-bench-%d", time.Now().Unix()))
	}
	for range b.N { // one iteration: the runs are inside
		began := time.Now()
		h := newSpeedHarness(b, rows)
		sides := []speedSide{h.akuSide(), h.originalSide()}
		results := map[string][]sideRuns{}
		for r := range runs {
			order := sides
			if r%2 == 1 {
				order = []speedSide{sides[1], sides[0]}
			}
			for _, s := range order {
				t0 := time.Now()
				results[s.name] = append(results[s.name], h.play(s))
				b.Logf("run %d/%d, %s: %.1f s", r+1, runs, s.name, time.Since(t0).Seconds())
			}
		}
		h.shutdown()
		mem := measureMemory(b, rows)
		rep := speedReport{runs: runs, rows: rows, aku: results["aku"], orig: results["original"], mem: mem,
			elapsed: time.Since(began)}
		if err := rep.write(out); err != nil {
			b.Fatal(err)
		}
		b.Logf("report: %s", filepath.Join(out, "report.md"))
		for _, m := range rep.metrics() {
			if m.key != "" {
				b.ReportMetric(m.ratio().Median, m.key+"-ratio")
			}
		}
	}
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// speedHarness is the cluster both sides play on.
type speedHarness struct {
	b    *testing.B
	c    *cluster
	rows int
	up   []bool
}

func newSpeedHarness(b *testing.B, rows int) *speedHarness {
	c := newClusterWith(b, 4, oneGroup(), altibasetest.Realistic())
	h := &speedHarness{b: b, c: c, rows: rows, up: []bool{true, true, true, true}}
	loadRows(b, c.open(0, true), "T1", rows)
	return h
}

// loadRows inserts n rows, 1,000 per statement.
func loadRows(b testing.TB, s *session, table string, n int) {
	defer s.Close()
	const per = 1000
	for i := 0; i < n; i += per {
		var sb strings.Builder
		fmt.Fprintf(&sb, "INSERT INTO %s (ID, V) VALUES ", table)
		for j := i; j < min(i+per, n); j++ {
			if j > i {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(%d, 'row %d')", j, j)
		}
		if _, err := s.ExecContext(context.Background(), sb.String()); err != nil {
			b.Fatalf("load %s: %v", table, err)
		}
	}
}

func (h *speedHarness) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Minute)
}

func (h *speedHarness) serverUp(i int) {
	if h.up[i] {
		return
	}
	if err := h.c.servers[i].Start(); err != nil {
		h.b.Fatalf("start server of pod-%d: %v", i, err)
	}
	h.up[i] = true
	delete(h.c.absent, i)
}

func (h *speedHarness) serverDown(i int) {
	if !h.up[i] {
		return
	}
	if err := h.c.servers[i].Close(); err != nil {
		h.b.Fatalf("stop server of pod-%d: %v", i, err)
	}
	h.up[i] = false
	// aku's discovery asks the Kubernetes API, which knows the pod is
	// not there: the hooks do not dial it. The original resolves and
	// dials every pod (DNS), and pays for the refused connects.
	if h.c.absent == nil {
		h.c.absent = map[int]bool{}
	}
	h.c.absent[i] = true
}

func (h *speedHarness) shutdown() {
	for i := range h.up {
		h.serverDown(i)
	}
}

// reset puts the cluster back: every server up, every replication object
// stopped and dropped, pods 1-3 emptied, ADMIN_MODE = 1 (a booting pod),
// no markers; then pods 1-3 down (not created yet).
func (h *speedHarness) reset() {
	for i := range h.up {
		h.serverUp(i)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(h.up))
	for i := range h.up {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h.clean(i)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		h.b.Fatal(err)
	}
	for i := range h.up {
		h.c.markerGone(i)
		if i > 0 {
			h.serverDown(i)
		}
	}
	h.c.logs.reset()
}

func (h *speedHarness) clean(i int) error {
	ctx, cancel := h.ctx()
	defer cancel()
	conn, err := altibase.Connect(ctx, altibase.Endpoint{Host: h.c.host(i), Port: h.c.port}, altibase.Options{
		Dialect: altibase.DialectSimulator, Password: "manager", LoginTimeout: 5 * time.Second,
		QueryTimeout: 60 * time.Second, RetryCount: 20, RetryDelay: 25 * time.Millisecond,
	})
	if err != nil {
		return fmt.Errorf("pod-%d: %w", i, err)
	}
	defer conn.Close()
	list, err := conn.Replications(ctx)
	if err != nil {
		return fmt.Errorf("pod-%d: %w", i, err)
	}
	for _, r := range list {
		if r.IsStarted {
			if err := conn.Stop(ctx, r.Name); err != nil && !errors.Is(err, altibase.ErrNotStarted) {
				return fmt.Errorf("pod-%d: %w", i, err)
			}
		}
		if err := conn.Drop(ctx, r.Name); err != nil {
			return fmt.Errorf("pod-%d: %w", i, err)
		}
	}
	if i > 0 {
		if err := conn.Truncate(ctx, []altibase.Item{{User: "SYS", Table: "T1"}}); err != nil {
			return fmt.Errorf("pod-%d: %w", i, err)
		}
	}
	return conn.SetAdminMode(ctx, 1)
}

// check waits until pods 0..n-1 hold every row and replicate both ways.
func (h *speedHarness) check(n int) {
	h.b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for i := range n {
		for {
			got := h.count(i)
			if got == h.rows {
				break
			}
			if time.Now().After(deadline) {
				h.b.Fatalf("pod-%d holds %d rows, want %d", i, got, h.rows)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	h.c.meshStarted(pods(n))
	if h.b.Failed() {
		h.b.FailNow()
	}
}

func (h *speedHarness) count(i int) int {
	s := h.c.open(i, true)
	defer s.Close()
	var n int
	if err := s.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM T1").Scan(&n); err != nil {
		h.b.Fatalf("pod-%d: count: %v", i, err)
	}
	return n
}

// speedSide is one implementation of start and end.
type speedSide struct {
	name  string
	start func(k int) bench.Run
	end   func(k int, leaving bool) bench.Run
}

// sideRuns is what one side did in one run.
type sideRuns struct {
	scaleUp   []bench.Run // start of pods 0, 1, 2, 3
	rolling   []bench.Run // end and start of pods 3, 2, 1, 0
	scaleDown bench.Run   // end of pod-3, leaving
}

// play runs the scenarios of one side from a clean cluster.
func (h *speedHarness) play(s speedSide) sideRuns {
	h.reset()
	var r sideRuns
	for k := range 4 {
		h.serverUp(k)
		r.scaleUp = append(r.scaleUp, s.start(k))
	}
	h.check(4)
	for k := 3; k >= 0; k-- {
		r.rolling = append(r.rolling, s.end(k, false))
		h.serverDown(k)
		h.serverUp(k)
		r.rolling = append(r.rolling, s.start(k))
	}
	h.check(4)
	r.scaleDown = s.end(3, true)
	h.serverDown(3)
	return r
}

// akuSide runs lifecycle.Runner as the hooks do, with
// AKU_REPLICATION_RESET_AT_END = auto and the Kubernetes API's verdict on
// why the pod stops.
func (h *speedHarness) akuSide() speedSide {
	runner := func(k int, rec *spanRecorder) *lifecycle.Runner {
		r := h.c.runner(k, func(o *lifecycle.Options) { o.ResetAtEnd = lifecycle.ResetAuto })
		r.Dialer = &tracedDialer{inner: r.Dialer, rec: rec}
		r.Checkpoint = rec.checkpoint
		return r
	}
	return speedSide{
		name: "aku",
		start: func(k int) bench.Run {
			rec := &spanRecorder{}
			r := runner(k, rec)
			h.c.markerGone(k)
			return h.timed(rec, k, "start", r.Start)
		},
		end: func(k int, leaving bool) bench.Run {
			rec := &spanRecorder{}
			r := runner(k, rec)
			intent := lifecycle.IntentRestart
			if leaving {
				intent = lifecycle.IntentScaleDown
			}
			r.Intent = func(context.Context) (lifecycle.Intent, string) { return intent, "benchmark" }
			return h.timed(rec, k, "end", r.End)
		},
	}
}

// originalSide runs the reference driver with the manual's default
// configuration (AKU_REPLICATION_RESET_AT_END = 1: the original cannot tell
// a restart from a scale-down).
func (h *speedHarness) originalSide() speedSide {
	config := func(rec *spanRecorder) original.Config {
		cfg := h.c.originalConfig()
		cfg.Observe = rec.observe
		cfg.Checkpoint = rec.checkpoint
		return cfg
	}
	return speedSide{
		name: "original",
		start: func(k int) bench.Run {
			rec := &spanRecorder{}
			cfg := config(rec)
			return h.timed(rec, k, "start", func(ctx context.Context) error {
				return original.Start(ctx, h.c.originalPods(), k, cfg)
			})
		},
		end: func(k int, _ bool) bench.Run {
			rec := &spanRecorder{}
			cfg := config(rec)
			return h.timed(rec, k, "end", func(ctx context.Context) error {
				return original.End(ctx, h.c.originalPods(), k, cfg)
			})
		},
	}
}

func (h *speedHarness) timed(rec *spanRecorder, k int, action string, f func(context.Context) error) bench.Run {
	h.b.Helper()
	ctx, cancel := h.ctx()
	defer cancel()
	begin := time.Now()
	err := f(ctx)
	end := time.Now()
	if err != nil {
		h.b.Fatalf("%s of pod-%d: %v\n%s", action, k, err, h.c.logs.String())
	}
	return rec.run(k, action, begin, end)
}

// spanRecorder collects the statements of one run, with the step (the last
// checkpoint passed) each ran in.
type spanRecorder struct {
	mu    sync.Mutex
	step  string
	spans []bench.Span
}

func (r *spanRecorder) checkpoint(_ context.Context, step string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.step = step
	return nil
}

// note records one of aku's statements.
func (r *spanRecorder) note(server int, op, object string, begin time.Time) {
	end := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spans = append(r.spans, bench.Span{Server: server, Phase: akuPhase(op, r.step), Op: op, Object: object,
		Begin: begin, End: end})
}

// observe records one of the original's statements.
func (r *spanRecorder) observe(s original.Statement) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spans = append(r.spans, bench.Span{Server: s.Pod, Phase: originalPhase(s.Kind), Op: string(s.Kind),
		Object: s.Replication, Begin: s.Begin, End: s.End})
}

func (r *spanRecorder) run(pod int, action string, begin, end time.Time) bench.Run {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bench.Run{Pod: pod, Action: action, Begin: begin, End: end, Spans: r.spans}
}

// akuPhase: the pin is the pinned and detached steps (START on the members,
// DROP of this pod's ends, FLUSH toward pod-0), the members' STOPs that run
// alongside the SYNC, and the reattached step (CREATE of this pod's ends);
// step is the last checkpoint passed.
func akuPhase(op, step string) bench.Phase {
	switch step {
	case lifecycle.StepJoinStopped, lifecycle.StepPinned:
		switch op {
		case "START", "STOP", "FLUSH", "READ", "DROP":
			return bench.PhasePin
		}
	case lifecycle.StepTruncated:
		if op == "STOP" {
			return bench.PhasePin
		}
	case lifecycle.StepSynced:
		if op == "CREATE" {
			return bench.PhasePin
		}
	}
	return opPhase(op)
}

func originalPhase(k original.Kind) bench.Phase { return opPhase(string(k)) }

func opPhase(op string) bench.Phase {
	switch op {
	case "CONNECT", "READ":
		return bench.PhaseConnect
	case "CREATE":
		return bench.PhaseCreate
	case "STOP":
		return bench.PhaseStop
	case "RESET":
		return bench.PhaseReset
	case "TRUNCATE":
		return bench.PhaseTruncate
	case "SYNC":
		return bench.PhaseSync
	case "START":
		return bench.PhaseStart
	case "FLUSH":
		return bench.PhaseFlush
	case "ADMIN_MODE":
		return bench.PhaseOpen
	}
	return bench.PhaseOther
}

// tracedDialer times every statement aku's runner issues.
type tracedDialer struct {
	inner lifecycle.Dialer
	rec   *spanRecorder
}

func (d *tracedDialer) Dial(ctx context.Context, m lifecycle.Member) (lifecycle.Server, error) {
	begin := time.Now()
	srv, err := d.inner.Dial(ctx, m)
	d.rec.note(m.Position, "CONNECT", "", begin)
	if err != nil {
		return nil, err
	}
	return &tracedServer{s: srv, pod: m.Position, rec: d.rec}, nil
}

type tracedServer struct {
	s   lifecycle.Server
	pod int
	rec *spanRecorder
}

func (t *tracedServer) do(op, object string, f func() error) error {
	begin := time.Now()
	err := f()
	t.rec.note(t.pod, op, object, begin)
	return err
}

func (t *tracedServer) Replications(ctx context.Context) (list []lifecycle.RepState, err error) {
	err = t.do("READ", "", func() error { list, err = t.s.Replications(ctx); return err })
	return list, err
}

func (t *tracedServer) CreateReplication(ctx context.Context, r lifecycle.Replication) error {
	return t.do("CREATE", r.Name, func() error { return t.s.CreateReplication(ctx, r) })
}

func (t *tracedServer) Start(ctx context.Context, name string) error {
	return t.do("START", name, func() error { return t.s.Start(ctx, name) })
}

func (t *tracedServer) Stop(ctx context.Context, name string) error {
	return t.do("STOP", name, func() error { return t.s.Stop(ctx, name) })
}

func (t *tracedServer) Reset(ctx context.Context, name string) error {
	return t.do("RESET", name, func() error { return t.s.Reset(ctx, name) })
}

func (t *tracedServer) Drop(ctx context.Context, name string) error {
	return t.do("DROP", name, func() error { return t.s.Drop(ctx, name) })
}

func (t *tracedServer) Sync(ctx context.Context, name string, parallel int) error {
	return t.do("SYNC", name, func() error { return t.s.Sync(ctx, name, parallel) })
}

func (t *tracedServer) Flush(ctx context.Context, name string, m lifecycle.FlushMode) error {
	return t.do("FLUSH", name, func() error { return t.s.Flush(ctx, name, m) })
}

func (t *tracedServer) Truncate(ctx context.Context, items []lifecycle.Item) error {
	return t.do("TRUNCATE", "", func() error { return t.s.Truncate(ctx, items) })
}

func (t *tracedServer) SetAdminMode(ctx context.Context, on bool) error {
	return t.do("ADMIN_MODE", "", func() error { return t.s.SetAdminMode(ctx, on) })
}

func (t *tracedServer) Property(ctx context.Context, name string) (v int64, err error) {
	err = t.do("READ", "", func() error { v, err = t.s.Property(ctx, name); return err })
	return v, err
}

func (t *tracedServer) SetProperty(ctx context.Context, name string, value int64) error {
	return t.do("PROPERTY", "", func() error { return t.s.SetProperty(ctx, name, value) })
}

func (t *tracedServer) Close() error { return t.s.Close() }

var _ lifecycle.Server = (*tracedServer)(nil)
