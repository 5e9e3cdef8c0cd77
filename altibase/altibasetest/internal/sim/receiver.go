package sim

import (
	"encoding/gob"
	"errors"
	"net"
	"time"
)

// receiver applies what one peer sender ships. Changes it applies are not
// logged for this node's own senders: Altibase does not propagate (pod-0
// does not pass pod-1's rows on to pod-2).
type receiver struct {
	name             string
	c                net.Conn
	myAddr, peerAddr string

	// guarded by Node.mu
	applyXSN                  int64
	insOK, updOK, delOK       int64
	insFail, updFail, delFail int64
}

func (n *Node) acceptLoop() {
	defer n.wg.Done()
	for {
		c, err := n.ln.Accept()
		if err != nil {
			select {
			case <-n.quit:
				return
			default:
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		n.mu.Lock()
		if n.closed {
			n.mu.Unlock()
			_ = c.Close()
			return
		}
		n.conns[c] = struct{}{}
		n.wg.Add(1)
		n.mu.Unlock()
		go n.serveReceiver(c)
	}
}

func (n *Node) serveReceiver(c net.Conn) {
	defer n.wg.Done()
	defer n.untrackConn(c)
	enc, dec := gob.NewEncoder(c), gob.NewDecoder(c)
	_ = c.SetReadDeadline(time.Now().Add(ackTimeout))
	var hello wireMsg
	if err := dec.Decode(&hello); err != nil || hello.Kind != msgHello {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	n.mu.Lock()
	r, ok := n.repls[hello.Repl]
	ok = ok && itemsMirror(r.def.Items, hello.Items) && n.shapesMatchLocked(hello.Items, hello.Shapes)
	rc := &receiver{name: hello.Repl, c: c, myAddr: c.LocalAddr().String(), peerAddr: c.RemoteAddr().String(), applyXSN: -1}
	if ok {
		n.recvs[rc] = struct{}{}
	}
	n.mu.Unlock()
	if !ok {
		_ = enc.Encode(&wireMsg{Kind: msgHelloAck, Reason: "no replication object " + hello.Repl})
		return
	}
	defer func() {
		n.mu.Lock()
		delete(n.recvs, rc)
		n.mu.Unlock()
	}()
	if err := enc.Encode(&wireMsg{Kind: msgHelloAck, OK: true}); err != nil {
		return
	}
	for {
		var m wireMsg
		if err := dec.Decode(&m); err != nil {
			return
		}
		var reply *wireMsg
		switch m.Kind {
		case msgBatch:
			if err := n.applyBatch(rc, &m); err != nil {
				return
			}
			reply = &wireMsg{Kind: msgAck, EndSN: m.EndSN}
		case msgPing:
			reply = &wireMsg{Kind: msgAck}
		case msgSyncRows:
			reply = n.applySync(rc, &m)
		default:
			return
		}
		if err := enc.Encode(reply); err != nil {
			return
		}
	}
}

var errReceiverStopped = errors.New("receiver stopped by DROP REPLICATION")

// applyBatch applies shipped records by primary key; a conflicting insert
// or an update/delete of a missing key is counted as a failure and skipped.
func (n *Node) applyBatch(rc *receiver, m *wireMsg) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.recvs[rc]; !ok {
		// DROP REPLICATION stopped this receiver (docs/altibase.md section
		// 2): once it returned, nothing more is applied, not even a batch
		// that was already on its way.
		return errReceiverStopped
	}
	b := &batch{}
	for _, raw := range m.Recs {
		rec, err := decodeRec(raw)
		if err != nil {
			return err
		}
		n.applyRecLocked(rc, b, &rec)
	}
	if err := n.commit(b); err != nil {
		return err
	}
	rc.applyXSN = m.EndSN
	return nil
}

func (n *Node) applyRecLocked(rc *receiver, b *batch, rec *logRec) {
	t, ok := n.tables[rec.Table]
	if ok && len(rec.Row) != len(t.def.Cols) {
		ok = false
	}
	var key string
	exists := false
	if ok {
		key = t.keyOfRow(rec.Row)
		_, exists = t.rows[key]
	}
	switch rec.Op {
	case opInsert:
		if !ok || exists {
			rc.insFail++
			return
		}
		n.putRowLocked(b, t, key, rec.Row, opInsert, false)
		rc.insOK++
	case opUpdate:
		if !ok || !exists || !n.beforeImageMatchesLocked(t.rows[key], rec) {
			rc.updFail++
			return
		}
		n.putRowLocked(b, t, key, rec.Row, opUpdate, false)
		rc.updOK++
	case opDelete:
		if !ok || !exists {
			rc.delFail++
			return
		}
		n.deleteRowLocked(b, t, key, false)
		rc.delOK++
	}
}

// applySync inserts one batch of SYNC rows. On a key that already exists it
// keeps the stale local row and goes on (SIM_SYNC_CONFLICT_MODE 0, the
// default: what real servers usually did) or stops there and reports
// failure, keeping the batch's rows before it (1: 0x61153 on the sender),
// as both were seen on real servers. Earlier batches stay applied either way.
func (n *Node) applySync(rc *receiver, m *wireMsg) *wireMsg {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, ok := n.tables[m.Table]
	if !ok {
		return &wireMsg{Kind: msgSyncAck, Reason: "table not found " + m.Table}
	}
	failMode := n.props[propSyncConflictMode] == 1
	b := &batch{}
	var reason string
	applied := 0
	for _, raw := range m.Rows {
		row, _, err := readValues(raw)
		if err != nil || len(row) != len(t.def.Cols) {
			reason = "bad row"
			break
		}
		key := t.keyOfRow(row)
		if _, exists := t.rows[key]; exists {
			rc.insFail++
			if failMode {
				reason = "unique key violation in " + m.Table
				break
			}
			applied++
			continue
		}
		n.putRowLocked(b, t, key, row, opInsert, false)
		rc.insOK++
		applied++
	}
	if err := n.commit(b); err != nil {
		reason, applied = err.Error(), 0
	}
	return &wireMsg{Kind: msgSyncAck, OK: reason == "", Reason: reason, Applied: applied}
}

// beforeImageMatchesLocked reports whether an update may apply: every column
// it changes still holds the before image (or REPLICATION_UPDATE_REPLACE=1).
func (n *Node) beforeImageMatchesLocked(cur []cell, rec *logRec) bool {
	if n.props[propUpdateReplace] == 1 || len(rec.Old) != len(rec.Row) || len(cur) != len(rec.Row) {
		return true
	}
	for i := range rec.Row {
		if compareValues(rec.Old[i], rec.Row[i]) != 0 && compareValues(cur[i], rec.Old[i]) != 0 {
			return false
		}
	}
	return true
}
