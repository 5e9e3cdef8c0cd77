package altibasetest

import (
	"strings"

	"github.com/jeroenrinzema/psql-wire/pkg/types"

	"github.com/aku-k8s/aku/altibase/altibasetest/internal/sim"
)

// The statements psqlODBC (13.x, Debian's odbc-postgresql) sends on its own
// through database/sql and alexbrainman/odbc, as logged by the simulator
// (lower case, single spaces). They are PostgreSQL's, not Altibase's, so the
// wire layer answers them itself; the same text from an application is
// answered too, since it cannot be told apart. Every other SET, SHOW, BEGIN,
// START TRANSACTION, SAVEPOINT, RELEASE, DEALLOCATE or END goes to the
// engine, which rejects it as a real Altibase server would (0x31001).
//
// At every connect, one simple query and then the large-object lookup:
//
//	SET DateStyle = 'ISO';SET extra_float_digits = 2;show transaction_isolation
//	select oid, typbasetype from pg_type where typname = 'lo'
//
// In manual-commit mode (database/sql's Begin), "BEGIN;" in front of the
// transaction's first statement, in the same simple query, and COMMIT or
// ROLLBACK at the end. With UseServerSidePrepare=1 (not what ConnString or
// aku use) application statements come through the extended protocol and
// the driver adds, as simple queries, a lone "BEGIN", "SAVEPOINT
// _per_query_svp_;DEALLOCATE "_PLAN0x...";RELEASE _per_query_svp_" and
// DEALLOCATEs of its own "_PLAN..." statements; "ROLLBACK TO
// _per_query_svp_" is its per-statement rollback (in the driver, not seen
// with Protocol=7.4-1, which rolls the whole transaction back).
const (
	setDateStyle         = "set datestyle = 'iso'"
	setExtraFloatDigits  = "set extra_float_digits = 2"
	showTxIsolation      = "show transaction_isolation"
	loTypeQuery          = "select oid, typbasetype from pg_type where typname = 'lo'"
	driverSavepoint      = "savepoint _per_query_svp_"
	driverRelease        = "release _per_query_svp_"
	driverRollbackTo     = "rollback to _per_query_svp_"
	driverDeallocateHead = `deallocate "_plan`
)

// stmtPlace is where a statement came from: the query protocol and its
// place among the statements of one simple query.
type stmtPlace struct {
	simple bool // simple query protocol
	index  int  // position in the query's statements
	count  int  // number of statements in the query
}

// local answers psqlODBC's own statements (above) and COMMIT/ROLLBACK, which
// the engine never sees: it autocommits, so BEGIN/COMMIT/ROLLBACK only move
// the transaction status PostgreSQL clients expect. ok is false for a
// statement the engine must run (or reject).
func (c *clientConn) local(sql string, at stmtPlace) (res *sim.Result, ok bool) {
	norm := strings.ToLower(strings.Join(strings.Fields(sql), " "))
	tag := func(t string) (*sim.Result, bool) { return &sim.Result{Tag: t}, true }
	// COMMIT [WORK] and ROLLBACK [WORK] are Altibase statements too (no-ops
	// under autocommit), from the driver or the application.
	switch norm {
	case "commit", "commit work":
		t := "COMMIT"
		if c.tx == types.ServerTransactionFailed {
			t = "ROLLBACK"
		}
		c.tx = types.ServerIdle
		return tag(t)
	case "rollback", "rollback work":
		c.tx = types.ServerIdle
		return tag("ROLLBACK")
	}
	if !at.simple { // the application's own statements under UseServerSidePrepare=1
		return nil, false
	}
	switch {
	case norm == "begin" && c.driverBegin(at):
		if c.tx == types.ServerIdle {
			c.tx = types.ServerTransactionBlock
		}
		return tag("BEGIN")
	case norm == setDateStyle || norm == setExtraFloatDigits:
		return tag("SET")
	case norm == showTxIsolation:
		return &sim.Result{
			Columns: []sim.Column{{Name: "transaction_isolation", Type: sim.TypeVarchar}},
			Rows:    [][]any{{"read committed"}},
			Tag:     "SHOW",
		}, true
	case norm == loTypeQuery:
		return &sim.Result{
			Columns: []sim.Column{{Name: "oid", Type: sim.TypeInteger}, {Name: "typbasetype", Type: sim.TypeInteger}},
			Tag:     "SELECT 0",
		}, true
	case norm == driverSavepoint:
		return tag("SAVEPOINT")
	case norm == driverRelease:
		return tag("RELEASE")
	case norm == driverRollbackTo:
		if c.tx == types.ServerTransactionFailed {
			c.tx = types.ServerTransactionBlock
		}
		return tag("ROLLBACK")
	case strings.HasPrefix(norm, driverDeallocateHead):
		return tag("DEALLOCATE")
	}
	return nil, false
}

// driverBegin reports whether a BEGIN at this place is psqlODBC's: the
// "BEGIN;" it puts in front of a transaction's first statement, or, on a
// connection that uses the extended protocol for its statements, the lone
// BEGIN it sends before one. A lone BEGIN on a simple-protocol connection
// is the application's.
func (c *clientConn) driverBegin(at stmtPlace) bool {
	return at.index == 0 && at.count > 1 || at.count == 1 && c.extended
}

// splitStatements splits a query on semicolons outside quotes and comments
// and drops empty statements.
func splitStatements(q string) []string {
	var out []string
	start := 0
	emit := func(end int) {
		if s := strings.TrimSpace(q[start:end]); s != "" {
			out = append(out, s)
		}
	}
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '\'', '"':
			quote := q[i]
			for i++; i < len(q); i++ {
				if q[i] == quote {
					if i+1 < len(q) && q[i+1] == quote { // doubled quote
						i++
						continue
					}
					break
				}
			}
		case '-':
			if i+1 < len(q) && q[i+1] == '-' {
				for i < len(q) && q[i] != '\n' {
					i++
				}
			}
		case '/':
			if i+1 < len(q) && q[i+1] == '*' {
				end := strings.Index(q[i+2:], "*/")
				if end < 0 {
					i = len(q)
				} else {
					i += end + 3
				}
			}
		case ';':
			emit(i)
			start = i + 1
		}
	}
	if start < len(q) {
		emit(len(q))
	}
	return out
}
