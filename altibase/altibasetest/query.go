package altibasetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	psqlerr "github.com/jeroenrinzema/psql-wire/errors"
	"github.com/jeroenrinzema/psql-wire/pkg/types"

	"github.com/aku-k8s/aku/altibase/altibasetest/internal/sim"
)

// parse runs the statements of a query and returns their results as
// psql-wire statements. The statements run here, not when psql-wire
// executes them, because a PostgreSQL result announces its columns before
// its rows and only the engine knows the columns of a statement.
//
// Simple query protocol: one query may hold several statements
// (psqlODBC sends "SET ...;SET ...;show transaction_isolation"); they run in
// order and the first error ends the query, as in PostgreSQL.
func (s *Server) parse(ctx context.Context, q wire.Query) (wire.PreparedStatements, error) {
	c := connFrom(ctx)
	if c == nil {
		return nil, errors.New("altibasetest: query on an unauthenticated connection")
	}
	c.markBusy()
	stmts := splitStatements(q.Query)
	if !q.SimpleQuery {
		return c.parseExtended(ctx, q, stmts)
	}
	var out wire.PreparedStatements
	for i, sql := range stmts {
		res, err := c.run(ctx, sql, stmtPlace{simple: true, index: i, count: len(stmts)})
		if err != nil {
			out = append(out, wire.NewStatement(func(context.Context, wire.DataWriter, []wire.Parameter) error {
				return wireError(err, psqlerr.LevelError)
			}))
			break
		}
		out = append(out, resultStatement(res, sql))
	}
	if len(out) == 0 { // only semicolons or comments
		out = append(out, resultStatement(&sim.Result{}, ""))
	}
	return out, nil
}

// parseExtended serves the extended query protocol (psqlODBC with
// UseServerSidePrepare=1), for statements without parameters: the statement
// runs at Parse, its result is sent by the first Execute, and later
// Executes of the same prepared statement run it again.
func (c *clientConn) parseExtended(ctx context.Context, q wire.Query, stmts []string) (wire.PreparedStatements, error) {
	if len(stmts) != 1 {
		return nil, wire.NewErrMultipleCommandsStatements()
	}
	sql := stmts[0]
	if len(q.ParameterOIDs) > 0 || strings.Contains(sql, "$1") {
		return nil, wireError(&pgError{codes.FeatureNotSupported,
			"the Altibase simulator does not take bound parameters; connect with UseServerSidePrepare=0"}, psqlerr.LevelError)
	}
	c.extended = true
	at := stmtPlace{count: 1}
	res, err := c.run(ctx, sql, at)
	if err != nil {
		return nil, wireError(err, psqlerr.LevelError)
	}
	first := true
	fn := func(ctx context.Context, w wire.DataWriter, _ []wire.Parameter) error {
		r := res
		if !first {
			var err error
			if r, err = c.run(ctx, sql, at); err != nil {
				return wireError(err, psqlerr.LevelError)
			}
		}
		first = false
		return writeResult(w, r, sql)
	}
	return wire.Prepared(wire.NewStatement(fn, wire.WithColumns(columnsOf(res)))), nil
}

// run executes one statement: locally if it is one of the PostgreSQL
// statements psqlODBC sends on its own (or COMMIT/ROLLBACK), else in the
// engine, which rejects any other PostgreSQL statement (0x31001).
func (c *clientConn) run(ctx context.Context, sql string, at stmtPlace) (*sim.Result, error) {
	c.srv.logf("connection %d: %s", c.pid, sql)
	if res, ok := c.local(sql, at); ok {
		return res, nil
	}
	if c.tx == types.ServerTransactionFailed {
		return nil, &pgError{codes.InFailedSQLTransaction,
			"current transaction is aborted, commands ignored until end of transaction block"}
	}
	sess, sctx, cancel, ok := c.begin(ctx)
	if !ok {
		return nil, net.ErrClosed
	}
	var res *sim.Result
	var err error
	if h := c.srv.hook.Load(); h != nil {
		err = (*h)(sctx, sql)
	}
	if err == nil {
		res, err = sess.Exec(sctx, sql)
	}
	cancel()
	c.end()
	if err != nil {
		c.srv.logf("connection %d: error: %v", c.pid, err)
		if c.tx == types.ServerTransactionBlock {
			c.tx = types.ServerTransactionFailed
		}
		return nil, err
	}
	if res == nil {
		res = &sim.Result{}
	}
	return res, nil
}

func resultStatement(res *sim.Result, sql string) *wire.PreparedStatement {
	return wire.NewStatement(func(_ context.Context, w wire.DataWriter, _ []wire.Parameter) error {
		return writeResult(w, res, sql)
	}, wire.WithColumns(columnsOf(res)))
}

func writeResult(w wire.DataWriter, res *sim.Result, sql string) error {
	if len(res.Columns) > 0 {
		for _, row := range res.Rows {
			if err := w.Row(rowValues(res.Columns, row)); err != nil {
				return err
			}
		}
	}
	return w.Complete(commandTag(res, sql))
}

// columnsOf maps engine column types to PostgreSQL types: INTEGER int4,
// BIGINT int8, VARCHAR and CHAR text, DATE timestamp. Text, not varchar:
// psqlODBC reports a varchar of unknown length as 255 characters wide, and
// alexbrainman/odbc binds a buffer that size, which a longer value
// overruns (it panics); text is a long varchar, read with SQLGetData.
func columnsOf(res *sim.Result) wire.Columns {
	cols := make(wire.Columns, len(res.Columns))
	for i, col := range res.Columns {
		cols[i] = wire.Column{Name: col.Name, AttrNo: int16(i + 1)}
		switch col.Type {
		case sim.TypeInteger:
			cols[i].Oid, cols[i].Width = pgtype.Int4OID, 4
		case sim.TypeBigint:
			cols[i].Oid, cols[i].Width = pgtype.Int8OID, 8
		case sim.TypeDate:
			cols[i].Oid, cols[i].Width = pgtype.TimestampOID, 8
		default:
			cols[i].Oid, cols[i].Width = pgtype.TextOID, -1
		}
	}
	return cols
}

// rowValues fits a row to its columns: missing values are NULL, and text
// columns get text.
func rowValues(cols []sim.Column, row []any) []any {
	out := make([]any, len(cols))
	for i, col := range cols {
		if i >= len(row) || row[i] == nil {
			continue
		}
		v := row[i]
		if col.Type == sim.TypeVarchar || col.Type == sim.TypeChar {
			if _, ok := v.(string); !ok {
				v = fmt.Sprint(v)
			}
		}
		out[i] = v
	}
	return out
}

// commandTag is the engine's tag, or one made from the statement; psqlODBC
// reads row counts from "INSERT 0 n", "UPDATE n", "DELETE n".
func commandTag(res *sim.Result, sql string) string {
	tag := strings.TrimSpace(res.Tag)
	if tag == "" {
		if len(res.Columns) > 0 {
			return fmt.Sprintf("SELECT %d", len(res.Rows))
		}
		tag = strings.ToUpper(firstWord(sql))
	}
	if f := strings.Fields(tag); len(f) == 2 && strings.EqualFold(f[0], "INSERT") {
		return "INSERT 0 " + f[1]
	}
	return tag
}

func firstWord(sql string) string {
	f := strings.Fields(sql)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
