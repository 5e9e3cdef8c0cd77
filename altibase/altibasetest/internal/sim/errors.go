package sim

import (
	"context"
	"fmt"
	"strings"

	"github.com/aku-k8s/aku/altibase"
)

// Message texts of the codes the engine raises (docs/altibase.md sections 2, 4, 5
// and 8). A %s in a text is filled by the caller.
var messages = map[altibase.Code]string{
	altibase.CodeQueryTimeout:          "Client's query exceeded the execution time limit.",
	altibase.CodeQueryCancelled:        "The statement was cancelled by the client.",
	altibase.CodeNoPermission:          "The user has no permission to execute the SQL statement.",
	altibase.CodeNameTooLong:           "The length of the name exceeds the maximum limit.",
	altibase.CodeReplicationDDLDisable: "Cannot execute this DDL on a replicated table when the system property REPLICATION_DDL_ENABLE is 0.",
	altibase.CodeSyntaxError:           "SQL syntax error",
	altibase.CodeTableNotFound:         "Table or view was not found",
	altibase.CodeUniqueViolation:       "The row already exists in a unique index.",
	altibase.CodeInvalidPassword:       "Invalid password",
	altibase.CodeAnotherSYSDBA:         "Another SYSDBA session is already running.",
	altibase.CodeInvalidPrivileges:     "Invalid access privileges.",
	altibase.CodeAdminMode:             "If ADMIN_MODE is activated, only the users SYS and SYSTEM_ can connect to the database with SYSDBA privileges.",
	altibase.CodeRemoteSYSDBA:          "Remote access as SYSDBA not allowed",
	altibase.CodeLinkFailure:           "Communication link failure.",
	altibase.CodeSenderAlreadyStarted:  "The sender has already been started.",
	altibase.CodeHandshakeFailed:       "[Sender] Failed to handshake with the peer server (%s)",
	altibase.CodeSenderStartFailed:     "[Sender] Failed to start the sender thread",
	altibase.CodeReplicationDisabled:   "Replication is disabled",
	altibase.CodeNotStarted:            "Replication did not start.",
	altibase.CodeFlushTimeout:          "Timeout exceed.",
	altibase.CodeAlreadyStarted:        "Replication has already started.",
	altibase.CodeDuplicateName:         "Duplicate replication names. The replication name already exists in the database.",
	altibase.CodeMaxReplications:       "No more replications may be created. The number of replications has reached the maximum.",
	altibase.CodeInvalidHost:           "The host IP address or port number is invalid.",
	altibase.CodeDuplicateHost:         "Replication hosts already exist.",
	altibase.CodeReplTableNotFound:     "Table not found : %s",
	altibase.CodeNoPrimaryKey:          "A replicated table must have a primary key. (%s)",
	altibase.CodeUndefinedReplication:  "Undefined replication name. The replication name was not found in the database.",
	altibase.CodeSyncFailed:            "Replication synchronization failed.",
}

// Handshake failure reasons, as the real server words them (docs/altibase.md section 8).
const (
	reasonPeerDown     = "Handshake Process Error"
	reasonNoPeerObject = "Network error during receiving metadata ACK"
)

// sqlState is the SQLSTATE Altibase's ODBC driver reports for a server code
// (docs/altibase.md section 5): a small map, HY000 otherwise.
func sqlState(c altibase.Code) string {
	switch c {
	case altibase.CodeQueryTimeout:
		return "HYT00"
	case altibase.CodeQueryCancelled:
		return "HY008"
	case altibase.CodeInvalidPassword, altibase.CodeInvalidPrivileges:
		return "28000"
	case altibase.CodeSyntaxError:
		return "42000"
	case altibase.CodeTableNotFound:
		return "42S02"
	case altibase.CodeUniqueViolation:
		return "23000"
	case altibase.CodeLinkFailure:
		return "08S01"
	}
	return "HY000"
}

// errc builds the *Error for code c; args fill the message's %s.
func errc(c altibase.Code, args ...any) *Error {
	text, ok := messages[c]
	if !ok {
		text = "Simulated failure."
	}
	if len(args) > 0 {
		text = fmt.Sprintf(text, args...)
	}
	return &Error{Code: c, SQLState: sqlState(c), Message: text}
}

// syntaxErr is 0x31001 with a detail the real server would also print.
func syntaxErr(format string, args ...any) *Error {
	e := errc(altibase.CodeSyntaxError)
	e.Message += ": " + fmt.Sprintf(format, args...)
	return e
}

// ctxErr turns a context error into the Altibase error a client would see:
// 0x01044 when the session's own timeout fired, a cancel error otherwise.
// timeoutCtx is the context carrying QUERY_TIMEOUT, parent the caller's.
func ctxErr(parent, timeoutCtx context.Context) *Error {
	if parent.Err() != nil {
		e := errc(altibase.CodeQueryCancelled)
		e.cause = parent.Err()
		return e
	}
	e := errc(altibase.CodeQueryTimeout)
	e.cause = timeoutCtx.Err()
	return e
}

// injectedErr is the error SIM FAIL NEXT raises: the code's own text, with
// the handshake reason of a peer that is down, or "simulated" for other
// placeholders.
func injectedErr(c altibase.Code) *Error {
	if c == altibase.CodeHandshakeFailed {
		return errc(c, reasonPeerDown)
	}
	if strings.Contains(messages[c], "%s") {
		return errc(c, "simulated")
	}
	return errc(c)
}
