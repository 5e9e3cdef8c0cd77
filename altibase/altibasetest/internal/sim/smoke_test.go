package sim

import "testing"

func TestSmoke(t *testing.T) {
	_, _, sa, sb := pair(t)
	if st, x := state(t, sa, "R"); st != 0 || x != -1 {
		t.Fatalf("state %d %d", st, x)
	}
	insertRange(t, sa, "T", 0, 10)
	exec(t, sa, "ALTER REPLICATION R START")
	insertRange(t, sa, "T", 10, 30)
	exec(t, sa, "ALTER REPLICATION R FLUSH ALL")
	if c := count(t, sb, "T"); c != 20 {
		t.Fatalf("B has %d rows, want 20", c)
	}
}
