package original

import (
	"context"

	"github.com/aku-k8s/aku/altibase"
)

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
