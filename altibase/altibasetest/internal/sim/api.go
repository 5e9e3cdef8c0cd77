// This file is the contract between the engine and the wire layer. Keep the
// exported names and meanings stable; add, do not change. The package
// documentation is in doc.go.

package sim

import (
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// Options configure a Node.
type Options struct {
	// Name labels the node in logs (for example "pod-1").
	Name string
	// DataDir makes the node durable (an embedded store inside it). Empty
	// means in memory: Close loses everything.
	DataDir string
	// ReplicationAddr is the listen address of the replication port
	// ("127.0.1.2:20301"; ":0" picks a free port). Required.
	ReplicationAddr string
	// SysPassword is SYS's password ("manager" if empty).
	SysPassword string
	// Properties are initial server properties (ADMIN_MODE, REMOTE_SYSDBA_ENABLE,
	// REPLICATION_ALLOW_DUPLICATE_HOSTS, QUERY_TIMEOUT, ...); unset ones take
	// Altibase's defaults.
	Properties map[string]int64
	// Profile is the latency model (zero value: fast, for tests).
	Profile Profile
	// Now is the server clock (time.Now if nil).
	Now func() time.Time
}

// Profile is the latency model. The zero value makes everything fast.
// Realistic() applies the figures measured on a real server (docs/altibase.md section 8).
type Profile struct {
	// TickAligned makes START return on the next whole-second tick of the
	// server clock (0-1 s), STOP on the next tick but after at least 0.1 s
	// (0.1-1.0 s), and SYNC / SYNC ONLY on a tick at least 2 s after they
	// began (after the SyncRowsPerSecond bound), as a real server does.
	// START RETRY does not wait.
	TickAligned bool
	// SyncRowsPerSecond bounds SYNC throughput (0: unbounded).
	SyncRowsPerSecond int
	// StatementDelay is added to every statement (0: none).
	StatementDelay time.Duration
	// SenderSleepsAfterLoss makes a sender whose connection is lost, or
	// whose connect attempt fails, sleep REPLICATION_SENDER_SLEEP_TIMEOUT
	// seconds (default 60) before it tries again, as a real server's does
	// (the General Reference: the time a sender sleeps in an error
	// situation; its trace log after a peer went away: "Connection closed",
	// then "Sender Sleep : 60 seconds"). Off, it retries every
	// SIM_SENDER_RETRY_MSEC (100 ms), which real servers do not.
	SenderSleepsAfterLoss bool
}

// Realistic is the measured latency profile.
func Realistic() Profile {
	return Profile{TickAligned: true, SyncRowsPerSecond: 40000, SenderSleepsAfterLoss: true}
}

// Login describes a connection attempt.
type Login struct {
	User     string
	Password string
	SYSDBA   bool // PRIVILEGE=SYSDBA
	Remote   bool // client address is not loopback (REMOTE_SYSDBA_ENABLE applies)
}

// Column describes one result column.
type Column struct {
	Name string
	Type ColumnType
}

// ColumnType is the SQL type of a result column.
type ColumnType int

const (
	TypeInteger ColumnType = iota // int32
	TypeBigint                    // int64
	TypeVarchar                   // string
	TypeChar                      // string
	TypeDate                      // time.Time
)

// Result is what a statement returns. Rows hold int32, int64, string,
// time.Time or nil per column. Tag is the command tag ("SELECT 3", "ALTER").
type Result struct {
	Columns []Column
	Rows    [][]any
	Tag     string
}

// Error is an Altibase error: a native code, the SQLSTATE Altibase's ODBC
// driver would report, and the message text without the "ERR-xxxxx" prefix.
type Error struct {
	Code     altibase.Code
	SQLState string
	Message  string

	cause error // context.Canceled / DeadlineExceeded for timeouts and cancels
}

func (e *Error) Error() string { return altibase.ServerMessage(e.Code, e.Message) }

// Unwrap returns the context error behind a query timeout (0x01044) or a
// client cancel (CodeQueryCancelled), so errors.Is(err, context.Canceled) works.
func (e *Error) Unwrap() error { return e.cause }
