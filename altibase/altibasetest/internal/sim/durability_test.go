package sim

import (
	"testing"
)

// Kill + Open on the same DataDir keeps rows, unsent changes and XSN, and
// auto-starts replications left started.
func TestKillKeepsUnsentChangesAndXSN(t *testing.T) {
	dir := t.TempDir()
	b := testNode(t, nil)
	a := testNodeOpts(t, Options{DataDir: dir})
	sa, sb := linkR(t, a, b)
	exec(t, sa, "ALTER REPLICATION R START")
	insertRange(t, sa, "T", 0, 50)
	exec(t, sa, "ALTER REPLICATION R FLUSH")
	_, xsn := state(t, sa, "R")
	a.StallSender("R")
	insertRange(t, sa, "T", 50, 80)
	exec(t, sa, "UPDATE T SET V = 'changed' WHERE ID = 3")
	exec(t, sa, "DELETE FROM T WHERE ID = 4")
	if g := gap(t, sa, "R"); g != 32 {
		t.Fatalf("gap %d before kill", g)
	}
	addr := a.ReplicationAddr()
	a.Kill()
	if c := count(t, sb, "T"); c != 50 {
		t.Fatalf("B has %d rows before A restarts", c)
	}

	// First without auto-start, to read the stored state before a sender
	// can move it.
	still := testNodeOpts(t, Options{DataDir: dir, ReplicationAddr: addr,
		Properties: map[string]int64{"REPLICATION_SENDER_AUTO_START": 0}})
	ss := sys(t, still)
	if st, x := state(t, ss, "R"); st != 1 || x != xsn {
		t.Fatalf("after restart: state %d, XSN %d; want 1, %d", st, x, xsn)
	}
	if g := count(t, ss, "V$REPSENDER"); g != 0 {
		t.Fatal("sender started with REPLICATION_SENDER_AUTO_START = 0")
	}
	ss.Close()
	still.Kill()

	a2 := testNodeOpts(t, Options{DataDir: dir, ReplicationAddr: addr})
	sa2 := sys(t, a2)
	if st, x := state(t, sa2, "R"); st != 1 || x < xsn {
		t.Fatalf("after auto-start: state %d, XSN %d (was %d)", st, x, xsn)
	}
	if c := count(t, sa2, "T"); c != 79 {
		t.Fatalf("A has %d rows after restart", c)
	}
	exec(t, sa2, "ALTER REPLICATION R FLUSH ALL")
	if c := count(t, sb, "T"); c != 79 {
		t.Fatalf("B has %d rows after A's restart and flush", c)
	}
	if v := scalar(t, sb, "SELECT V FROM T WHERE ID = 3"); v != "changed" {
		t.Fatalf("update lost: %v", v)
	}
	if _, x := state(t, sa2, "R"); x <= xsn {
		t.Fatalf("XSN did not move forward: %d", x)
	}
}

// A clean Close keeps state too; a stopped object stays stopped and keeps
// its XSN; a reset one stays -1; properties set by ALTER SYSTEM do not persist.
func TestCloseAndReopen(t *testing.T) {
	dir := t.TempDir()
	b := testNode(t, nil)
	a := testNodeOpts(t, Options{DataDir: dir})
	sa, _ := linkR(t, a, b)
	exec(t, sa, "CREATE TABLE U (ID INTEGER PRIMARY KEY)")
	createRepl(t, sa, "R2", a, "U")
	exec(t, sa, "ALTER REPLICATION R START")
	exec(t, sa, "ALTER REPLICATION R STOP")
	_, xsn := state(t, sa, "R")
	exec(t, sa, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	exec(t, sa, "CREATE USER APP IDENTIFIED BY secret")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a2 := testNodeOpts(t, Options{DataDir: dir})
	sa2 := sys(t, a2)
	if st, x := state(t, sa2, "R"); st != 0 || x != xsn {
		t.Fatalf("R: %d %d", st, x)
	}
	if st, x := state(t, sa2, "R2"); st != 0 || x != -1 {
		t.Fatalf("R2: %d %d", st, x)
	}
	if _, _, ok := senderRow(t, sa2, "R"); ok {
		t.Fatal("stopped object auto-started")
	}
	if v := scalar(t, sa2, "SELECT VALUE1 FROM V$PROPERTY WHERE NAME = 'REPLICATION_DDL_ENABLE'"); v != "0" {
		t.Fatalf("REPLICATION_DDL_ENABLE %v after restart", v)
	}
	if _, err := a2.Login(Login{User: "app", Password: "SECRET"}); err != nil {
		t.Fatalf("created user lost: %v", err)
	}
}

// TRUNCATE TABLE and partition truncation are durable too.
func TestTruncateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	n := testNodeOpts(t, Options{DataDir: dir})
	s := sys(t, n)
	createT(t, s)
	exec(t, s, `CREATE TABLE P (ID INTEGER PRIMARY KEY)
		PARTITION BY RANGE (ID) (PARTITION P1 VALUES LESS THAN (10), PARTITION P2 VALUES DEFAULT)`)
	insertRange(t, s, "T", 0, 10)
	exec(t, s, "INSERT INTO P VALUES (1), (20)")
	exec(t, s, "TRUNCATE TABLE T")
	exec(t, s, "ALTER TABLE P TRUNCATE PARTITION P1")
	exec(t, s, "INSERT INTO T VALUES (100, 'after')")
	n.Kill()
	s2 := sys(t, testNodeOpts(t, Options{DataDir: dir}))
	if c := count(t, s2, "T"); c != 1 {
		t.Fatalf("T has %d rows after restart", c)
	}
	if c := count(t, s2, "P"); c != 1 {
		t.Fatalf("P has %d rows after restart", c)
	}
}
