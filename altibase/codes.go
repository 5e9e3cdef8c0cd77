package altibase

import (
	"fmt"
	"regexp"
	"strconv"
)

// Code is an Altibase native error code as its ODBC driver reports it in
// SQLGetDiagRec's NativeError (0x6100D for ERR-6100D).
type Code uint32

// The Altibase error codes aku and the simulator use (docs/altibase.md sections 2,
// 4, 5 and 8). The simulator raises exactly these; the client classifies them.
const (
	CodeQueryTimeout          Code = 0x01044 // Client's query exceeded the execution time limit.
	CodeNoPermission          Code = 0x31084 // The user has no permission to execute the SQL statement.
	CodeNameTooLong           Code = 0x3118B // The length of the name exceeds the maximum limit.
	CodeReplicationDDLDisable Code = 0x312C4 // DDL on a replicated table with REPLICATION_DDL_ENABLE=0.
	CodeSyntaxError           Code = 0x31001 // Syntax error (simulator: any SQL it does not know).
	CodeTableNotFound         Code = 0x31031 // Table or view was not found.
	CodeUniqueViolation       Code = 0x11058 // The row already exists in a unique index.
	CodeInvalidPassword       Code = 0x4102E // Invalid password.
	CodeAnotherSYSDBA         Code = 0x41041 // Another SYSDBA session is already running.
	CodeInvalidPrivileges     Code = 0x41043 // Invalid access privileges.
	CodeAdminMode             Code = 0x4106E // ADMIN_MODE: only SYS/SYSTEM_ with SYSDBA may connect.
	CodeRemoteSYSDBA          Code = 0x410C9 // Remote access as SYSDBA not allowed.
	CodeConnectFailed         Code = 0x50032 // Client unable to establish connection.
	CodeLinkFailure           Code = 0x51043 // Communication link failure.
	CodeLoginTimeout          Code = 0x5104D // Connection timeout.
	CodeSenderAlreadyStarted  Code = 0x6100A // The sender has already been started.
	CodeHandshakeFailed       Code = 0x6100D // [Sender] Failed to handshake with the peer server (<reason>)
	CodeSenderStartFailed     Code = 0x61010 // [Sender] Failed to start the sender thread
	CodeReplicationDisabled   Code = 0x61023 // Replication is disabled
	CodeNotStarted            Code = 0x61027 // Replication did not start.
	CodeFlushTimeout          Code = 0x61075 // Timeout exceed.
	CodeAlreadyStarted        Code = 0x610FE // Replication has already started.
	CodeDuplicateName         Code = 0x61100 // Duplicate replication names.
	CodeMaxReplications       Code = 0x61102 // No more replications may be created.
	CodeInvalidHost           Code = 0x6110B // The host IP address or port number is invalid.
	CodeDuplicateHost         Code = 0x6110C // Replication hosts already exist.
	CodeReplTableNotFound     Code = 0x61111 // Table not found : <name>
	CodeNoPrimaryKey          Code = 0x61113 // A replicated table must have a primary key.
	CodeUndefinedReplication  Code = 0x6111B // Undefined replication name.
	CodeSyncFailed            Code = 0x61153 // Replication synchronization failed.
)

// CodeQueryCancelled is the simulator's code for a statement cancelled by the
// client (a cancel request / SQLCancel); SQLSTATE HY008. It is not a measured
// Altibase server code: Altibase's own driver reports a cancel on the client
// side.
const CodeQueryCancelled Code = 0x0104C

// String renders the code as Altibase prints it: ERR-6100D.
func (c Code) String() string { return fmt.Sprintf("ERR-%05X", uint32(c)) }

// codeInMessage finds "ERR-6100D" in a server message. The simulator, which
// reaches the client through psqlODBC (where NativeError is psqlODBC's own
// number), carries the Altibase code this way; see ServerMessage.
var codeInMessage = regexp.MustCompile(`ERR-([0-9A-Fa-f]{5})\b`)

// ServerMessage is the wire form of an error raised by a server that speaks
// through a driver without Altibase native codes (the simulator via psqlODBC):
// "ERR-6100A : The sender has already been started.", as iSQL prints it.
func ServerMessage(c Code, text string) string { return c.String() + " : " + text }

// CodeFromMessage extracts the Altibase code from a message built by
// ServerMessage (possibly wrapped by a driver). ok is false if there is none.
func CodeFromMessage(msg string) (c Code, ok bool) {
	m := codeInMessage.FindStringSubmatch(msg)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseUint(m[1], 16, 32)
	if err != nil {
		return 0, false
	}
	return Code(v), true
}
