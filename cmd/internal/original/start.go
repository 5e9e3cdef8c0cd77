package original

import (
	"context"
	"fmt"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

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
