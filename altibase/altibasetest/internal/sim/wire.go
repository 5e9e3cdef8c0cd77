package sim

import (
	"context"
	"encoding/gob"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// The replication protocol between a sender and the peer's receiver, over
// one TCP connection, gob-encoded wireMsg values:
//
//	sender                          receiver
//	Hello{Repl, Items, Sync}   ->
//	                           <-   HelloAck{OK, Reason}   (OK: same-named object, mirrored items)
//	SyncRows{Table, Rows}      ->                          (SYNC only, repeated)
//	                           <-   SyncAck{OK, Reason, Applied}
//	Batch{Recs, EndSN}         ->                          (repeated)
//	                           <-   Ack{EndSN}
//
// Records and rows are encoded with appendValues; a batch carries the
// records of the sender's log up to EndSN that belong to the object's
// items, already renamed to the receiver's tables.
const (
	msgHello byte = iota + 1
	msgHelloAck
	msgBatch
	msgAck
	msgSyncRows
	msgSyncAck
	msgPing // answered with Ack{EndSN: 0}
)

type wireMsg struct {
	Kind   byte
	Repl   string
	Items  []itemSpec
	Shapes []string // per item: the sender table's shape (tableShape)
	Sync   bool
	OK     bool
	Reason string
	EndSN  int64
	Recs   [][]byte
	Table  string
	Rows   [][]byte
	// Applied is, in a SyncAck, how many of the batch's rows the receiver
	// got through (inserted, or kept its own) before it stopped.
	Applied int
}

// ackTimeout bounds every wait for the peer's answer.
const ackTimeout = 30 * time.Second

// peerConn is a sender's connection to a receiver.
type peerConn struct {
	c   net.Conn
	enc *gob.Encoder
	dec *gob.Decoder
}

func newPeerConn(c net.Conn) *peerConn {
	return &peerConn{c: c, enc: gob.NewEncoder(c), dec: gob.NewDecoder(c)}
}

// call sends m and reads the answer within ackTimeout.
func (p *peerConn) call(m *wireMsg) (*wireMsg, error) { return p.callWithin(m, ackTimeout) }

// callWithin sends m and reads the answer within d.
func (p *peerConn) callWithin(m *wireMsg, d time.Duration) (*wireMsg, error) {
	if err := p.c.SetDeadline(time.Now().Add(d)); err != nil {
		return nil, err
	}
	if err := p.enc.Encode(m); err != nil {
		return nil, err
	}
	var reply wireMsg
	if err := p.dec.Decode(&reply); err != nil {
		return nil, err
	}
	return &reply, p.c.SetDeadline(time.Time{})
}

// trackConn registers c so Close/Kill can drop it; false if the node is closed.
func (n *Node) trackConn(c net.Conn) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return false
	}
	n.conns[c] = struct{}{}
	return true
}

func (n *Node) untrackConn(c net.Conn) {
	n.mu.Lock()
	delete(n.conns, c)
	n.mu.Unlock()
	_ = c.Close()
}

func (n *Node) closePeer(p *peerConn) {
	if p != nil {
		n.untrackConn(p.c)
	}
}

// connect dials the object's hosts (from the last used one on) and
// handshakes. Errors are 0x6100D with the real server's reasons, or ctx's.
func (n *Node) connect(ctx context.Context, r *replication, sync bool) (*peerConn, error) {
	n.mu.Lock()
	def := r.def
	timeout := time.Duration(n.props[propConnectTimeout]) * time.Second
	shapes := make([]string, len(def.Items))
	for i, it := range def.Items {
		if t, ok := n.tables[it.LocalUser+"."+it.LocalTable]; ok {
			shapes[i] = t.shape()
		}
	}
	n.mu.Unlock()
	var c net.Conn
	used := -1
	for k := range def.Hosts {
		i := (def.LastUsed + k) % len(def.Hosts)
		h := def.Hosts[i]
		if n.faults.isCut(h.Host, h.Port) {
			continue
		}
		d := net.Dialer{Timeout: timeout}
		var err error
		c, err = d.DialContext(ctx, "tcp", net.JoinHostPort(h.Host, strconv.FormatInt(h.Port, 10)))
		if err == nil {
			used = i
			break
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if c == nil {
		return nil, errc(altibase.CodeHandshakeFailed, reasonPeerDown)
	}
	if !n.trackConn(c) {
		_ = c.Close()
		return nil, errc(altibase.CodeLinkFailure)
	}
	if used != def.LastUsed {
		n.mu.Lock()
		r.def.LastUsed = used
		n.mu.Unlock()
	}
	pc := newPeerConn(c)
	stopWatch := context.AfterFunc(ctx, func() { _ = c.Close() })
	// A peer that accepts but never answers fails the handshake after
	// REPLICATION_CONNECT_TIMEOUT.
	reply, err := pc.callWithin(&wireMsg{Kind: msgHello, Repl: def.Name, Items: def.Items, Shapes: shapes, Sync: sync}, timeout)
	stopWatch()
	if err != nil || reply.Kind != msgHelloAck || !reply.OK {
		n.untrackConn(c)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errc(altibase.CodeHandshakeFailed, reasonNoPeerObject)
	}
	return pc, nil
}

// shape is a table's columns and key as the handshake compares them.
func (t *table) shape() string {
	var b strings.Builder
	for _, c := range t.def.Cols {
		fmt.Fprintf(&b, "%s:%d:%d,", c.Name, c.Type, c.Size)
	}
	fmt.Fprintf(&b, "pk%v", t.def.PK)
	return b.String()
}

// shapesMatch reports whether the receiver's tables have the shapes the
// sender's have (a schema mismatch fails the handshake, as on a real server).
func (n *Node) shapesMatchLocked(sent []itemSpec, shapes []string) bool {
	if len(shapes) != len(sent) {
		return false
	}
	for i, it := range sent {
		t, ok := n.tables[it.RemoteUser+"."+it.RemoteTable]
		if !ok || t.shape() != shapes[i] {
			return false
		}
	}
	return true
}

// itemsMirror reports whether the receiver's items mirror the sender's:
// every sender item FROM a TO b has a receiver item FROM b TO a.
func itemsMirror(local, sent []itemSpec) bool {
	if len(local) != len(sent) {
		return false
	}
	for _, s := range sent {
		found := false
		for _, l := range local {
			if l.LocalUser == s.RemoteUser && l.LocalTable == s.RemoteTable && l.LocalPart == s.RemotePart &&
				l.RemoteUser == s.LocalUser && l.RemoteTable == s.LocalTable && l.RemotePart == s.LocalPart {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
