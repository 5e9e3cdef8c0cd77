package scenarios_test

import (
	"strings"
	"testing"

	"github.com/aku-k8s/aku/altibase/altibasetest"
)

// TestRealisticProfile runs the main paths under the latency measured on
// real servers (START and STOP on the server clock's whole-second tick,
// SYNC of at least two seconds ending on a tick):
// timing that the fast profile hides, such as a writer's rows landing
// while a SYNC is still copying, or a START that has not returned when the
// next step begins. Writers run on every live pod throughout; the
// invariant checker runs after every step. No timing is asserted.
func TestRealisticProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("realistic latency: a minute of wall time")
	}
	c := newClusterWith(t, 3, oneGroup(), altibasetest.Realistic())
	c.start(0)
	w0 := c.writer(0, "T1")
	w0.burst(500)
	writers := []*writer{w0}

	t.Run("scale-up", func(t *testing.T) {
		for k := 1; k < 3; k++ {
			for _, w := range writers {
				w.run()
			}
			c.startWriting(k, writers, 10)
			for _, w := range writers {
				w.halt()
			}
			c.converge(pods(k+1), []string{"T1"}, writers...)
			writers = append(writers, c.writer(k, "T1"))
		}
		c.meshStarted(pods(3))
	})

	t.Run("restart-kept-state", func(t *testing.T) {
		for _, w := range writers {
			w.run()
		}
		c.end(1, false)
		c.markerGone(1)
		c.logs.reset()
		c.start(1)
		for _, w := range writers {
			w.halt()
		}
		if strings.Contains(c.logs.String(), "Truncate tables") {
			t.Error("a restart that kept its state was truncated")
		}
		c.meshStarted(pods(3))
		c.converge(pods(3), []string{"T1"}, writers...)
	})

	t.Run("scale-down", func(t *testing.T) {
		writers[0].run()
		writers[1].run()
		c.end(2, true)
		writers[0].halt()
		writers[1].halt()
		writers[0].burst(20)
		writers[1].burst(20)
		c.converge(pods(2), []string{"T1"}, writers...)
	})
}
