package sim

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/aku-k8s/aku/altibase"
)

// trio is A=pod-0, B=pod-1, C=pod-2 with T everywhere and the aku-style
// objects R_AB, R_AC, R_BC created on both of their ends.
type trio struct {
	a, b, c    *Node
	sa, sb, sc *Session
}

func newTrio(t *testing.T) *trio {
	t.Helper()
	x := &trio{a: testNode(t, nil), b: testNode(t, nil), c: testNode(t, nil)}
	x.sa, x.sb, x.sc = sys(t, x.a), sys(t, x.b), sys(t, x.c)
	for _, s := range []*Session{x.sa, x.sb, x.sc} {
		createT(t, s)
	}
	createRepl(t, x.sa, "R_AB", x.b)
	createRepl(t, x.sb, "R_AB", x.a)
	createRepl(t, x.sa, "R_AC", x.c)
	createRepl(t, x.sc, "R_AC", x.a)
	createRepl(t, x.sb, "R_BC", x.c)
	createRepl(t, x.sc, "R_BC", x.b)
	return x
}

// meshAB starts A<->B and loads rows on both.
func (x *trio) meshAB(t *testing.T) {
	t.Helper()
	exec(t, x.sa, "ALTER REPLICATION R_AB START")
	exec(t, x.sb, "ALTER REPLICATION R_AB START")
	insertRange(t, x.sa, "T", 0, 1000)
	insertRange(t, x.sb, "T", 5000, 5500)
	exec(t, x.sa, "ALTER REPLICATION R_AB FLUSH ALL")
	exec(t, x.sb, "ALTER REPLICATION R_AB FLUSH ALL")
}

func contents(t *testing.T, s *Session) [][]any {
	t.Helper()
	return exec(t, s, "SELECT * FROM T ORDER BY ID").Rows
}

func flushAll(t *testing.T, pairs ...any) {
	t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		exec(t, pairs[i].(*Session), "ALTER REPLICATION %s FLUSH ALL", pairs[i+1])
	}
}

// Case 30: the documented join order loses rows written on B after A's SYNC.
func TestCase30JoinDocumentedOrderLosesRows(t *testing.T) {
	x := newTrio(t)
	x.meshAB(t)
	exec(t, x.sc, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	exec(t, x.sc, "TRUNCATE TABLE T")
	exec(t, x.sa, "ALTER REPLICATION R_AC SYNC")
	insertRange(t, x.sb, "T", 9000, 9100) // right after the SYNC snapshot
	flushAll(t, x.sb, "R_AB")
	exec(t, x.sc, "ALTER REPLICATION R_AC START")
	exec(t, x.sb, "ALTER REPLICATION R_BC START")
	exec(t, x.sc, "ALTER REPLICATION R_BC START")
	flushAll(t, x.sa, "R_AC", x.sb, "R_BC", x.sb, "R_AB")
	if a, c := count(t, x.sa, "T"), count(t, x.sc, "T"); a != 1600 || c != 1500 {
		t.Fatalf("A has %d rows (want 1600), C has %d (want 1500: B's 100 window rows lost)", a, c)
	}
	if n := count(t, x.sc, "T WHERE ID >= 9000"); n != 0 {
		t.Fatalf("C got %d of B's window rows", n)
	}
	// They stay lost: later traffic does not bring them.
	exec(t, x.sb, "INSERT INTO T VALUES (9999, 'late')")
	flushAll(t, x.sb, "R_BC")
	if n := count(t, x.sc, "T WHERE ID >= 9000"); n != 1 {
		t.Fatalf("C has %d rows >= 9000, want only the late one", n)
	}
}

// Case 31: pinning B's restart point toward C before the SYNC converges.
func TestCase31JoinPinnedOrderConverges(t *testing.T) {
	x := newTrio(t)
	x.meshAB(t)
	exec(t, x.sc, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	exec(t, x.sc, "TRUNCATE TABLE T")
	exec(t, x.sb, "ALTER REPLICATION R_BC START")
	exec(t, x.sb, "ALTER REPLICATION R_BC STOP")
	// Rows B writes before the snapshot reach A and are copied by SYNC ...
	insertRange(t, x.sb, "T", 8000, 8050)
	flushAll(t, x.sb, "R_AB")
	exec(t, x.sa, "ALTER REPLICATION R_AC SYNC")
	// ... rows after it are the window.
	insertRange(t, x.sb, "T", 9000, 9100)
	exec(t, x.sb, "UPDATE T SET V = 'upd' WHERE ID = 5001")
	exec(t, x.sb, "DELETE FROM T WHERE ID = 5002")
	exec(t, x.sc, "ALTER REPLICATION R_AC START")
	exec(t, x.sb, "ALTER REPLICATION R_BC START")
	exec(t, x.sc, "ALTER REPLICATION R_BC START")
	flushAll(t, x.sa, "R_AC", x.sb, "R_BC", x.sb, "R_AB", x.sc, "R_AC", x.sc, "R_BC")
	ca, cb, cc := contents(t, x.sa), contents(t, x.sb), contents(t, x.sc)
	if !reflect.DeepEqual(ca, cb) || !reflect.DeepEqual(ca, cc) {
		t.Fatalf("not converged: A %d rows, B %d, C %d", len(ca), len(cb), len(cc))
	}
	if len(ca) != 1000+500+50+100-1 {
		t.Fatalf("%d rows", len(ca))
	}
	fails := scalar(t, x.sc, "SELECT INSERT_FAILURE_COUNT FROM V$REPRECEIVER WHERE REP_NAME = 'R_BC'").(int64)
	if fails < 50 {
		t.Fatalf("C skipped %d conflicting inserts from B, want >= 50 (rows the SYNC copied)", fails)
	}
}

// Case 32: B starting toward C before the SYNC while B takes writes makes
// the SYNC fail 0x61153 with C partly filled (SIM_SYNC_CONFLICT_MODE = 1 on
// C: by default the SYNC keeps C's rows silently).
func TestCase32NaiveReorderFailsSync(t *testing.T) {
	x := newTrio(t)
	exec(t, x.sc, "ALTER SYSTEM SET SIM_SYNC_CONFLICT_MODE = 1")
	x.meshAB(t)
	insertRange(t, x.sa, "T", 20000, 21000) // rows sorting after B's
	flushAll(t, x.sa, "R_AB")
	exec(t, x.sc, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	exec(t, x.sc, "TRUNCATE TABLE T")
	exec(t, x.sb, "ALTER REPLICATION R_BC START")
	insertRange(t, x.sb, "T", 9000, 9100)
	flushAll(t, x.sb, "R_BC", x.sb, "R_AB")
	wantCode(t, x.sa, altibase.CodeSyncFailed, "ALTER REPLICATION R_AC SYNC")
	a, c := count(t, x.sa, "T"), count(t, x.sc, "T")
	if c == 0 || c >= a {
		t.Fatalf("C has %d of A's %d rows, want partly filled", c, a)
	}
	if n := count(t, x.sc, "T WHERE ID >= 20000"); n != 0 {
		t.Fatalf("C has %d rows past the conflict", n)
	}
}

// Three nodes in a full mesh with writes on all three converge.
func TestMeshOfThreeConverges(t *testing.T) {
	x := newTrio(t)
	starts := []struct {
		s    *Session
		name string
	}{{x.sa, "R_AB"}, {x.sb, "R_AB"}, {x.sa, "R_AC"}, {x.sc, "R_AC"}, {x.sb, "R_BC"}, {x.sc, "R_BC"}}
	for _, st := range starts {
		exec(t, st.s, "ALTER REPLICATION %s START", st.name)
	}
	for i, s := range []*Session{x.sa, x.sb, x.sc} {
		base := (i + 1) * 100000
		insertRange(t, s, "T", base, base+300)
		exec(t, s, "UPDATE T SET V = 'u%d' WHERE ID = %d", i, base+1)
		exec(t, s, "DELETE FROM T WHERE ID = %d", base+2)
	}
	for _, st := range starts {
		exec(t, st.s, "ALTER REPLICATION %s FLUSH ALL", st.name)
	}
	ca, cb, cc := contents(t, x.sa), contents(t, x.sb), contents(t, x.sc)
	if len(ca) != 3*299 || !reflect.DeepEqual(ca, cb) || !reflect.DeepEqual(ca, cc) {
		t.Fatalf("not converged: A %d, B %d, C %d rows", len(ca), len(cb), len(cc))
	}
	if v := scalar(t, x.sc, "SELECT V FROM T WHERE ID = 100001"); v != "u0" {
		t.Fatalf("update not applied on C: %v", v)
	}
	_ = fmt.Sprint
}
