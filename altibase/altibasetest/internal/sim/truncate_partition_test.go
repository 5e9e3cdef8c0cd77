package sim

import (
	"context"
	"testing"
)

func TestTruncatePartitionKeepsOtherPartitions(t *testing.T) {
	n, err := Open(Options{Name: "a", ReplicationAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	s, err := n.Login(Login{User: "SYS", Password: "manager", SYSDBA: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE T3 (ID INTEGER, V VARCHAR(10), PRIMARY KEY (ID)) PARTITION BY RANGE (ID) (PARTITION P1 VALUES LESS THAN (100), PARTITION P2 VALUES DEFAULT)",
		"INSERT INTO T3 VALUES (1, 'a'), (2, 'b'), (150, 'c')",
		"ALTER TABLE SYS.T3 TRUNCATE PARTITION P1",
	} {
		if _, err := s.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	res, err := s.Exec(ctx, "SELECT ID FROM T3 ORDER BY ID")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0][0] != int32(150) {
		t.Errorf("rows after truncating P1 = %v, want only 150", res.Rows)
	}
	if _, err := s.Exec(ctx, "ALTER TABLE T3 TRUNCATE PARTITION NOPE"); err == nil {
		t.Error("unknown partition accepted")
	}
}
