// Package altibasetest puts the Altibase simulator on the network, as
// net/http/httptest does for handlers: NewServer starts a real server on a
// loopback port that speaks the PostgreSQL wire protocol, so the production
// ODBC path (github.com/alexbrainman/odbc, unixODBC, a driver) runs for real
// through Debian's psqlODBC. Behind the wire sits the simulator engine
// (internal/sim), one engine session per client connection.
//
// The wire contract the client's "simulator" ODBC dialect relies on:
//
//   - Login: clear-text password. The startup user (upper-cased) is the
//     Altibase user, the password is the password, and the startup parameter
//     database=SYSDBA (any case) means PRIVILEGE=SYSDBA. A client whose address
//     is not loopback is remote. A refused login is an ErrorResponse during
//     startup carrying the Altibase code and SQLSTATE; psqlODBC reports every
//     failed connect as SQLSTATE 08001, so only the message ("FATAL:
//     ERR-41041 : ...") tells the causes apart.
//   - Errors: every engine error becomes an ErrorResponse with the engine's
//     SQLSTATE and the message altibase.ServerMessage(code, text)
//     ("ERR-6100D : ..."), from which altibase.CodeFromMessage recovers the
//     code.
//   - The PostgreSQL statements psqlODBC sends on its own are answered here,
//     never by the engine: at connect "SET DateStyle = 'ISO'", "SET
//     extra_float_digits = 2", "show transaction_isolation" and the pg_type
//     'lo' lookup; in manual-commit mode (database/sql's Begin) the "BEGIN;"
//     it puts in front of a transaction's first statement; with
//     UseServerSidePrepare=1 its lone BEGIN, its _per_query_svp_ SAVEPOINT,
//     RELEASE and ROLLBACK TO, and DEALLOCATEs of its "_PLAN..." statements.
//     COMMIT [WORK] and ROLLBACK [WORK] are answered here too (Altibase
//     statements, no-ops under autocommit). The transaction status (idle, in
//     transaction, failed) is reported as PostgreSQL would.
//   - Any other SET, SHOW, BEGIN, START TRANSACTION, SAVEPOINT, RELEASE,
//     DEALLOCATE or END, sent by an application, reaches the engine, which
//     rejects it as a real Altibase server would: 0x31001 (SQLSTATE 42000).
//   - Types: INTEGER int4, BIGINT int8, VARCHAR and CHAR text (psqlODBC's
//     long varchar: alexbrainman/odbc reads it whole), DATE timestamp, NULL.
//   - Cancel requests cancel the running statement's context; the connection
//     stays usable.
//
// Tests inject faults through Server.SetStatementHook (wire level) or the
// engine's own hooks on Server.Node() (SetDelay, FailNext, CutLink,
// StallSender); Sessions makes leaked connections visible.
package altibasetest
