// Package sim is the Altibase simulator's engine: one Node is one Altibase
// server (catalog, tables, change log, replication objects, senders and
// receivers over real TCP, properties, sessions). It knows nothing of the
// PostgreSQL wire protocol; package altibasetest puts it on the network.
//
// It is a test oracle for aku: its behaviour follows docs/altibase.md
// (section 8, measured on a real server, wins) and the 32 cases of
// docs/conformance.md, which its tests replay.
//
// # Storage and durability
//
// A node keeps everything in memory and, with Options.DataDir, writes every
// statement through to a bbolt file in one transaction before answering
// (NoSync: the write survives a process kill, as Kill models, not a power
// cut). Open on the same directory restores tables, the change log the
// replication objects still need, the objects (IS_STARTED, XSN) and restarts
// the senders of objects left started (REPLICATION_SENDER_AUTO_START).
// ALTER SYSTEM values are not persisted: Open applies Options.Properties, as
// a server rereads altibase.properties.
//
// # Change log and XSN
//
// Every committed INSERT, UPDATE and DELETE appends a record with the next
// sequence number (SN); a new node's SNs start above 2^32, as real ones are,
// so 32-bit XSN handling fails in tests. A session that ran ALTER SESSION SET
// REPLICATION = FALSE changes rows without logging them. An object's XSN is the SN of the last record the peer
// acknowledged: -1 after CREATE and RESET; START of an object at -1 begins at
// the current log position (earlier rows are never sent), a stopped object
// resumes from its XSN; SYNC copies a snapshot and starts from the snapshot's
// position. Changes a receiver applies are not logged, so they are never
// passed on to a third node (Altibase does not propagate). Receivers apply by
// primary key; an INSERT of an existing key, an UPDATE/DELETE of a missing
// one, or an UPDATE whose changed columns no longer hold its before image
// (unless REPLICATION_UPDATE_REPLACE = 1) is a conflict: counted in
// V$REPRECEIVER (*_FAILURE_COUNT) and skipped.
//
// # Replication protocol
//
// A sender dials the object's host (trying the others in order), sends
// Hello{name, items, table shapes, sync}; the receiver answers OK only if it
// has an object of that name whose items mirror the sender's over tables of
// the same columns and key (else the sender reports 0x6100D "(Network error
// during receiving metadata ACK)"; nobody listening gives "(Handshake Process
// Error)"; a peer that accepts but stays silent fails after
// REPLICATION_CONNECT_TIMEOUT). Then SYNC rows (acknowledged per 5,000) and
// log batches (acknowledged with their end SN, which becomes the XSN). An
// idle sender pings every 100 ms, so a dead peer or a cut link shows in
// V$REPSENDER (STATUS 0, NET_ERROR_FLAG 1) and the sender reconnects by
// itself: every SIM_SENDER_RETRY_MSEC, or, under
// Profile.SenderSleepsAfterLoss (the realistic profile), after sleeping
// REPLICATION_SENDER_SLEEP_TIMEOUT seconds as a real server's sender does
// (until then only STOP and START bring it back). TRUNCATE of an item table under a started sender makes it drop the
// connection and sleep REPLICATION_SENDER_SLEEP_TIMEOUT seconds. See wire.go.
//
// # SQL
//
// A hand-written tokenizer and recursive-descent parser accept the
// statements aku issues plus what tests need: CREATE TABLE (INTEGER, BIGINT,
// VARCHAR(n), CHAR(n), PRIMARY KEY, PARTITION BY RANGE), CREATE USER u
// IDENTIFIED BY p, INSERT (multi-row), UPDATE, DELETE, TRUNCATE TABLE,
// ALTER TABLE t TRUNCATE PARTITION p,
// SELECT (columns or *, COUNT(*), literals, WHERE col op literal [AND ...],
// ORDER BY) over tables, DUAL, SYSTEM_.SYS_REPLICATIONS_, SYS_REPL_HOSTS_,
// SYS_REPL_ITEMS_, V$REPSENDER, V$REPRECEIVER, V$REPGAP, V$REPSYNC and
// V$PROPERTY (NAME, VALUE1); CREATE/ALTER/DROP REPLICATION; ALTER SYSTEM
// SET p = n; ALTER SESSION SET p = n | DEFAULT and SET REPLICATION = FALSE |
// TRUE | DEFAULT; COMMIT and ROLLBACK (no-ops: every statement
// autocommits). Anything else is 0x31001. Identifiers are upper-cased
// unless double-quoted; a name without a schema is in the session user's
// schema (SYS); meta tables are found with or without SYSTEM_.
//
// Only SYS may run replication DDL/DCL, ALTER SYSTEM and CREATE USER
// (0x31084). Logins: 0x4102E (28000) wrong password or unknown user,
// 0x41043 SYSDBA for another user, 0x410C9 Remote SYSDBA with
// REMOTE_SYSDBA_ENABLE=0, 0x4106E ADMIN_MODE=1 without SYS+SYSDBA, 0x41041 a
// second SYSDBA session. QUERY_TIMEOUT (DDL_TIMEOUT for CREATE, DROP,
// TRUNCATE and RESET) ends a statement with 0x01044 (HYT00); cancelling the
// Exec context ends it with CodeQueryCancelled (HY008), which wraps the
// context's error. The session stays usable after both.
//
// Command tags follow PostgreSQL's forms so the wire layer can pass them on:
// "SELECT n", "INSERT 0 n", "UPDATE n", "DELETE n", "CREATE", "CREATE TABLE",
// "ALTER", "DROP", "TRUNCATE TABLE", "COMMIT", "SIM".
//
// # Simulator properties
//
// Besides Altibase's own (V$PROPERTY lists them), two belong to the simulator:
//
//	SIM_SYNC_CONFLICT_MODE   read on the node receiving a SYNC, for rows
//	                         whose keys it already holds: 0 (default, what
//	                         real servers usually did) keeps its stale rows
//	                         silently and goes on, so the SYNC succeeds; 1
//	                         fails the SYNC with 0x61153 at the first such
//	                         key. A failed SYNC is not undone: tables copied
//	                         before the failing one stay complete, the
//	                         failing one keeps the rows copied before the
//	                         conflict, later ones are untouched (V$REPSYNC:
//	                         -1, the rows acknowledged, 0). Both outcomes
//	                         were seen on real servers; set 1 to test the
//	                         failure.
//	SIM_SENDER_RETRY_MSEC    how often a disconnected sender retries (100).
//
// # Fault injection
//
// Each fault has a Go method on *Node and a SQL form, a statement starting
// with the reserved word SIM, for nodes run as separate processes
// (cmd/altibase-sim). SIM statements are accepted from any user, are not
// delayed and do not consume FailNext.
//
//	SIM STALL SENDER r           Node.StallSender: r's sender stays connected
//	                             but ships nothing, so a gap builds (V$REPGAP).
//	SIM RESUME SENDER r          Node.ResumeSender.
//	SIM CUT LINK 'host', port    Node.CutLink: this node's senders cannot reach
//	                             host:port as written in CREATE REPLICATION;
//	                             live connections to it drop.
//	SIM HEAL LINK 'host', port   Node.HealLink.
//	SIM HEAL ALL                 Node.HealAll.
//	SIM DELAY ms [ON 'prefix']   Node.SetDelay / SetDelayOn: every later
//	                             statement on the node (or those starting
//	                             with prefix; case and spacing ignored) takes
//	                             ms longer; 0 clears; counts against
//	                             QUERY_TIMEOUT.
//	SIM FAIL NEXT code [ON 'prefix']
//	                             Node.FailNext / FailNextOn: the next
//	                             statement on the node (or the next starting
//	                             with prefix) fails with that code (0x6100D
//	                             or decimal) and Altibase's text for it.
//
// Kill and Open on the same DataDir model kill -9 and a pod restart.
//
// # Known deviations from a real server
//
//   - SYNC onto existing keys is deterministic (SIM_SYNC_CONFLICT_MODE:
//     silent by default, 0x61153 on request) where a real server did
//     either; SYNC PARALLEL n is accepted and ignored.
//   - Errors without a documented Altibase code (bad column, value too long,
//     unknown property) are 0x31001 with a detail.
//   - Only LAZY replication; no EAGER, OFFLINE, ADD/DROP TABLE or HOST,
//     AS MASTER/SLAVE, DDL replication.
//   - ALTER SYSTEM values are lost at restart (as without altibase.properties).
//
// # Latency
//
// The zero Profile is fast. Realistic() applies what real servers showed
// (docs/altibase.md section 8), on the clock of Options.Now:
//
//   - START returns on the next whole second (0-1 s); START RETRY at once.
//   - STOP returns on the next whole second, but takes at least 0.1 s
//     (0.1-1.0 s).
//   - SYNC and SYNC ONLY copy at most about 40,000 rows/s, then return on a
//     whole second at least 2 s after they began (real SYNCs of 51,000 and
//     56,500 rows took 2.0 s and 4.0 s, never less than 2 s).
//
// Failed statements return at once. The waits are the pure functions
// tickWait, stopWait and syncWait of the clock's readings.
package sim
