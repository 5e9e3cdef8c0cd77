package altibasetest

import (
	"slices"
	"testing"

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
