package framework

import (
	"context"
	"database/sql"
	"testing"
	"time"

	// Registers the "odbc" database/sql driver.
	_ "github.com/alexbrainman/odbc"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/altibase/altibasetest"
)

// RowCount counts the rows of table on a simulated server through a SYSDBA
// session, trying for up to 10 s while the session is briefly taken (a
// hook that just ended frees it a moment later).
func RowCount(t testing.TB, s *altibasetest.Server, table string) int {
	t.Helper()
	db, err := sql.Open("odbc", s.ConnString(true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ReplicationState reads replication name's state on a simulated server
// through aku's own client, failing the test if the object is missing.
func ReplicationState(t testing.TB, s *altibasetest.Server, name string) altibase.ReplicationState {
	t.Helper()
	c, err := altibase.Connect(context.Background(), altibase.Endpoint{Host: s.Host(), Port: s.Port()},
		altibase.Options{Dialect: altibase.DialectSimulator, Password: "manager", RetryCount: 20, RetryDelay: 25 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, ok, err := c.Replication(context.Background(), name)
	if err != nil || !ok {
		t.Fatalf("%s on %s: %+v ok=%v err=%v", name, s.Host(), st, ok, err)
	}
	return st
}
