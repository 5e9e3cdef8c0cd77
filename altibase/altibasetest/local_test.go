package altibasetest

import (
	"slices"
	"testing"

	"github.com/jeroenrinzema/psql-wire/pkg/types"

	"github.com/aku-k8s/aku/altibase/altibasetest/internal/sim"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"psqlodbc_connect", "SET DateStyle = 'ISO';SET extra_float_digits = 2;show transaction_isolation",
			[]string{"SET DateStyle = 'ISO'", "SET extra_float_digits = 2", "show transaction_isolation"}},
		{"one", "SELECT 1", []string{"SELECT 1"}},
		{"trailing_semicolons", " SELECT 1 ;; ", []string{"SELECT 1"}},
		{"only_semicolons", ";;", nil},
		{"quoted_semicolon", "INSERT INTO T VALUES (1, 'a;b''c;')", []string{"INSERT INTO T VALUES (1, 'a;b''c;')"}},
		{"quoted_identifier", `SELECT "a;b" FROM T; SELECT 2`, []string{`SELECT "a;b" FROM T`, "SELECT 2"}},
		{"line_comment", "SELECT 1 -- x; y\n; SELECT 2", []string{"SELECT 1 -- x; y", "SELECT 2"}},
		{"block_comment", "SELECT /* ; */ 1; SELECT 2", []string{"SELECT /* ; */ 1", "SELECT 2"}},
		{"unterminated_quote", "SELECT 'a;b", []string{"SELECT 'a;b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := splitStatements(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("splitStatements(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCommandTag(t *testing.T) {
	tests := []struct {
		name string
		res  *sim.Result
		sql  string
		want string
	}{
		{"engine_tag", &sim.Result{Tag: "ALTER"}, "ALTER REPLICATION R START", "ALTER"},
		{"insert_gets_oid", &sim.Result{Tag: "INSERT 1"}, "INSERT INTO T VALUES (1)", "INSERT 0 1"},
		{"insert_kept", &sim.Result{Tag: "INSERT 0 3"}, "INSERT", "INSERT 0 3"},
		{"select_counted", &sim.Result{Columns: []sim.Column{{Name: "A"}}, Rows: [][]any{{1}, {2}}}, "SELECT A FROM T", "SELECT 2"},
		{"from_statement", &sim.Result{}, "create table T (ID INTEGER)", "CREATE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := commandTag(tc.res, tc.sql); got != tc.want {
				t.Errorf("commandTag = %q, want %q", got, tc.want)
			}
		})
	}
}

// Only psqlODBC's own PostgreSQL statements, in the places it sends them,
// and COMMIT/ROLLBACK are answered by the wire layer; anything else goes to
// the engine (which rejects PostgreSQL statements).
func TestLocalAnswersOnlyDriverStatements(t *testing.T) {
	simple := stmtPlace{simple: true, count: 1}
	prefix := stmtPlace{simple: true, index: 0, count: 2} // "BEGIN;<statement>"
	second := stmtPlace{simple: true, index: 1, count: 2}
	extended := stmtPlace{count: 1}
	tests := []struct {
		name      string
		sql       string
		at        stmtPlace
		extConn   bool // the connection has used the extended protocol
		wantLocal bool
	}{
		{"connect_datestyle", "SET DateStyle = 'ISO'", stmtPlace{simple: true, count: 3}, false, true},
		{"connect_float_digits", "SET extra_float_digits = 2", stmtPlace{simple: true, index: 1, count: 3}, false, true},
		{"connect_isolation", "show transaction_isolation", stmtPlace{simple: true, index: 2, count: 3}, false, true},
		{"connect_lo_lookup", "select oid, typbasetype from pg_type where typname = 'lo'", simple, false, true},
		{"begin_prefix", "BEGIN", prefix, false, true},
		{"begin_alone", "BEGIN", simple, false, false},
		{"begin_second", "BEGIN", second, false, false},
		{"begin_alone_extended_conn", "BEGIN", simple, true, true},
		{"begin_through_extended", "BEGIN", extended, true, false},
		{"begin_work", "begin work", prefix, false, false},
		{"start_transaction", "START TRANSACTION", simple, false, false},
		{"commit", "COMMIT", simple, false, true},
		{"commit_work", "commit work", extended, true, true},
		{"rollback", "ROLLBACK", simple, false, true},
		{"end", "END", simple, false, false},
		{"driver_savepoint", "SAVEPOINT _per_query_svp_", stmtPlace{simple: true, count: 3}, true, true},
		{"driver_release", "RELEASE _per_query_svp_", stmtPlace{simple: true, index: 2, count: 3}, true, true},
		{"driver_rollback_to", "ROLLBACK TO _per_query_svp_", simple, true, true},
		{"driver_deallocate", `DEALLOCATE "_PLAN0x5233310"`, simple, true, true},
		{"app_savepoint", "SAVEPOINT a", simple, false, false},
		{"app_release", "RELEASE a", simple, false, false},
		{"app_rollback_to", "ROLLBACK TO SAVEPOINT a", simple, false, false},
		{"app_deallocate", "DEALLOCATE a", simple, false, false},
		{"app_set", "SET x = 1", simple, false, false},
		{"app_set_datestyle", "SET DateStyle = 'SQL'", simple, false, false},
		{"app_show", "SHOW foo", simple, false, false},
		{"app_show_other_setting", "show max_identifier_length", simple, false, false},
		{"show_isolation_through_extended", "show transaction_isolation", extended, true, false},
		{"engine_statement", "SELECT 1 FROM DUAL", simple, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clientConn{tx: types.ServerIdle, extended: tc.extConn}
			if _, got := c.local(tc.sql, tc.at); got != tc.wantLocal {
				t.Fatalf("local(%q, %+v) answered = %v, want %v", tc.sql, tc.at, got, tc.wantLocal)
			}
		})
	}
}
