// Package original is a reference driver for the original aku's documented
// sequence: `aku -p start` and `aku -p end` as Altibase's manual of the
// utility describes them (its "aku -p start" and "aku -p end" sections;
// docs/altibase.md section 6), issuing exactly the manual's statements in
// the manual's order through the same client aku uses (altibase.Conn). It
// exists to measure aku against the original on the same servers, and to
// show what the original's order does (it loses a peer's writes made during
// a join: docs/altibase.md section 8).
//
// Start on pod-0 (master): connect to every pod (failures are expected:
// those pods do not exist yet), create the missing replication objects,
// start both directions with every pod that answered, flush
// (AKU_FLUSH_AT_START; the manual's master recovery example logs "Flush
// replications."). The manual sets no ADMIN_MODE on the master, and neither
// does this driver.
//
// Start on a slave whose object toward pod-0 was reset or is new: create,
// TRUNCATE the targets, SYNC [PARALLEL n] on pod-0 toward it, START both
// directions with every pod that answered, ADMIN_MODE = 0. With kept state
// (XSN not -1): START both directions, FLUSH ALL here, FLUSH ALL or FLUSH
// WAIT n on the peers (AKU_FLUSH_AT_START), ADMIN_MODE = 0.
//
// End: FLUSH ALL of the pod's replications (AKU_FLUSH_AT_END, slaves only),
// STOP of every related replication on every pod that answered, RESET of them
// (AKU_REPLICATION_RESET_AT_END, never on the master).
//
// Each step fans out across servers, one session per server, statements on
// one server in the manual's order (the 7.1.0.9.6 "parallel execution"; the
// manual's own `aku -p end` example spends 2.75 s on six STOPs, which only
// per-server parallelism explains); Config.Sequential issues one statement
// at a time instead, as the sequence run by hand in altibase.md section 8.
// The marker file (/tmp/aku_start_completed) and aku.conf checks are not
// statements and are left to the caller.
//
// The driver takes endpoints and client options, not simulator objects, so
// it runs against real servers too (FromConfig builds its input from an
// aku.conf).
package original

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/cmd/internal/altibaselc"
	"github.com/aku-k8s/aku/lifecycle"
	"github.com/aku-k8s/aku/lifecycle/config"
)

// Pod is one position of the StatefulSet.
type Pod struct {
	Name string            // for messages and traces, e.g. altibase-sts-1
	SQL  altibase.Endpoint // where SQL goes
	Host string            // the host the replication objects name (CREATE REPLICATION ... WITH 'Host', port)
}

// Group is one REPLICATIONS group of aku.conf.
type Group struct {
	Prefix       string // REPLICATION_NAME_PREFIX
	SyncParallel int    // SYNC_PARALLEL_COUNT
	Items        []altibase.Item
}

// Config is what the original reads from aku.conf, plus the driver's own
// options.
type Config struct {
	Client              altibase.Options // dialect, password, timeouts, retries
	ReplicationPort     int              // AKU_REPLICATION_PORT_NO
	Groups              []Group          // REPLICATIONS
	FlushAtStart        bool             // AKU_FLUSH_AT_START
	FlushTimeoutAtStart time.Duration    // AKU_FLUSH_TIMEOUT_AT_START: 0 FLUSH ALL, else FLUSH WAIT n on peers
	DelayStartComplete  time.Duration    // AKU_DELAY_START_COMPLETE_TIME
	FlushAtEnd          bool             // AKU_FLUSH_AT_END
	ResetAtEnd          bool             // AKU_REPLICATION_RESET_AT_END = 1

	// Sequential issues one statement at a time (the order of the manual,
	// servers in ordinal order) instead of fanning each step out across
	// servers.
	Sequential bool
	// Observe, when set, receives every statement after it ran, from
	// several goroutines at once unless Sequential.
	Observe func(Statement)
	// Checkpoint, when set, is called after each step (the Step constants);
	// an error stops the run there.
	Checkpoint func(ctx context.Context, step string) error
	// Log receives the original's log lines ("Start as SLAVE Pod.",
	// "Sync tables from MASTER Server.", ...); nil discards them.
	Log *slog.Logger
}

// Steps, as passed to Checkpoint.
const (
	StepConnected = "connected" // sessions open, catalogs read
	StepCreated   = "created"   // missing objects created (start)
	StepTruncated = "truncated" // targets truncated (slave, new or reset)
	StepSynced    = "synced"    // SYNC from pod-0 done
	StepStarted   = "started"   // both directions started
	StepFlushed   = "flushed"   // gaps flushed (start with kept state; end)
	StepOpened    = "opened"    // ADMIN_MODE = 0
	StepStopped   = "stopped"   // related replications stopped (end)
	StepReset     = "reset"     // related replications reset (end)
)

// Kind is what a statement does.
type Kind string

// Statement kinds.
const (
	KindConnect   Kind = "CONNECT"    // one SYSDBA session
	KindRead      Kind = "READ"       // SELECT ... FROM SYSTEM_.SYS_REPLICATIONS_
	KindCreate    Kind = "CREATE"     // CREATE REPLICATION
	KindTruncate  Kind = "TRUNCATE"   // REPLICATION_DDL_ENABLE = 1, TRUNCATE ..., REPLICATION_DDL_ENABLE = 0
	KindSync      Kind = "SYNC"       // ALTER REPLICATION ... SYNC [PARALLEL n]
	KindStart     Kind = "START"      // ALTER REPLICATION ... START
	KindFlush     Kind = "FLUSH"      // ALTER REPLICATION ... FLUSH [ALL] [WAIT n]
	KindStop      Kind = "STOP"       // ALTER REPLICATION ... STOP
	KindReset     Kind = "RESET"      // ALTER REPLICATION ... RESET
	KindAdminMode Kind = "ADMIN_MODE" // ALTER SYSTEM SET ADMIN_MODE = 0
)

// Statement is one statement the driver issued.
type Statement struct {
	Pod         int    // index into the pods of the server it ran on
	Kind        Kind   //
	Replication string // the object, for ALTER/CREATE REPLICATION
	Begin, End  time.Time
	// Err is what the server said, including the answers the original
	// takes as success (a sender already started, a replication not
	// started) and failed connects to pods that do not exist.
	Err error
}

// Errors.
var (
	// ErrMasterFailed is the manual's "The MASTER server is detected to have
	// failed.": pod-0 lost its restart point toward a running slave.
	ErrMasterFailed = errors.New("the MASTER server is detected to have failed")
	// ErrMasterAbsent: a new or reset slave cannot sync without pod-0.
	ErrMasterAbsent = errors.New("the MASTER pod is not reachable")
)

// FromConfig builds the driver's input from a validated aku.conf: every
// position 0..AKU_SERVER_COUNT-1 at cfg.Host(n), AKU_PORT_NO, and the
// client options of the configuration.
func FromConfig(cfg *config.Config, log *slog.Logger) ([]Pod, Config) {
	opts := altibaselc.ClientOptions(cfg, log)
	pods := make([]Pod, cfg.ServerCount)
	for i := range pods {
		h := cfg.Host(i)
		pods[i] = Pod{Name: fmt.Sprintf("%s-%d", cfg.STSName, i), SQL: altibase.Endpoint{Host: h, Port: cfg.PortNo}, Host: h}
	}
	c := Config{
		Client:              opts, // the same client options as aku's hooks
		ReplicationPort:     cfg.ReplicationPortNo,
		FlushAtStart:        cfg.FlushAtStart,
		FlushTimeoutAtStart: cfg.FlushTimeoutAtStart,
		DelayStartComplete:  cfg.DelayStartComplete,
		FlushAtEnd:          cfg.FlushAtEnd,
		ResetAtEnd:          cfg.ReplicationResetAtEnd != config.ResetNever,
		Log:                 log,
	}
	for _, g := range cfg.Groups {
		og := Group{Prefix: g.Prefix, SyncParallel: g.SyncParallel}
		for _, it := range g.Items {
			og.Items = append(og.Items, altibase.Item{User: it.User, Table: it.Table, Partition: it.Partition})
		}
		c.Groups = append(c.Groups, og)
	}
	return pods, c
}

// Start runs the original's `aku -p start` as pod k of pods (every position
// 0..AKU_SERVER_COUNT-1, existing or not).
func Start(ctx context.Context, pods []Pod, k int, cfg Config) error {
	d, err := open(ctx, pods, k, cfg)
	if err != nil {
		return err
	}
	defer d.close()
	// ④ Create the objects; an existing one (a restart) is kept.
	kept := map[string]bool{} // per group prefix, slave: object toward pod-0 has a restart point
	var jobs []job
	for _, g := range cfg.Groups {
		if st, ok := d.states[k][d.name(g, k, 0)]; ok && k != 0 && st.XSN != -1 {
			kept[g.Prefix] = true
		}
		for j := range pods {
			if j == k {
				continue
			}
			name := d.name(g, k, j)
			if _, ok := d.states[k][name]; ok {
				continue
			}
			rep := altibase.Replication{Name: name, RemoteHost: pods[j].Host, RemotePort: cfg.ReplicationPort, Items: g.Items}
			jobs = append(jobs, job{pod: k, kind: KindCreate, repl: name, ok: []error{altibase.ErrDuplicateReplication},
				run: func(ctx context.Context, c *altibase.Conn) error { return c.CreateReplication(ctx, rep) }})
		}
	}
	if err := d.run(ctx, jobs); err != nil {
		return err
	}
	if err := d.checkpoint(ctx, StepCreated); err != nil {
		return err
	}
	if k == 0 {
		return d.startMaster(ctx)
	}
	return d.startSlave(ctx, kept)
}

func (d *driver) startMaster(ctx context.Context) error {
	// The manual's master failure: pod-0 lost its restart point toward a
	// slave that kept its own.
	for _, j := range d.peers() {
		for _, g := range d.cfg.Groups {
			name := d.name(g, 0, j)
			mine, ok := d.states[0][name]
			theirs, tok := d.states[j][name]
			if ok && tok && mine.XSN == -1 && theirs.XSN != -1 {
				d.log().Error("The MASTER server is detected to have failed. Check and perform a manual recovery.")
				return fmt.Errorf("%w: %s", ErrMasterFailed, name)
			}
		}
	}
	// ⑤ Start with every pod that answered, both directions.
	pairs := d.pairs(d.peers())
	if err := d.run(ctx, d.startJobs(pairs)); err != nil {
		return err
	}
	if err := d.checkpoint(ctx, StepStarted); err != nil {
		return err
	}
	if d.cfg.FlushAtStart && len(pairs) > 0 {
		if err := d.flushPairs(ctx, pairs); err != nil {
			return err
		}
	}
	return nil
}

func (d *driver) startSlave(ctx context.Context, kept map[string]bool) error {
	k := d.k
	var fresh []Group
	for _, g := range d.cfg.Groups {
		if !kept[g.Prefix] {
			fresh = append(fresh, g)
		}
	}
	if len(fresh) > 0 {
		if d.conns[0] == nil {
			d.log().Error("The MASTER pod is not reachable.")
			return fmt.Errorf("%w: needed to sync %s", ErrMasterAbsent, d.pods[k].Name)
		}
		// ⑤ Truncate the targets.
		var items []altibase.Item
		for _, g := range fresh {
			items = append(items, g.Items...)
		}
		d.log().Info("Truncate tables for replications.")
		err := d.run(ctx, []job{{pod: k, kind: KindTruncate,
			run: func(ctx context.Context, c *altibase.Conn) error { return c.Truncate(ctx, items) }}})
		if err != nil {
			return err
		}
		d.log().Info("Table truncation has ended.")
		if err := d.checkpoint(ctx, StepTruncated); err != nil {
			return err
		}
		// ⑥ ⑦ pod-0 syncs toward this pod (and starts its sender).
		d.log().Info("Sync tables from MASTER Server.")
		var jobs []job
		for _, g := range fresh {
			name, par := d.name(g, 0, k), g.SyncParallel
			jobs = append(jobs, job{pod: 0, kind: KindSync, repl: name,
				run: func(ctx context.Context, c *altibase.Conn) error { return c.Sync(ctx, name, par) }})
		}
		if err := d.run(ctx, jobs); err != nil {
			return err
		}
		d.log().Info("Replication sync has ended.")
		if err := d.checkpoint(ctx, StepSynced); err != nil {
			return err
		}
	}
	// ⑧ (fresh) or ④ (kept): start with every pod that answered, both
	// directions.
	pairs := d.pairs(d.peers())
	if err := d.run(ctx, d.startJobs(pairs)); err != nil {
		return err
	}
	if err := d.checkpoint(ctx, StepStarted); err != nil {
		return err
	}
	// ⑤ ⑥ With kept state, flush both ways.
	if d.cfg.FlushAtStart && len(fresh) < len(d.cfg.Groups) {
		var keptPairs []pair
		for _, p := range pairs {
			if kept[p.group.Prefix] {
				keptPairs = append(keptPairs, p)
			}
		}
		if err := d.flushPairs(ctx, keptPairs); err != nil {
			return err
		}
	}
	if d.cfg.DelayStartComplete > 0 {
		t := time.NewTimer(d.cfg.DelayStartComplete)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	// ⑨ Open the server to users.
	err := d.run(ctx, []job{{pod: k, kind: KindAdminMode,
		run: func(ctx context.Context, c *altibase.Conn) error { return c.SetAdminMode(ctx, 0) }}})
	if err != nil {
		return err
	}
	return d.checkpoint(ctx, StepOpened)
}

// End runs the original's `aku -p end` as pod k of pods. As the original, it
// flushes every started replication of the pod, also one toward a pod that
// is gone (that FLUSH ALL waits for QUERY_TIMEOUT).
func End(ctx context.Context, pods []Pod, k int, cfg Config) error {
	d, err := open(ctx, pods, k, cfg)
	if err != nil {
		return err
	}
	defer d.close()
	// The related objects: all of this pod's, and each peer's toward it.
	related := map[int][]string{}
	for _, g := range cfg.Groups {
		for j := range pods {
			if j == k {
				continue
			}
			name := d.name(g, k, j)
			if _, ok := d.states[k][name]; ok {
				related[k] = append(related[k], name)
			}
		}
	}
	for _, j := range d.peers() {
		for _, g := range cfg.Groups {
			name := d.name(g, k, j)
			if _, ok := d.states[j][name]; ok {
				related[j] = append(related[j], name)
			}
		}
	}
	// ③ FLUSH ALL this pod's replications (a slave's, AKU_FLUSH_AT_END).
	if k != 0 && cfg.FlushAtEnd {
		d.log().Info("Flush replications.")
		var jobs []job
		for _, name := range related[k] {
			jobs = append(jobs, job{pod: k, kind: KindFlush, repl: name, ok: []error{altibase.ErrNotStarted},
				run: func(ctx context.Context, c *altibase.Conn) error {
					return c.Flush(ctx, name, altibase.FlushOptions{All: true})
				}})
		}
		if err := d.run(ctx, jobs); err != nil {
			return err
		}
		d.log().Info("Replication flush has ended.")
		if err := d.checkpoint(ctx, StepFlushed); err != nil {
			return err
		}
	}
	// ④ STOP on every related pod.
	if err := d.run(ctx, d.relatedJobs(related, KindStop)); err != nil {
		return err
	}
	if err := d.checkpoint(ctx, StepStopped); err != nil {
		return err
	}
	// ⑤ RESET (AKU_REPLICATION_RESET_AT_END; no effect on the master).
	if cfg.ResetAtEnd && k != 0 {
		d.log().Info("Reset replications.")
		if err := d.run(ctx, d.relatedJobs(related, KindReset)); err != nil {
			return err
		}
		d.log().Info("Replication reset has ended.")
		if err := d.checkpoint(ctx, StepReset); err != nil {
			return err
		}
	}
	return nil
}

// driver is one run: a session per pod that answered and the catalogs read
// at the beginning.
type driver struct {
	cfg    Config
	pods   []Pod
	k      int
	conns  []*altibase.Conn                       // nil: did not answer
	states []map[string]altibase.ReplicationState // by pod, as read after connecting
}

// open connects to every pod (③ / ②: failures other than this pod's are
// expected) and reads the catalogs of those that answered.
func open(ctx context.Context, pods []Pod, k int, cfg Config) (*driver, error) {
	if k < 0 || k >= len(pods) {
		return nil, fmt.Errorf("pod %d is not one of the %d pods", k, len(pods))
	}
	if len(cfg.Groups) == 0 {
		return nil, errors.New("no replication groups")
	}
	d := &driver{cfg: cfg, pods: pods, k: k, conns: make([]*altibase.Conn, len(pods)),
		states: make([]map[string]altibase.ReplicationState, len(pods))}
	errs := make([]error, len(pods))
	dial := func(i int) {
		begin := time.Now()
		c, err := altibase.Connect(ctx, pods[i].SQL, cfg.Client)
		d.observe(Statement{Pod: i, Kind: KindConnect, Begin: begin, End: time.Now(), Err: err})
		d.conns[i], errs[i] = c, err
	}
	if cfg.Sequential {
		for i := range pods {
			dial(i)
		}
	} else {
		var wg sync.WaitGroup
		for i := range pods {
			wg.Add(1)
			go func() { defer wg.Done(); dial(i) }()
		}
		wg.Wait()
	}
	if errs[k] != nil {
		d.close()
		return nil, fmt.Errorf("connect to %s: %w", pods[k].Name, errs[k])
	}
	var jobs []job
	for i, c := range d.conns {
		if c == nil {
			continue
		}
		jobs = append(jobs, job{pod: i, kind: KindRead, run: func(ctx context.Context, c *altibase.Conn) error {
			list, err := c.Replications(ctx)
			st := map[string]altibase.ReplicationState{}
			for _, r := range list {
				st[r.Name] = r
			}
			d.states[i] = st
			return err
		}})
	}
	if err := d.run(ctx, jobs); err != nil {
		d.close()
		return nil, err
	}
	if k == 0 { // the original's role line, for start and end alike
		d.log().Info("Start as MASTER Pod.")
	} else {
		d.log().Info("Start as SLAVE Pod.")
	}
	if err := d.checkpoint(ctx, StepConnected); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

func (d *driver) close() {
	for _, c := range d.conns {
		if c != nil {
			c.Close()
		}
	}
}

func (d *driver) log() *slog.Logger {
	if d.cfg.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.cfg.Log.With("pod", d.pods[d.k].Name)
}

func (d *driver) observe(s Statement) {
	if d.cfg.Observe != nil {
		d.cfg.Observe(s)
	}
}

func (d *driver) checkpoint(ctx context.Context, step string) error {
	if d.cfg.Checkpoint == nil {
		return nil
	}
	if err := d.cfg.Checkpoint(ctx, step); err != nil {
		return fmt.Errorf("stopped after step %s: %w", step, err)
	}
	return nil
}

func (d *driver) name(g Group, i, j int) string { return lifecycle.Name(g.Prefix, i, j) }

// peers lists the other pods that answered, in ordinal order.
func (d *driver) peers() []int {
	var out []int
	for j, c := range d.conns {
		if j != d.k && c != nil {
			out = append(out, j)
		}
	}
	return out
}

// pair is one replication object between this pod and peer j that both
// sides hold.
type pair struct {
	group Group
	peer  int
	name  string
}

func (d *driver) pairs(peers []int) []pair {
	var out []pair
	for _, g := range d.cfg.Groups {
		for _, j := range peers {
			name := d.name(g, d.k, j)
			if _, ok := d.states[j][name]; ok {
				out = append(out, pair{group: g, peer: j, name: name})
			}
		}
	}
	return out
}

// startJobs starts each pair here, then on the peers ("Start replication
// associated with all pods that successfully connect ..., and start
// replication associated with [this pod] from other connected pods"). A
// sender already running (pod-0's after its SYNC) is what was wanted.
func (d *driver) startJobs(pairs []pair) []job {
	var jobs []job
	add := func(pod int, name string) {
		jobs = append(jobs, job{pod: pod, kind: KindStart, repl: name, ok: []error{altibase.ErrAlreadyStarted},
			run: func(ctx context.Context, c *altibase.Conn) error { return c.Start(ctx, name) }})
	}
	for _, p := range pairs {
		add(d.k, p.name)
	}
	for _, j := range d.peers() {
		for _, p := range pairs {
			if p.peer == j {
				add(j, p.name)
			}
		}
	}
	return jobs
}

// flushPairs: FLUSH ALL here, then FLUSH ALL (or FLUSH WAIT n) on the peers.
func (d *driver) flushPairs(ctx context.Context, pairs []pair) error {
	if len(pairs) == 0 {
		return nil
	}
	d.log().Info("Flush replications.")
	var mine, theirs []job
	peerMode := altibase.FlushOptions{All: true}
	if d.cfg.FlushTimeoutAtStart > 0 {
		peerMode = altibase.FlushOptions{Wait: d.cfg.FlushTimeoutAtStart}
	}
	for _, p := range pairs {
		mine = append(mine, job{pod: d.k, kind: KindFlush, repl: p.name,
			run: func(ctx context.Context, c *altibase.Conn) error {
				return c.Flush(ctx, p.name, altibase.FlushOptions{All: true})
			}})
		theirs = append(theirs, job{pod: p.peer, kind: KindFlush, repl: p.name,
			run: func(ctx context.Context, c *altibase.Conn) error { return c.Flush(ctx, p.name, peerMode) }})
	}
	if err := d.run(ctx, mine); err != nil {
		return err
	}
	if err := d.run(ctx, theirs); err != nil {
		return err
	}
	d.log().Info("Replication flush has ended.")
	return d.checkpoint(ctx, StepFlushed)
}

// relatedJobs issues STOP or RESET on every related object, this pod's
// first.
func (d *driver) relatedJobs(related map[int][]string, kind Kind) []job {
	var jobs []job
	order := append([]int{d.k}, d.peers()...)
	for _, pod := range order {
		for _, name := range related[pod] {
			j := job{pod: pod, kind: kind, repl: name}
			if kind == KindStop {
				j.ok = []error{altibase.ErrNotStarted}
				j.run = func(ctx context.Context, c *altibase.Conn) error { return c.Stop(ctx, name) }
			} else {
				j.run = func(ctx context.Context, c *altibase.Conn) error { return c.Reset(ctx, name) }
			}
			jobs = append(jobs, j)
		}
	}
	return jobs
}

// job is one statement on one pod's session.
type job struct {
	pod  int
	kind Kind
	repl string
	run  func(ctx context.Context, c *altibase.Conn) error
	ok   []error // answers that mean "already so"
}

// run issues the jobs of one step: one at a time (Sequential), or one
// goroutine per server, each running its own jobs in order.
func (d *driver) run(ctx context.Context, jobs []job) error {
	if d.cfg.Sequential {
		for _, j := range jobs {
			if err := d.do(ctx, j); err != nil {
				return err
			}
		}
		return nil
	}
	byPod := map[int][]job{}
	var order []int
	for _, j := range jobs {
		if _, ok := byPod[j.pod]; !ok {
			order = append(order, j.pod)
		}
		byPod[j.pod] = append(byPod[j.pod], j)
	}
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	for i, pod := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, j := range byPod[pod] {
				if err := d.do(ctx, j); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (d *driver) do(ctx context.Context, j job) error {
	c := d.conns[j.pod]
	if c == nil {
		return fmt.Errorf("%s %s: %s did not answer", j.kind, j.repl, d.pods[j.pod].Name)
	}
	begin := time.Now()
	err := j.run(ctx, c)
	d.observe(Statement{Pod: j.pod, Kind: j.kind, Replication: j.repl, Begin: begin, End: time.Now(), Err: err})
	if err == nil {
		return nil
	}
	for _, ok := range j.ok {
		if errors.Is(err, ok) {
			return nil
		}
	}
	if j.repl != "" {
		return fmt.Errorf("%s %s on %s: %w", j.kind, j.repl, d.pods[j.pod].Name, err)
	}
	return fmt.Errorf("%s on %s: %w", j.kind, d.pods[j.pod].Name, err)
}
