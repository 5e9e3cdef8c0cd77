package altibasetest

import (
	"strings"

	"github.com/jeroenrinzema/psql-wire/pkg/types"

	"github.com/aku-k8s/aku/altibase/altibasetest/internal/sim"
)

// loTypeQuery is psqlODBC's connect-time lookup of the large-object type.
const loTypeQuery = "select oid, typbasetype from pg_type where typname = 'lo'"

// showValues answer SHOW for the settings psqlODBC asks about.
var showValues = map[string]string{
	"transaction_isolation":       "read committed",
	"standard_conforming_strings": "on",
	"client_encoding":             "UTF8",
	"server_encoding":             "UTF8",
	"datestyle":                   "ISO, MDY",
	"integer_datetimes":           "on",
	"max_identifier_length":       "63",
}

// local answers the PostgreSQL statements psqlODBC sends on its own
// (SET, SHOW, the pg_type lookup, DEALLOCATE) and the transaction statements, which the
// engine never sees: it autocommits, so BEGIN/COMMIT/ROLLBACK only move the
// transaction status PostgreSQL clients expect. ok is false for a statement
// the engine must run.
func (c *clientConn) local(sql string) (res *sim.Result, ok bool) {
	norm := strings.ToLower(strings.Join(strings.Fields(sql), " "))
	tag := func(t string) (*sim.Result, bool) { return &sim.Result{Tag: t}, true }
	switch {
	case norm == "begin" || strings.HasPrefix(norm, "begin ") || strings.HasPrefix(norm, "start transaction"):
		if c.tx == types.ServerIdle {
			c.tx = types.ServerTransactionBlock
		}
		return tag("BEGIN")
	case norm == "commit" || strings.HasPrefix(norm, "commit ") || norm == "end" || strings.HasPrefix(norm, "end "):
		t := "COMMIT"
		if c.tx == types.ServerTransactionFailed {
			t = "ROLLBACK"
		}
		c.tx = types.ServerIdle
		return tag(t)
	case strings.HasPrefix(norm, "rollback to "):
		if c.tx == types.ServerTransactionFailed {
			c.tx = types.ServerTransactionBlock
		}
		return tag("ROLLBACK")
	case norm == "rollback" || strings.HasPrefix(norm, "rollback "):
		c.tx = types.ServerIdle
		return tag("ROLLBACK")
	case strings.HasPrefix(norm, "savepoint "):
		return tag("SAVEPOINT")
	case strings.HasPrefix(norm, "release "):
		return tag("RELEASE")
	case strings.HasPrefix(norm, "deallocate "): // psqlODBC with UseServerSidePrepare=1
		return tag("DEALLOCATE")
	case strings.HasPrefix(norm, "set "):
		return tag("SET")
	case strings.HasPrefix(norm, "show "):
		name := strings.TrimSpace(strings.TrimPrefix(norm, "show "))
		return &sim.Result{
			Columns: []sim.Column{{Name: name, Type: sim.TypeVarchar}},
			Rows:    [][]any{{showValues[name]}},
			Tag:     "SHOW",
		}, true
	case norm == loTypeQuery:
		return &sim.Result{
			Columns: []sim.Column{{Name: "oid", Type: sim.TypeInteger}, {Name: "typbasetype", Type: sim.TypeInteger}},
			Tag:     "SELECT 0",
		}, true
	}
	return nil, false
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
