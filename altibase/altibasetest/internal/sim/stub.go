package sim

import (
	"context"
	"errors"
)

// Node is one simulated Altibase server.
type Node struct{ opts Options }

// Open starts a node: loads DataDir if set (auto-starting replications left
// started, REPLICATION_SENDER_AUTO_START) and listens on ReplicationAddr.
func Open(opts Options) (*Node, error) { return nil, errors.New("sim: not implemented") }

// ReplicationAddr is the bound replication listen address.
func (n *Node) ReplicationAddr() string { return "" }

// Login opens a session or returns an *Error (0x4102E wrong password,
// 0x41041 second SYSDBA session, 0x4106E ADMIN_MODE, 0x410C9 remote SYSDBA).
func (n *Node) Login(l Login) (*Session, error) { return nil, errors.New("sim: not implemented") }

// Close stops the node gracefully (senders stop, store closed; state kept
// in DataDir exactly as after a clean server stop).
func (n *Node) Close() error { return nil }

// Kill stops the node abruptly, as kill -9 would: nothing is flushed beyond
// what was already durable; connections drop.
func (n *Node) Kill() {}

// Session is one client session.
type Session struct{}

// Exec runs one SQL statement. ctx is cancelled when the client sends a
// cancel request; the session's QUERY_TIMEOUT is enforced by the engine
// (0x01044). Errors are *Error.
func (s *Session) Exec(ctx context.Context, sql string) (*Result, error) {
	return nil, &Error{Code: 0x31001, SQLState: "42000", Message: "SQL syntax error"}
}

// Close ends the session (releases the SYSDBA slot).
func (s *Session) Close() {}
