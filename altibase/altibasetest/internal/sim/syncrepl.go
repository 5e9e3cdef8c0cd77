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
	begin := n.now()
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
	parts, progress, snapSN, err := n.snapshot(r, tables)
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
	if err := n.copyRows(ctx, pc, parts, progress); err != nil {
		unpin()
		n.closePeer(pc)
		return err
	}
	if only {
		unpin()
		n.closePeer(pc)
		return n.waitClock(ctx, func(now time.Time) time.Duration { return syncWait(begin, now) })
	}
	n.mu.Lock()
	if r.sender != nil {
		n.mu.Unlock()
		go n.closePeer(pc)
		return errc(altibase.CodeSenderAlreadyStarted)
	}
	r.def.XSN, r.def.Pinned, r.def.IsStarted = snapSN, -1, 1
	if err := n.persistReplLocked(r); err != nil {
		n.mu.Unlock()
		go n.closePeer(pc)
		return err
	}
	n.launchSenderLocked(r, pc)
	n.mu.Unlock()
	return n.waitClock(ctx, func(now time.Time) time.Duration { return syncWait(begin, now) })
}

// minSyncTime is the shortest SYNC a real server showed: 2.0 s even for
// 51,000 rows (docs/altibase.md section 8).
const minSyncTime = 2 * time.Second

// syncWait is how long a SYNC that began at begin and finished copying at
// now still waits under a tick-aligned profile: until at least minSyncTime
// after begin, then on to the next whole second of the server clock (real
// SYNCs took 2.0, 3.0 and 4.0 s, never less than 2 s). The copy itself is
// bounded by SyncRowsPerSecond before this.
func syncWait(begin, now time.Time) time.Duration {
	end := now
	if floor := begin.Add(minSyncTime); end.Before(floor) {
		end = floor
	}
	if tick := end.Truncate(time.Second); !tick.Equal(end) {
		end = tick.Add(time.Second)
	}
	return end.Sub(now)
}

// snapshot copies the rows of the items (or of the TABLE list) under the
// node lock, with the log position they correspond to, and replaces the
// object's V$REPSYNC rows with one per part (progress, in parts' order).
func (n *Node) snapshot(r *replication, tables []syncTable) ([]syncPart, [][]cell, int64, error) {
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
			return nil, nil, 0, errc(altibase.CodeReplTableNotFound, name)
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
		return nil, nil, 0, errc(altibase.CodeReplTableNotFound, tables[0].user+"."+tables[0].table)
	}
	// Hold the log from the snapshot on while the rows are copied: the
	// sender SYNC starts afterwards ships everything past snapSN.
	if r.def.XSN < 0 && r.def.Pinned < 0 {
		r.def.Pinned = n.lastSN
	}
	// Other objects' rows stay: SYNCs of different objects may run at once.
	kept := n.syncRows[:0:0]
	for _, row := range n.syncRows {
		if row[0] != r.def.Name {
			kept = append(kept, row)
		}
	}
	progress := make([][]cell, len(parts))
	for i, p := range parts {
		progress[i] = []cell{r.def.Name, p.item.LocalTable, nullIfEmpty(p.item.LocalPart), int64(0), n.lastSN}
	}
	n.syncRows = append(kept, progress...)
	return parts, progress, n.lastSN, nil
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

// copyRows ships the snapshot part by part, throttled by
// Profile.SyncRowsPerSecond, and keeps each part's V$REPSYNC row (progress)
// up to date: the acknowledged row count while copying, -1 once the part is
// complete. It stops at the first batch the peer refuses, so after a failure
// the parts before it are complete, the failing one is partly copied (the
// batches acknowledged before it, plus what the receiver kept of the
// refused one) and later parts are untouched (count 0), as on a real server.
func (n *Node) copyRows(ctx context.Context, pc *peerConn, parts []syncPart, progress [][]cell) error {
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
				if err == nil && reply.Kind == msgSyncAck && reply.Applied > 0 {
					n.mu.Lock()
					progress[pi][3] = int64(i + min(reply.Applied, j-i))
					n.mu.Unlock()
				}
				return errc(altibase.CodeSyncFailed)
			}
			sent += j - i
			n.mu.Lock()
			progress[pi][3] = int64(j)
			n.mu.Unlock()
			if rate > 0 {
				due := time.Duration(float64(sent) / float64(rate) * float64(time.Second))
				if err := sleepCtx(ctx, due-time.Since(begin)); err != nil {
					return err
				}
			}
		}
		n.mu.Lock()
		progress[pi][3] = int64(-1)
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
