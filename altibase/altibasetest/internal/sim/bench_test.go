package sim

import (
	"fmt"
	"testing"
)

// BenchmarkSync100k copies 100,000 small rows between two local nodes with
// SYNC ONLY (zero latency profile; in memory, and with DataDir on both).
func BenchmarkSync100k(b *testing.B) {
	for _, durable := range []bool{false, true} {
		b.Run(fmt.Sprintf("durable=%v", durable), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				var oa, ob Options
				if durable {
					oa.DataDir, ob.DataDir = b.TempDir(), b.TempDir()
				}
				na, nb := testNodeOpts(b, oa), testNodeOpts(b, ob)
				sa, sb := sys(b, na), sys(b, nb)
				createT(b, sa)
				createT(b, sb)
				createRepl(b, sa, "R", nb)
				createRepl(b, sb, "R", na)
				insertRange(b, sa, "T", 0, 100000)
				b.StartTimer()
				exec(b, sa, "ALTER REPLICATION R SYNC ONLY PARALLEL 2")
				b.StopTimer()
				if c := count(b, sb, "T"); c != 100000 {
					b.Fatalf("B has %d rows", c)
				}
				_ = na.Close()
				_ = nb.Close()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkShip measures shipping 20,000 single-row inserts through a
// started sender (conformance case 17's load).
func BenchmarkShip20k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		_, _, sa, sb := pair(b)
		exec(b, sa, "ALTER REPLICATION R START")
		insertRange(b, sa, "T", 0, 20000)
		b.StartTimer()
		exec(b, sa, "ALTER REPLICATION R FLUSH ALL")
		b.StopTimer()
		if c := count(b, sb, "T"); c != 20000 {
			b.Fatalf("B has %d rows", c)
		}
		b.StartTimer()
	}
}
