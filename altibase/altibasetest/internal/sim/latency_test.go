package sim

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// Realistic latency (docs/altibase.md section 8): START on the next whole second
// of the server clock, STOP on the next one but after at least 0.1 s, SYNC
// on a whole second at least 2 s after it began, START RETRY at once. The
// waits are asserted on the clock arithmetic, not on wall time.

var second0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return second0.Add(d) }

func TestStopWait(t *testing.T) {
	for _, tc := range []struct {
		name string
		now  time.Time
		want time.Duration
	}{
		{"mid_second", at(400 * time.Millisecond), 600 * time.Millisecond},
		{"on_tick", at(0), time.Second},
		{"just_after_tick", at(time.Millisecond), 999 * time.Millisecond},
		{"tick_closer_than_0.1s", at(950 * time.Millisecond), 100 * time.Millisecond},
		{"tick_just_0.1s_away", at(900 * time.Millisecond), 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := stopWait(tc.now)
			if got != tc.want {
				t.Fatalf("stopWait = %v, want %v", got, tc.want)
			}
			if got < 100*time.Millisecond || got > time.Second {
				t.Fatalf("stopWait = %v, outside the measured 0.1-1.0 s", got)
			}
		})
	}
}

func TestSyncWait(t *testing.T) {
	for _, tc := range []struct {
		name         string
		begin, done  time.Time // statement start, end of the (throttled) copy
		want         time.Duration
		wantReturnAt time.Time
	}{
		{"instant_copy_from_tick", at(0), at(0), 2 * time.Second, at(2 * time.Second)},
		{"instant_copy_mid_second", at(300 * time.Millisecond), at(300 * time.Millisecond),
			2700 * time.Millisecond, at(3 * time.Second)},
		{"short_copy", at(300 * time.Millisecond), at(1275 * time.Millisecond), // 51,000 rows at 40,000/s
			1725 * time.Millisecond, at(3 * time.Second)},
		{"copy_past_2s", at(0), at(3400 * time.Millisecond), 600 * time.Millisecond, at(4 * time.Second)},
		{"copy_ends_on_tick_past_2s", at(0), at(3 * time.Second), 0, at(3 * time.Second)},
		{"copy_ends_at_2s_floor_off_tick", at(500 * time.Millisecond), at(2500 * time.Millisecond),
			500 * time.Millisecond, at(3 * time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := syncWait(tc.begin, tc.done)
			if got != tc.want {
				t.Fatalf("syncWait = %v, want %v", got, tc.want)
			}
			end := tc.done.Add(got)
			if !end.Equal(tc.wantReturnAt) {
				t.Fatalf("returns at %v, want %v", end, tc.wantReturnAt)
			}
			if end.Sub(tc.begin) < 2*time.Second || !end.Equal(end.Truncate(time.Second)) {
				t.Fatalf("SYNC of %v does not end on a whole second at least 2 s after it began", end.Sub(tc.begin))
			}
		})
	}
}

// fakeClock is a server clock that only moves when the node sleeps on it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now, c.sleeps = t, nil
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// realisticOnFakeClock is A (Realistic, on a fake clock) and B with R
// between them and rows 0..n-1 in A's T.
func realisticOnFakeClock(t *testing.T, n int, bProps map[string]int64) (*fakeClock, *Session, *Session) {
	t.Helper()
	clk := &fakeClock{now: second0}
	a := testNodeOpts(t, Options{Profile: Realistic(), Now: clk.Now})
	a.sleep = clk.sleep // before the first statement
	b := testNode(t, bProps)
	sa, sb := linkR(t, a, b)
	insertRange(t, sa, "T", 0, n)
	return clk, sa, sb
}

// Each replication statement waits exactly what the server clock says, and
// a failed one returns at once.
func TestRealisticWaitsFollowServerClock(t *testing.T) {
	clk, sa, sb := realisticOnFakeClock(t, 1000, nil)
	check := func(sql string, now time.Time, want []time.Duration) {
		t.Helper()
		if got := clk.slept(); !slices.Equal(got, want) {
			t.Fatalf("%s at %v waited %v, want %v", sql, now.Format("05.000"), got, want)
		}
	}
	step := func(sql string, now time.Time, want ...time.Duration) {
		t.Helper()
		clk.set(now)
		exec(t, sa, "%s", sql)
		check(sql, now, want)
	}
	fails := func(sql string, now time.Time, code altibase.Code) {
		t.Helper()
		clk.set(now)
		wantCode(t, sa, code, "%s", sql)
		check(sql, now, nil)
	}
	step("ALTER REPLICATION R START", at(300*time.Millisecond), 700*time.Millisecond)
	step("ALTER REPLICATION R STOP", at(10950*time.Millisecond), 100*time.Millisecond)
	step("ALTER REPLICATION R START RETRY", at(20300*time.Millisecond)) // at once
	step("ALTER REPLICATION R STOP", at(30000*time.Millisecond), time.Second)
	fails("ALTER REPLICATION R STOP", at(30500*time.Millisecond), altibase.CodeNotStarted)
	exec(t, sb, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	exec(t, sb, "TRUNCATE TABLE T")
	// The fake clock stands still during the copy: the SYNC ends 2 s after
	// it began, on the next whole second.
	step("ALTER REPLICATION R SYNC ONLY", at(40300*time.Millisecond), 2700*time.Millisecond)
	exec(t, sb, "TRUNCATE TABLE T")
	step("ALTER REPLICATION R SYNC", at(50000*time.Millisecond), 2*time.Second)
	if c := count(t, sb, "T"); c != 1000 {
		t.Fatalf("B has %d rows after the SYNC, want 1000", c)
	}
	fails("ALTER REPLICATION R SYNC", at(55300*time.Millisecond), altibase.CodeSenderAlreadyStarted)
	step("ALTER REPLICATION R STOP", at(60300*time.Millisecond), 700*time.Millisecond)
	exec(t, sb, "ALTER SYSTEM SET SIM_SYNC_CONFLICT_MODE = 1") // B holds every key
	fails("ALTER REPLICATION R SYNC", at(70300*time.Millisecond), altibase.CodeSyncFailed)
}

// With the real clock a realistic SYNC of a few rows still takes at least
// 2 s (a lower bound only: a loaded machine can only make it longer).
func TestRealisticSyncTakesAtLeastTwoSeconds(t *testing.T) {
	t.Parallel()
	a := testNodeOpts(t, Options{Profile: Realistic()})
	b := testNode(t, nil)
	sa, _ := linkR(t, a, b)
	insertRange(t, sa, "T", 0, 10)
	begin := time.Now()
	exec(t, sa, "ALTER REPLICATION R SYNC ONLY")
	if d := time.Since(begin); d < 2*time.Second {
		t.Fatalf("SYNC ONLY of 10 rows took %v, want at least 2 s", d)
	}
}
