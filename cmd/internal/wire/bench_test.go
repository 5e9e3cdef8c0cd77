package wire_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase/altibasetest"
)

// BenchmarkLifecycleRealistic measures aku's schedule with the latency
// measured on real servers (START and STOP return on the server clock's
// next whole-second tick, SYNC moves ~40,000 rows/s): pod-0's start, each
// join of pods 1..3 with 10,000 rows on pod-0, and a scale-down end of
// pod 3. Reported per operation in seconds.
func BenchmarkLifecycleRealistic(b *testing.B) {
	for i := 0; i < b.N; i++ {
		c := newClusterWith(b, 4, oneGroup(), altibasetest.Realistic())
		timed := func(name string, f func()) {
			start := time.Now()
			f()
			b.ReportMetric(time.Since(start).Seconds(), name+"-s")
		}
		timed("start-pod0", func() { c.start(0) })
		w := c.writer(0, "T1")
		w.burst(10_000)
		for k := 1; k < 4; k++ {
			timed(fmt.Sprintf("join-pod%d", k), func() { c.start(k) })
		}
		timed("end-pod3", func() { c.end(3, true) })
	}
}
