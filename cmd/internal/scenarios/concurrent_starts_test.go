package scenarios_test

// Starts that overlap (DNS mode without the Lease): the same pod's start
// twice at once, and two new pods at once, interleaved deterministically so
// that each run holds some of the SYSDBA sessions the other needs. The runs
// take turns; none gives up on a busy pod or leaves another out, and the
// mesh ends complete, with the invariant checker over the writers' rows.

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aku-k8s/aku/lifecycle"
)

// gate holds a runner's first dial of a pod until another runner's first
// dial of some pod returned (or a few seconds passed), to interleave two
// starts deterministically.
type gate struct {
	once  map[int]*sync.Once
	after map[int]chan struct{} // first dial of pod waits for this
	done  map[int]chan struct{} // closed when the first dial of pod returned
}

type gatedDialer struct {
	lifecycle.Dialer
	g gate
}

func newGatedDialer(d lifecycle.Dialer, n int) *gatedDialer {
	g := gate{once: map[int]*sync.Once{}, after: map[int]chan struct{}{}, done: map[int]chan struct{}{}}
	for i := 0; i < n; i++ {
		g.once[i] = &sync.Once{}
		g.done[i] = make(chan struct{})
	}
	return &gatedDialer{Dialer: d, g: g}
}

func (d *gatedDialer) Dial(ctx context.Context, m lifecycle.Member) (lifecycle.Server, error) {
	first := false
	d.g.once[m.Position].Do(func() { first = true })
	if !first {
		return d.Dialer.Dial(ctx, m)
	}
	if ch := d.g.after[m.Position]; ch != nil {
		select {
		case <-ch:
		case <-time.After(3 * time.Second):
		}
	}
	defer close(d.g.done[m.Position])
	return d.Dialer.Dial(ctx, m)
}

// The same pod's aku-start twice at once (a postStart run twice, DNS mode
// without the Lease), interleaved so that each run gets some of the SYSDBA
// sessions: both complete, and the mesh has no hole.
func TestSameStartTwiceAtOnce(t *testing.T) {
	c := newCluster(t, 3, oneGroup())
	upTo(c, 2)
	w0, w1 := c.writer(0, "T1"), c.writer(1, "T1")
	w0.burst(30)
	w1.burst(30)
	a, b := c.runner(2, nil), c.runner(2, nil)
	ga, gb := newGatedDialer(a.Dialer, 3), newGatedDialer(b.Dialer, 3)
	a.Dialer, b.Dialer = ga, gb
	// B takes pod-1 first; A takes pod-0 and pod-2 first.
	ga.g.after[1] = gb.g.done[1]
	gb.g.after[0] = ga.g.done[0]
	gb.g.after[2] = ga.g.done[2]
	a.Checkpoint = func(context.Context, string) error { w0.burst(5); w1.burst(5); return nil }
	ctx := bounded(t)
	da, db := c.startAsync(a, ctx), c.startAsync(b, ctx)
	for name, done := range map[string]<-chan error{"first": da, "second": db} {
		if err := <-done; err != nil {
			t.Errorf("%s start of pod-2: %v", name, err)
		}
	}
	w2 := c.writer(2, "T1")
	c.finish(w0, w1, w2)
}

// Two new pods start at once in DNS mode (no Lease), interleaved so that
// pod-1's start holds pod-0 and pod-2's start holds pod-1's server: the
// runs take turns instead of giving up on a busy pod-0 or leaving each
// other out, and the mesh ends complete.
func TestTwoPodsStartAtOnce(t *testing.T) {
	c := newCluster(t, 3, oneGroup())
	c.start(0)
	w0 := c.writer(0, "T1")
	w0.burst(30)
	a, b := c.runner(1, nil), c.runner(2, nil)
	ga, gb := newGatedDialer(a.Dialer, 3), newGatedDialer(b.Dialer, 3)
	a.Dialer, b.Dialer = ga, gb
	// pod-2's start reaches pod-1's server first; pod-1's start reaches
	// pod-0 first.
	ga.g.after[1] = gb.g.done[1]
	gb.g.after[0] = ga.g.done[0]
	w0.run()
	ctx := bounded(t)
	da, db := c.startAsync(a, ctx), c.startAsync(b, ctx)
	for pod, done := range map[int]<-chan error{1: da, 2: db} {
		if err := <-done; err != nil {
			t.Errorf("start pod-%d: %v", pod, err)
		}
	}
	w0.halt()
	w1, w2 := c.writer(1, "T1"), c.writer(2, "T1")
	c.finish(w0, w1, w2)
}
