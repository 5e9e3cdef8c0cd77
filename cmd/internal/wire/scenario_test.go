package wire_test

import (
	"testing"
)

// Scale 1 to 4 with writes on pod-0 before and during every join, and on
// every live pod during each join (the window the original loses rows in);
// then writes on every pod. After each step every live pod holds the same
// rows, and no acknowledged write is missing.
func TestScaleUpWithWritesEverywhere(t *testing.T) {
	c := newCluster(t, 4, oneGroup())
	c.start(0)
	w0 := c.writer(0, "T1")
	w0.burst(200)

	writers := []*writer{w0}
	for k := 1; k < 4; k++ {
		// Writes in the background and a burst on every live pod after
		// each step of the join.
		for _, w := range writers {
			w.run()
		}
		c.startWriting(k, writers, 20)
		for _, w := range writers {
			w.halt()
		}
		live := make([]int, k+1)
		for i := range live {
			live[i] = i
		}
		c.converge(live, []string{"T1"}, writers...)
		writers = append(writers, c.writer(k, "T1"))
	}
	for _, w := range writers {
		w.burst(50)
	}
	c.converge([]int{0, 1, 2, 3}, []string{"T1"}, writers...)
}
