package sim

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aku-k8s/aku/altibase"
)

// Preconditions and errors of each statement, on a node with T, a table
// without a primary key, R toward a live peer and a normal user APP.
func TestStatementErrors(t *testing.T) {
	_, b, sa, _ := pair(t)
	exec(t, sa, "CREATE TABLE NOPK (ID INTEGER, V VARCHAR(10))")
	exec(t, sa, "CREATE USER APP IDENTIFIED BY app")
	app, err := sa.n.Login(Login{User: "APP", Password: "app"})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	h, p := hostPort(t, b)
	long := strings.Repeat("R", 41)
	tests := []struct {
		name string
		s    *Session
		sql  string
		want altibase.Code
	}{
		{"create_not_sys", app, "CREATE REPLICATION X WITH '10.0.0.1', 1 FROM SYS.T TO SYS.T", altibase.CodeNoPermission},
		{"alter_not_sys", app, "ALTER REPLICATION R START", altibase.CodeNoPermission},
		{"drop_not_sys", app, "DROP REPLICATION R", altibase.CodeNoPermission},
		{"alter_system_not_sys", app, "ALTER SYSTEM SET ADMIN_MODE = 1", altibase.CodeNoPermission},
		{"name_too_long", sa, "CREATE REPLICATION " + long + " WITH '10.0.0.1', 1 FROM SYS.T TO SYS.T", altibase.CodeNameTooLong},
		{"duplicate_name", sa, "CREATE REPLICATION R WITH '10.0.0.1', 1 FROM SYS.T TO SYS.T", altibase.CodeDuplicateName},
		{"duplicate_host", sa, fmt.Sprintf("CREATE REPLICATION X WITH '%s', %d FROM SYS.T TO SYS.T", h, p), altibase.CodeDuplicateHost},
		{"bad_port", sa, "CREATE REPLICATION X WITH '10.0.0.1', 70000 FROM SYS.T TO SYS.T", altibase.CodeInvalidHost},
		{"missing_table", sa, "CREATE REPLICATION X WITH '10.0.0.1', 1 FROM SYS.NOPE TO SYS.NOPE", altibase.CodeReplTableNotFound},
		{"missing_partition", sa, "CREATE REPLICATION X WITH '10.0.0.1', 1 FROM SYS.T PARTITION P9 TO SYS.T PARTITION P9", altibase.CodeReplTableNotFound},
		{"no_pk", sa, "CREATE REPLICATION X WITH '10.0.0.1', 1 FROM SYS.NOPK TO SYS.NOPK", altibase.CodeNoPrimaryKey},
		{"unknown_start", sa, "ALTER REPLICATION NOPE START", altibase.CodeUndefinedReplication},
		{"unknown_sync", sa, "ALTER REPLICATION NOPE SYNC", altibase.CodeUndefinedReplication},
		{"stop_not_started", sa, "ALTER REPLICATION R STOP", altibase.CodeNotStarted},
		{"flush_not_started", sa, "ALTER REPLICATION R FLUSH ALL WAIT 3", altibase.CodeNotStarted},
		{"truncate_replicated", sa, "TRUNCATE TABLE T", altibase.CodeReplicationDDLDisable},
		{"truncate_missing", sa, "TRUNCATE TABLE NOPE", altibase.CodeTableNotFound},
		{"select_missing", sa, "SELECT * FROM NOPE", altibase.CodeTableNotFound},
		{"duplicate_key", sa, "INSERT INTO T VALUES (1, 'a'), (1, 'b')", altibase.CodeUniqueViolation},
		{"unknown_sql", sa, "GRANT ALL TO APP", altibase.CodeSyntaxError},
		{"garbage", sa, "SELEKT 1", altibase.CodeSyntaxError},
		{"trailing_junk", sa, "SELECT 1 FROM DUAL DUAL2 X", altibase.CodeSyntaxError},
		{"empty", sa, "", altibase.CodeSyntaxError},
		{"sync_parallel_zero", sa, "ALTER REPLICATION R SYNC PARALLEL 0", altibase.CodeSyntaxError},
		{"unknown_property", sa, "ALTER SYSTEM SET NO_SUCH_PROPERTY = 1", altibase.CodeSyntaxError},
		{"readonly_property", sa, "ALTER SYSTEM SET REPLICATION_PORT_NO = 1", altibase.CodeSyntaxError},
		{"unknown_column", sa, "SELECT NOPE FROM T", altibase.CodeSyntaxError},
		{"too_long_value", sa, "INSERT INTO T VALUES (2, '" + strings.Repeat("x", 41) + "')", altibase.CodeSyntaxError},
		{"create_user_not_sys", app, "CREATE USER B IDENTIFIED BY b", altibase.CodeNoPermission},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := wantCode(t, tc.s, tc.want, "%s", tc.sql)
			if e.SQLState == "" || strings.HasPrefix(e.Message, "ERR-") {
				t.Fatalf("bad error %+v", e)
			}
		})
	}
}

func TestLoginRules(t *testing.T) {
	n := testNode(t, map[string]int64{"REMOTE_SYSDBA_ENABLE": 0})
	exec(t, sys(t, n), "CREATE USER APP IDENTIFIED BY app")
	tests := []struct {
		name  string
		login Login
		want  altibase.Code
	}{
		{"remote_sysdba_refused", Login{User: "SYS", Password: "manager", SYSDBA: true, Remote: true}, altibase.CodeRemoteSYSDBA},
		{"sysdba_not_sys", Login{User: "APP", Password: "app", SYSDBA: true}, altibase.CodeInvalidPrivileges},
		{"unknown_user", Login{User: "NOBODY", Password: "x"}, altibase.CodeInvalidPassword},
		{"wrong_password", Login{User: "APP", Password: "nope"}, altibase.CodeInvalidPassword},
		{"local_sysdba_ok", Login{User: "SYS", Password: "manager", SYSDBA: true}, 0},
		{"remote_normal_ok", Login{User: "SYS", Password: "manager", Remote: true}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := n.Login(tc.login)
			if tc.want == 0 {
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != tc.want {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// REMOTE_SYSDBA_ENABLE can change at run time.
	exec(t, sys(t, n), "ALTER SYSTEM SET REMOTE_SYSDBA_ENABLE = 1")
	s, err := n.Login(Login{User: "SYS", Password: "manager", SYSDBA: true, Remote: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestSQLSurface(t *testing.T) {
	n := testNode(t, nil)
	s := sys(t, n)
	exec(t, s, `create table sys."Mixed" (id integer primary key, name varchar(20), code char(3), big bigint);`)
	exec(t, s, `INSERT INTO "Mixed" (ID, NAME, CODE, BIG) VALUES (1, 'it''s', 'a', 5000000000), (2, 'b', 'bb', NULL)`)
	exec(t, s, `insert into SYS."Mixed" values (3, 'c', NULL, -7) ;`)
	res := exec(t, s, `SELECT name, CODE, big AS B FROM "Mixed" WHERE ID >= 1 AND ID <> 3 ORDER BY ID DESC`)
	if len(res.Rows) != 2 || res.Rows[1][0] != "it's" || res.Rows[1][1] != "a  " || res.Rows[1][2] != int64(5000000000) {
		t.Fatalf("rows %v", res.Rows)
	}
	if res.Columns[2].Name != "B" || res.Columns[2].Type != TypeBigint || res.Tag != "SELECT 2" {
		t.Fatalf("columns %v tag %q", res.Columns, res.Tag)
	}
	if r := exec(t, s, `UPDATE "Mixed" SET NAME = 'z' WHERE ID = 2`); r.Tag != "UPDATE 1" {
		t.Fatalf("tag %q", r.Tag)
	}
	if r := exec(t, s, `DELETE FROM "Mixed" WHERE NAME = 'z'`); r.Tag != "DELETE 1" {
		t.Fatalf("tag %q", r.Tag)
	}
	if r := exec(t, s, `SELECT 1 FROM DUAL`); r.Rows[0][0] != int32(1) || r.Columns[0].Type != TypeInteger {
		t.Fatalf("dual %v", r.Rows)
	}
	exec(t, s, "-- comment\nSELECT /* inline */ COUNT(*) FROM V$PROPERTY")
	exec(t, s, "DELETE FROM \"Mixed\"")
	if c := scalar(t, s, `SELECT COUNT(*) FROM "Mixed"`); c != int64(0) {
		t.Fatalf("count %v", c)
	}
	exec(t, s, "ALTER SESSION SET REPLICATION = DEFAULT")
	exec(t, s, "ALTER SESSION SET REPLICATION = FALSE")
	exec(t, s, "COMMIT")
	// Partitions: rows go to the partition their key falls in.
	exec(t, s, `CREATE TABLE P (ID INTEGER, V VARCHAR(10), PRIMARY KEY (ID))
		PARTITION BY RANGE (ID) (PARTITION P1 VALUES LESS THAN (100), PARTITION P2 VALUES DEFAULT)`)
	exec(t, s, "INSERT INTO P VALUES (1, 'a'), (150, 'b')")
	if c := count(t, s, "P"); c != 2 {
		t.Fatalf("P has %d", c)
	}
}

// A partition item ships only its partition's rows.
func TestPartitionItem(t *testing.T) {
	a, b := testNode(t, nil), testNode(t, nil)
	sa, sb := sys(t, a), sys(t, b)
	for _, s := range []*Session{sa, sb} {
		exec(t, s, `CREATE TABLE P (ID INTEGER PRIMARY KEY, V VARCHAR(10))
			PARTITION BY RANGE (ID) (PARTITION P1 VALUES LESS THAN (100), PARTITION P2 VALUES DEFAULT)`)
	}
	ha, pa := hostPort(t, a)
	hb, pb := hostPort(t, b)
	exec(t, sa, "CREATE REPLICATION RP WITH '%s', %d FROM SYS.P PARTITION P1 TO SYS.P PARTITION P1", hb, pb)
	exec(t, sb, "CREATE REPLICATION RP WITH '%s', %d FROM SYS.P PARTITION P1 TO SYS.P PARTITION P1", ha, pa)
	exec(t, sa, "INSERT INTO P VALUES (1, 'a'), (150, 'b')")
	exec(t, sa, "ALTER REPLICATION RP SYNC")
	exec(t, sa, "INSERT INTO P VALUES (2, 'a'), (151, 'b')")
	exec(t, sa, "ALTER REPLICATION RP FLUSH ALL")
	if c := count(t, sb, "P"); c != 2 {
		t.Fatalf("B has %d rows, want the 2 of partition P1", c)
	}
	res := exec(t, sa, "SELECT IS_PARTITION, LOCAL_PARTITION_NAME FROM SYSTEM_.SYS_REPL_ITEMS_ WHERE REPLICATION_NAME = 'RP'")
	if res.Rows[0][0] != "Y" || res.Rows[0][1] != "P1" {
		t.Fatalf("items %v", res.Rows)
	}
}

// Items must mirror: a peer object with other tables refuses the handshake.
func TestHandshakeChecksItems(t *testing.T) {
	a, b := testNode(t, nil), testNode(t, nil)
	sa, sb := sys(t, a), sys(t, b)
	createT(t, sa)
	createT(t, sb)
	exec(t, sb, "CREATE TABLE U (ID INTEGER PRIMARY KEY)")
	createRepl(t, sa, "R", b)
	createRepl(t, sb, "R", a, "U")
	wantCode(t, sa, altibase.CodeHandshakeFailed, "ALTER REPLICATION R START")
	wantCode(t, sa, altibase.CodeHandshakeFailed, "ALTER REPLICATION R SYNC")
}

func TestMetaViews(t *testing.T) {
	_, b, sa, sb := started(t)
	h, p := hostPort(t, b)
	res := exec(t, sa, "SELECT * FROM SYSTEM_.SYS_REPLICATIONS_")
	if len(res.Columns) < 10 || res.Columns[0].Name != "REPLICATION_NAME" {
		t.Fatalf("columns %v", res.Columns)
	}
	row := exec(t, sa, "SELECT HOST_COUNT, ITEM_COUNT, LAST_USED_HOST_NO FROM SYSTEM_.SYS_REPLICATIONS_ WHERE REPLICATION_NAME = 'R'").Rows[0]
	hostNo := scalar(t, sa, "SELECT HOST_NO FROM SYSTEM_.SYS_REPL_HOSTS_ WHERE REPLICATION_NAME = 'R'")
	if row[0] != int32(1) || row[1] != int32(1) || int64(row[2].(int32)) != hostNo {
		t.Fatalf("row %v host no %v", row, hostNo)
	}
	hr := exec(t, sa, "SELECT HOST_IP, PORT_NO FROM SYSTEM_.SYS_REPL_HOSTS_ WHERE REPLICATION_NAME = 'R'").Rows[0]
	if hr[0] != h || hr[1] != int32(p) {
		t.Fatalf("host %v", hr)
	}
	sr := exec(t, sa, "SELECT PEER_IP, PEER_PORT, REPL_MODE, START_FLAG FROM V$REPSENDER").Rows[0]
	if sr[0] != h || sr[1] != int32(p) || sr[2] != "LAZY" || sr[3] != int32(0) {
		t.Fatalf("sender %v", sr)
	}
	exec(t, sa, "INSERT INTO T VALUES (1, 'a'), (2, 'b')")
	exec(t, sa, "ALTER REPLICATION R FLUSH")
	exec(t, sb, "DELETE FROM T WHERE ID = 1")
	exec(t, sb, "INSERT INTO T VALUES (3, 'b')")
	exec(t, sa, "UPDATE T SET V = 'x' WHERE ID = 1") // missing on B
	exec(t, sa, "DELETE FROM T WHERE ID = 1")        // missing on B
	exec(t, sa, "UPDATE T SET V = 'y' WHERE ID = 2")
	exec(t, sa, "INSERT INTO T VALUES (3, 'dup')") // exists on B
	exec(t, sa, "ALTER REPLICATION R FLUSH")
	rr := exec(t, sb, `SELECT INSERT_SUCCESS_COUNT, INSERT_FAILURE_COUNT, UPDATE_SUCCESS_COUNT,
		UPDATE_FAILURE_COUNT, DELETE_SUCCESS_COUNT, DELETE_FAILURE_COUNT FROM V$REPRECEIVER`).Rows[0]
	want := []any{int64(2), int64(1), int64(1), int64(1), int64(0), int64(1)}
	for i := range want {
		if rr[i] != want[i] {
			t.Fatalf("receiver counts %v, want %v", rr, want)
		}
	}
	if v := scalar(t, sb, "SELECT V FROM T WHERE ID = 3"); v != "b" {
		t.Fatalf("conflicting insert overwrote B's row: %v", v)
	}
	for _, v := range []string{"V$REPGAP", "V$REPSYNC", "V$PROPERTY", "SYS_REPL_ITEMS_"} {
		exec(t, sa, "SELECT * FROM %s", v)
	}
	if v := scalar(t, sa, "SELECT VALUE1 FROM V$PROPERTY WHERE NAME = 'REPLICATION_PORT_NO'"); v == "0" {
		t.Fatal("REPLICATION_PORT_NO not set from the listener")
	}
}

func TestTruncatePartition(t *testing.T) {
	a, b := testNode(t, nil), testNode(t, nil)
	sa := sys(t, a)
	exec(t, sa, `CREATE TABLE P (ID INTEGER PRIMARY KEY, V VARCHAR(10))
		PARTITION BY RANGE (ID) (PARTITION P1 VALUES LESS THAN (100), PARTITION P2 VALUES DEFAULT)`)
	exec(t, sa, "INSERT INTO P VALUES (1, 'a'), (2, 'b'), (150, 'c')")
	h, p := hostPort(t, b)
	exec(t, sa, "CREATE REPLICATION RP WITH '%s', %d FROM SYS.P PARTITION P1 TO SYS.P PARTITION P1", h, p)
	wantCode(t, sa, altibase.CodeReplicationDDLDisable, "ALTER TABLE SYS.P TRUNCATE PARTITION P1")
	exec(t, sa, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	wantCode(t, sa, altibase.CodeTableNotFound, "ALTER TABLE SYS.P TRUNCATE PARTITION P9")
	exec(t, sa, "ALTER TABLE SYS.P TRUNCATE PARTITION P1")
	if c := count(t, sa, "P"); c != 1 {
		t.Fatalf("%d rows left, want the one in P2", c)
	}
}

// ALTER SESSION SET REPLICATION = FALSE keeps the session's changes local.
func TestSessionReplicationFalse(t *testing.T) {
	_, _, sa, sb := started(t)
	exec(t, sa, "ALTER SESSION SET REPLICATION = FALSE")
	exec(t, sa, "INSERT INTO T VALUES (1, 'local')")
	exec(t, sa, "ALTER SESSION SET REPLICATION = DEFAULT")
	exec(t, sa, "INSERT INTO T VALUES (2, 'shipped')")
	exec(t, sa, "ALTER REPLICATION R FLUSH ALL")
	if c := count(t, sb, "T"); c != 1 {
		t.Fatalf("B has %d rows, want only the replicated one", c)
	}
	wantCode(t, sa, altibase.CodeSyntaxError, "ALTER SESSION SET NO_SUCH_THING = 1")
	wantCode(t, sa, altibase.CodeSyntaxError, "ALTER SESSION SET REPLICATION = 7")
}

// An update moving a row to another partition leaves a partition item's
// target consistent (delete in the old partition, insert in the new).
func TestUpdateAcrossPartitions(t *testing.T) {
	a, b := testNode(t, nil), testNode(t, nil)
	sa, sb := sys(t, a), sys(t, b)
	for _, s := range []*Session{sa, sb} {
		exec(t, s, `CREATE TABLE P (ID INTEGER PRIMARY KEY, K INTEGER, V VARCHAR(10))
			PARTITION BY RANGE (K) (PARTITION P1 VALUES LESS THAN (100), PARTITION P2 VALUES DEFAULT)`)
	}
	ha, pa := hostPort(t, a)
	hb, pb := hostPort(t, b)
	exec(t, sa, "CREATE REPLICATION RP WITH '%s', %d FROM SYS.P PARTITION P1 TO SYS.P PARTITION P1", hb, pb)
	exec(t, sb, "CREATE REPLICATION RP WITH '%s', %d FROM SYS.P PARTITION P1 TO SYS.P PARTITION P1", ha, pa)
	exec(t, sa, "ALTER REPLICATION RP START")
	exec(t, sa, "INSERT INTO P VALUES (1, 5, 'a')")
	exec(t, sa, "UPDATE P SET K = 500 WHERE ID = 1")
	exec(t, sa, "ALTER REPLICATION RP FLUSH ALL")
	if c := count(t, sb, "P"); c != 0 {
		t.Fatalf("B keeps %d rows of partition P1 that moved away", c)
	}
}

func TestSessionsCountedAndClosedSessionRefused(t *testing.T) {
	n := testNode(t, nil)
	s, err := n.Login(Login{User: "SYS", Password: "manager"})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Sessions(); got != 1 {
		t.Fatalf("Sessions() = %d", got)
	}
	s.Close()
	s.Close()
	if got := n.Sessions(); got != 0 {
		t.Fatalf("Sessions() = %d after Close", got)
	}
	wantCode(t, s, altibase.CodeLinkFailure, "SELECT 1 FROM DUAL")
}

func TestCharComparesBlankPadded(t *testing.T) {
	s := sys(t, testNode(t, nil))
	exec(t, s, "CREATE TABLE C (ID CHAR(5) PRIMARY KEY)")
	exec(t, s, "INSERT INTO C VALUES ('ab')")
	if c := count(t, s, "C WHERE ID = 'ab'"); c != 1 {
		t.Fatalf("%d rows match 'ab'", c)
	}
	exec(t, s, "DELETE FROM C WHERE ID = 'ab'")
	if c := count(t, s, "C"); c != 0 {
		t.Fatalf("%d rows left", c)
	}
}

// A receiver skips an update whose before image no longer matches (an
// update conflict) unless REPLICATION_UPDATE_REPLACE = 1.
func TestUpdateConflictChecksBeforeImage(t *testing.T) {
	_, _, sa, sb := started(t)
	exec(t, sa, "INSERT INTO T VALUES (1, 'a'), (2, 'a')")
	exec(t, sa, "ALTER REPLICATION R FLUSH")
	exec(t, sb, "UPDATE T SET V = 'b-local' WHERE ID = 1")
	exec(t, sa, "UPDATE T SET V = 'from-a' WHERE ID = 1")
	exec(t, sa, "ALTER REPLICATION R FLUSH")
	if v := scalar(t, sb, "SELECT V FROM T WHERE ID = 1"); v != "b-local" {
		t.Fatalf("conflicting update applied: %v", v)
	}
	if f := scalar(t, sb, "SELECT UPDATE_FAILURE_COUNT FROM V$REPRECEIVER"); f != int64(1) {
		t.Fatalf("UPDATE_FAILURE_COUNT %v", f)
	}
	exec(t, sb, "ALTER SYSTEM SET REPLICATION_UPDATE_REPLACE = 1")
	exec(t, sb, "UPDATE T SET V = 'b-local' WHERE ID = 2")
	exec(t, sa, "UPDATE T SET V = 'from-a' WHERE ID = 2")
	exec(t, sa, "ALTER REPLICATION R FLUSH")
	if v := scalar(t, sb, "SELECT V FROM T WHERE ID = 2"); v != "from-a" {
		t.Fatalf("update with REPLICATION_UPDATE_REPLACE = 1 not applied: %v", v)
	}
}

func TestReplicationMaxCount(t *testing.T) {
	s := sys(t, testNode(t, map[string]int64{"REPLICATION_MAX_COUNT": 1}))
	createT(t, s)
	exec(t, s, "CREATE REPLICATION R1 WITH '10.0.0.1', 1 FROM SYS.T TO SYS.T")
	wantCode(t, s, altibase.CodeMaxReplications, "CREATE REPLICATION R2 WITH '10.0.0.2', 1 FROM SYS.T TO SYS.T")
	exec(t, s, "DROP REPLICATION R1")
	exec(t, s, "CREATE REPLICATION R2 WITH '10.0.0.2', 1 FROM SYS.T TO SYS.T")
}

func TestWhereOperators(t *testing.T) {
	s := sys(t, testNode(t, nil))
	createT(t, s)
	insertRange(t, s, "T", 1, 11)
	exec(t, s, "INSERT INTO T VALUES (11, NULL)")
	for _, tc := range []struct {
		where string
		want  int64
	}{
		{"ID = 3", 1}, {"ID <> 3", 10}, {"ID != 3", 10}, {"ID < 3", 2}, {"ID <= 3", 3},
		{"ID > 8", 3}, {"ID >= 8", 4}, {"ID > 2 AND ID < 5", 2}, {"V = 'v5'", 1},
		{"ID = '4'", 1}, {"V = NULL", 0}, {"V > 'v8'", 1}, {"ID = -1", 0},
	} {
		if got := count(t, s, "T WHERE "+tc.where); got != tc.want {
			t.Errorf("WHERE %s: %d rows, want %d", tc.where, got, tc.want)
		}
	}
}
