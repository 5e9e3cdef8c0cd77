package sim

import (
	"context"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// syncBatchRows is how many rows one SyncRows message carries.
const syncBatchRows = 5000

// syncPart is the snapshot of one item to copy.
type syncPart struct {
	item   itemSpec
	target string
	rows   [][]byte
}

// sync is ALTER REPLICATION SYNC [ONLY]: snapshot the item tables at the
// current log position, copy the rows to the peer, then (SYNC) start the
// sender from the snapshot position on the same connection.
func (n *Node) sync(ctx context.Context, r *replication, only bool, tables []syncTable) error {
	n.mu.Lock()
	running := r.sender != nil
	n.mu.Unlock()
	if running {
		return errc(altibase.CodeSenderAlreadyStarted)
	}
	pc, err := n.connect(ctx, r, true)
	if err != nil {
		return err
	}
	parts, snapSN, err := n.snapshot(r, tables)
	if err != nil {
		n.closePeer(pc)
		return err
	}
	// Until the sender takes over, the snapshot position pins the log:
	// records written during the copy must not be trimmed away.
	unpin := func() {
		n.mu.Lock()
		if r.def.Pinned == snapSN && r.def.XSN < 0 {
			r.def.Pinned = -1
		}
		n.mu.Unlock()
	}
	if err := n.copyRows(ctx, r.def.Name, pc, parts, snapSN); err != nil {
		unpin()
		n.closePeer(pc)
		return err
	}
	if only {
		unpin()
		n.closePeer(pc)
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if r.sender != nil {
		go n.closePeer(pc)
		return errc(altibase.CodeSenderAlreadyStarted)
	}
	r.def.XSN, r.def.Pinned, r.def.IsStarted = snapSN, -1, 1
	if err := n.persistReplLocked(r); err != nil {
		go n.closePeer(pc)
		return err
	}
	n.launchSenderLocked(r, pc)
	return nil
}

// snapshot copies the rows of the items (or of the TABLE list) under the
// node lock, with the log position they correspond to.
func (n *Node) snapshot(r *replication, tables []syncTable) ([]syncPart, int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var parts []syncPart
	for _, it := range r.def.Items {
		if !wanted(it, tables) {
			continue
		}
		name := it.LocalUser + "." + it.LocalTable
		t, ok := n.tables[name]
		if !ok {
			return nil, 0, errc(altibase.CodeReplTableNotFound, name)
		}
		p := syncPart{item: it, target: it.RemoteUser + "." + it.RemoteTable}
		for _, row := range t.sortedRows() {
			if it.LocalPart == "" || t.partitionOf(row) == it.LocalPart {
				p.rows = append(p.rows, appendValues(nil, row))
			}
		}
		parts = append(parts, p)
	}
	if len(tables) > 0 && len(parts) != len(tables) {
		return nil, 0, errc(altibase.CodeReplTableNotFound, tables[0].user+"."+tables[0].table)
	}
	// Hold the log from the snapshot on while the rows are copied: the
	// sender SYNC starts afterwards ships everything past snapSN.
	if r.def.XSN < 0 && r.def.Pinned < 0 {
		r.def.Pinned = n.lastSN
	}
	n.syncRows = nil
	for _, p := range parts {
		n.syncRows = append(n.syncRows, []cell{r.def.Name, p.item.LocalTable, nullIfEmpty(p.item.LocalPart),
			int64(0), n.lastSN})
	}
	return parts, n.lastSN, nil
}

func wanted(it itemSpec, tables []syncTable) bool {
	if len(tables) == 0 {
		return true
	}
	for _, t := range tables {
		if t.user == it.LocalUser && t.table == it.LocalTable && (t.part == "" || t.part == it.LocalPart) {
			return true
		}
	}
	return false
}

func nullIfEmpty(s string) cell {
	if s == "" {
		return nil
	}
	return s
}

// copyRows ships the snapshot, throttled by Profile.SyncRowsPerSecond.
func (n *Node) copyRows(ctx context.Context, name string, pc *peerConn, parts []syncPart, snapSN int64) error {
	rate := n.opts.Profile.SyncRowsPerSecond
	begin := time.Now()
	sent := 0
	stopWatch := context.AfterFunc(ctx, func() { _ = pc.c.Close() })
	defer stopWatch()
	for pi, p := range parts {
		for i := 0; i < len(p.rows); i += syncBatchRows {
			j := min(i+syncBatchRows, len(p.rows))
			reply, err := pc.call(&wireMsg{Kind: msgSyncRows, Table: p.target, Rows: p.rows[i:j]})
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil || reply.Kind != msgSyncAck || !reply.OK {
				return errc(altibase.CodeSyncFailed)
			}
			sent += j - i
			n.mu.Lock()
			if pi < len(n.syncRows) {
				n.syncRows[pi][3] = int64(j)
			}
			n.mu.Unlock()
			if rate > 0 {
				due := time.Duration(float64(sent) / float64(rate) * float64(time.Second))
				if err := sleepCtx(ctx, due-time.Since(begin)); err != nil {
					return err
				}
			}
		}
		n.mu.Lock()
		if pi < len(n.syncRows) {
			n.syncRows[pi][3] = int64(-1)
		}
		n.mu.Unlock()
	}
	return nil
}

// autoStart restarts, at Open, the senders of objects left started
// (REPLICATION_SENDER_AUTO_START=1); they connect in the background.
func (n *Node) autoStart() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.props[propAutoStart] != 1 {
		return
	}
	for _, r := range n.repls {
		if r.def.IsStarted == 1 && r.sender == nil {
			n.launchSenderLocked(r, nil)
		}
	}
}
