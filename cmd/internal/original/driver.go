package original

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/lifecycle"
)

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
