package sim

import (
	"context"
	"testing"
)

// FuzzExec feeds arbitrary text to the parser and executor: errors are fine,
// panics are not.
func FuzzExec(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM T WHERE ID = 1 ORDER BY V DESC",
		"INSERT INTO T (ID, V) VALUES (1, 'a''b'), (2, NULL);",
		"UPDATE T SET V = 'x' WHERE ID = 1",
		"DELETE FROM T",
		"CREATE REPLICATION R WITH '127.0.0.1', 1 FROM SYS.T TO SYS.T",
		"ALTER REPLICATION R SYNC PARALLEL 2 TABLE SYS.T PARTITION P1",
		"ALTER REPLICATION R FLUSH ALL WAIT 0",
		"ALTER SESSION SET QUERY_TIMEOUT = 5",
		"CREATE TABLE X (A INTEGER, B CHAR(2), PRIMARY KEY (A)) PARTITION BY RANGE (A) (PARTITION P VALUES DEFAULT)",
		"SIM CUT LINK 'h', 1", "SELECT COUNT(*) FROM V$REPGAP", "\"", "'", "/*", "0x", "SIM",
	} {
		f.Add(s)
	}
	n, err := Open(Options{ReplicationAddr: "127.0.0.1:0"})
	if err != nil {
		f.Fatal(err)
	}
	defer n.Close()
	s, err := n.Login(Login{User: "SYS", Password: "manager"})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.Exec(context.Background(), "CREATE TABLE T (ID INTEGER PRIMARY KEY, V VARCHAR(10))"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		st, err := parse(sql)
		if err != nil {
			return
		}
		switch st.(type) {
		case *alterReplStmt, *simStmt, *alterSystemStmt, *alterSessionStmt:
			return // may wait or change the node for later inputs
		}
		_, _ = s.Exec(context.Background(), sql)
	})
}
