package scenarios_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

var writerSeq atomic.Int64

// writer plays an application on one pod: it inserts, updates and deletes
// its own rows (a key range no other writer touches) through a normal SYS
// session, and remembers what the server acknowledged.
type writer struct {
	c     *cluster
	pod   int
	table string
	conn  *session

	stepMu    sync.Mutex // one statement at a time, bookkeeping included
	mu        sync.Mutex
	next      int64
	alive     []int64
	want      map[int64]string // acknowledged state of live rows
	deleted   map[int64]bool   // acknowledged deletes
	uncertain map[int64]bool   // a statement failed: outcome unknown
	ops       int

	stop chan struct{}
	done chan struct{}
}

func (c *cluster) writer(pod int, table string) *writer {
	c.t.Helper()
	base := int64(pod)*10_000_000 + writerSeq.Add(1)*100_000
	return &writer{c: c, pod: pod, table: table, conn: c.open(pod, false), next: base,
		want: map[int64]string{}, deleted: map[int64]bool{}, uncertain: map[int64]bool{}}
}

// burst runs n statements now.
func (w *writer) burst(n int) {
	for i := 0; i < n; i++ {
		w.step()
	}
}

// run writes continuously until halt.
func (w *writer) run() *writer {
	w.stop, w.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			default:
				w.step()
				time.Sleep(time.Millisecond)
			}
		}
	}()
	return w
}

func (w *writer) halt() {
	if w.stop != nil {
		close(w.stop)
		<-w.done
		w.stop = nil
	}
}

func (w *writer) step() {
	w.stepMu.Lock()
	defer w.stepMu.Unlock()
	w.mu.Lock()
	w.ops++
	op := w.ops % 10
	var stmt string
	var key int64
	var val string
	var del bool
	switch {
	case op >= 7 && op <= 8 && len(w.alive) > 0:
		key = w.alive[(w.ops*7)%len(w.alive)]
		val = fmt.Sprintf("u%d", w.ops)
		stmt = fmt.Sprintf("UPDATE %s SET V = '%s' WHERE ID = %d", w.table, val, key)
	case op == 9 && len(w.alive) > 1:
		i := (w.ops * 3) % len(w.alive)
		key = w.alive[i]
		w.alive = append(w.alive[:i], w.alive[i+1:]...)
		del = true
		stmt = fmt.Sprintf("DELETE FROM %s WHERE ID = %d", w.table, key)
	default:
		key = w.next
		w.next++
		val = fmt.Sprintf("i%d", w.ops)
		w.alive = append(w.alive, key)
		stmt = fmt.Sprintf("INSERT INTO %s (ID, V) VALUES (%d, '%s')", w.table, key, val)
	}
	w.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err := w.conn.ExecContext(ctx, stmt)
	cancel()

	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err != nil:
		w.uncertain[key] = true
	case del:
		delete(w.want, key)
		w.deleted[key] = true
	default:
		w.want[key] = val
	}
}

// check compares a pod's rows with what was acknowledged.
func (w *writer) check(rows map[int64]string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lost, stale, resurrected := 0, 0, 0
	for k, v := range w.want {
		if w.uncertain[k] {
			continue
		}
		got, ok := rows[k]
		switch {
		case !ok:
			lost++
		case got != v:
			stale++
		}
	}
	for k := range w.deleted {
		if _, ok := rows[k]; ok && !w.uncertain[k] {
			resurrected++
		}
	}
	if lost+stale+resurrected == 0 {
		return ""
	}
	return fmt.Sprintf("writer on pod-%d: %d acknowledged rows lost, %d stale, %d deleted rows back (of %d)",
		w.pod, lost, stale, resurrected, len(w.want))
}
