package sim

import (
	"context"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

func gap(t *testing.T, s *Session, name string) int64 {
	t.Helper()
	return scalar(t, s, "SELECT REP_GAP FROM V$REPGAP WHERE REP_NAME = '%s'", name).(int64)
}

func TestStalledSenderLeavesGapThatFlushDrains(t *testing.T) {
	_, _, sa, sb := started(t)
	exec(t, sa, "SIM STALL SENDER R")
	insertRange(t, sa, "T", 0, 100)
	if g := gap(t, sa, "R"); g != 100 {
		t.Fatalf("REP_GAP %d, want 100", g)
	}
	wantCode(t, sa, altibase.CodeFlushTimeout, "ALTER REPLICATION R FLUSH WAIT 0")
	if c := count(t, sb, "T"); c != 0 {
		t.Fatalf("stalled sender shipped %d rows", c)
	}
	if st, ne, ok := senderRow(t, sa, "R"); !ok || st != 1 || ne != 0 {
		t.Fatalf("stalled sender V$REPSENDER %v %d %d", ok, st, ne)
	}
	exec(t, sa, "SIM RESUME SENDER R")
	exec(t, sa, "ALTER REPLICATION R FLUSH")
	if g := gap(t, sa, "R"); g != 0 {
		t.Fatalf("REP_GAP %d after FLUSH", g)
	}
	if c := count(t, sb, "T"); c != 100 {
		t.Fatalf("B has %d rows", c)
	}
}

func TestCutLinkAndHeal(t *testing.T) {
	_, b, sa, sb := started(t)
	h, p := hostPort(t, b)
	exec(t, sa, "SIM CUT LINK '%s', %d", h, p)
	eventually(t, "sender notices the cut", func() bool {
		st, ne, ok := senderRow(t, sa, "R")
		return ok && st == 0 && ne == 1
	})
	exec(t, sa, "INSERT INTO T VALUES (1, 'x')")
	wantCode(t, sa, altibase.CodeFlushTimeout, "ALTER REPLICATION R FLUSH ALL WAIT 0")
	exec(t, sa, "ALTER REPLICATION R STOP")
	wantCode(t, sa, altibase.CodeHandshakeFailed, "ALTER REPLICATION R START")
	exec(t, sa, "ALTER REPLICATION R START RETRY")
	exec(t, sa, "SIM HEAL LINK '%s', %d", h, p)
	exec(t, sa, "ALTER REPLICATION R FLUSH ALL")
	if c := count(t, sb, "T"); c != 1 {
		t.Fatalf("B has %d rows", c)
	}
}

func TestDelayAndFailNext(t *testing.T) {
	n := testNode(t, nil)
	s := sys(t, n)
	exec(t, s, "SIM FAIL NEXT 0x6100D")
	e := wantCode(t, s, altibase.CodeHandshakeFailed, "SELECT 1 FROM DUAL")
	if e.SQLState != "HY000" {
		t.Fatalf("state %s", e.SQLState)
	}
	exec(t, s, "SELECT 1 FROM DUAL")
	exec(t, s, "SIM DELAY 300")
	exec(t, s, "ALTER SESSION SET QUERY_TIMEOUT = 1")
	begin := time.Now()
	exec(t, s, "SELECT 1 FROM DUAL")
	if time.Since(begin) < 250*time.Millisecond {
		t.Fatal("SIM DELAY not applied")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Exec(ctx, "SELECT 1 FROM DUAL"); err == nil {
		t.Fatal("delayed statement not cancelled")
	}
	exec(t, s, "SIM DELAY 0")
}

func TestPeerKilledAndRestartedSenderReconnects(t *testing.T) {
	dir := t.TempDir()
	a := testNode(t, nil)
	b := testNodeOpts(t, Options{DataDir: dir})
	sa, _ := linkR(t, a, b)
	exec(t, sa, "ALTER REPLICATION R START")
	insertRange(t, sa, "T", 0, 10)
	exec(t, sa, "ALTER REPLICATION R FLUSH")
	addr := b.ReplicationAddr()
	b.Kill()
	eventually(t, "sender sees the peer down", func() bool {
		st, ne, ok := senderRow(t, sa, "R")
		return ok && st == 0 && ne == 1
	})
	insertRange(t, sa, "T", 10, 20)
	b2 := testNodeOpts(t, Options{DataDir: dir, ReplicationAddr: addr})
	exec(t, sa, "ALTER REPLICATION R FLUSH ALL")
	if c := count(t, sys(t, b2), "T"); c != 20 {
		t.Fatalf("B has %d rows", c)
	}
}

func TestFailAndDelayOnPrefix(t *testing.T) {
	_, _, sa, _ := pair(t)
	exec(t, sa, "SIM FAIL NEXT 0x6100D ON 'alter replication r start'")
	exec(t, sa, "SELECT 1 FROM DUAL") // not matched: runs
	e := wantCode(t, sa, altibase.CodeHandshakeFailed, "ALTER  REPLICATION R   START")
	if e.Message != "[Sender] Failed to handshake with the peer server (Handshake Process Error)" {
		t.Fatal(e.Message)
	}
	exec(t, sa, "ALTER REPLICATION R START") // fired once
	exec(t, sa, "SIM DELAY 300 ON 'SELECT COUNT'")
	begin := time.Now()
	exec(t, sa, "SELECT 1 FROM DUAL")
	if time.Since(begin) > 250*time.Millisecond {
		t.Log("unmatched statement slow (machine load?)")
	}
	begin = time.Now()
	exec(t, sa, "SELECT COUNT(*) FROM T")
	if time.Since(begin) < 250*time.Millisecond {
		t.Fatal("matched statement not delayed")
	}
	exec(t, sa, "SIM DELAY 0 ON 'SELECT COUNT'")
}

// With SenderSleepsAfterLoss (the realistic profile), a sender that lost
// its peer sleeps REPLICATION_SENDER_SLEEP_TIMEOUT seconds: it does not
// come back by itself when the peer does, but STOP and START wake it.
func TestSenderSleepsAfterLoss(t *testing.T) {
	a := testNodeOpts(t, Options{Profile: Profile{SenderSleepsAfterLoss: true},
		Properties: map[string]int64{propSenderSleepTimeout: 3600}})
	b := testNode(t, nil)
	sa, sb := sys(t, a), sys(t, b)
	createT(t, sa)
	createT(t, sb)
	createRepl(t, sa, "R", b)
	createRepl(t, sb, "R", a)
	exec(t, sa, "ALTER REPLICATION R START")
	h, p := hostPort(t, b)
	exec(t, sa, "SIM CUT LINK '%s', %d", h, p)
	eventually(t, "sender notices the cut", func() bool {
		st, ne, ok := senderRow(t, sa, "R")
		return ok && st == 0 && ne == 1
	})
	exec(t, sa, "SIM HEAL LINK '%s', %d", h, p)
	exec(t, sa, "INSERT INTO T VALUES (1, 'x')")
	// Without the sleep it reconnects within SIM_SENDER_RETRY_MSEC.
	time.Sleep(500 * time.Millisecond)
	if st, ne, ok := senderRow(t, sa, "R"); !ok || st != 0 || ne != 1 {
		t.Fatalf("sleeping sender V$REPSENDER %v %d %d, want a row with STATUS 0, NET_ERROR_FLAG 1", ok, st, ne)
	}
	wantCode(t, sa, altibase.CodeFlushTimeout, "ALTER REPLICATION R FLUSH ALL WAIT 0")
	restartAndDrain(t, sa, sb, 1)
}

// restartAndDrain STOPs and STARTs R's sender on sa and checks that
// everything arrives: sb's T holds want rows.
func restartAndDrain(t *testing.T, sa, sb *Session, want int64) {
	t.Helper()
	exec(t, sa, "ALTER REPLICATION R STOP")
	exec(t, sa, "ALTER REPLICATION R START")
	exec(t, sa, "ALTER REPLICATION R FLUSH ALL")
	if c := count(t, sb, "T"); c != want {
		t.Fatalf("B has %d rows, want %d", c, want)
	}
}

// DROP REPLICATION on the receiving node stops its receiver (docs/altibase.md
// section 2): nothing more the peer's sender ships is applied, and it cannot
// connect again until the object exists there; then the sender, stopped and
// started, replays from its restart point what it could not deliver. aku's
// join detaches this way instead of waiting for a STOP's clock tick.
func TestDropStopsTheReceiverAndTheSenderReplaysLater(t *testing.T) {
	a, _, sa, sb := started(t)
	insertRange(t, sa, "T", 0, 10)
	exec(t, sa, "ALTER REPLICATION R FLUSH ALL")
	exec(t, sb, "DROP REPLICATION R")
	insertRange(t, sa, "T", 10, 30)
	eventually(t, "the sender loses its peer", func() bool {
		st, ne, ok := senderRow(t, sa, "R")
		return ok && st == 0 && ne == 1
	})
	wantCode(t, sa, altibase.CodeFlushTimeout, "ALTER REPLICATION R FLUSH ALL WAIT 0")
	if c := count(t, sb, "T"); c != 10 {
		t.Fatalf("B has %d rows after the DROP, want the 10 sent before", c)
	}
	createRepl(t, sb, "R", a)
	restartAndDrain(t, sa, sb, 30)
}
