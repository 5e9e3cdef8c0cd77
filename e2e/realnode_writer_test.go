package e2e_test

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/aku-k8s/aku/altibase/altibasetest"
)

// The stand-in's service port and application user (a normal session: it
// never takes the SYSDBA slot the hooks need).
const (
	servicePort = 20300
	appUser     = "SYS"
	appPassword = "manager"
)

// writerPod is what the writer knows of a pod, from a watch.
type writerPod struct {
	name, ip    string
	ready       bool
	terminating time.Time // when the watch first saw its deletion; zero if not
}

// ack is one acknowledged insert.
type ack struct {
	pod   types.UID
	start time.Time
}

// writer inserts rows into SYS.T1 through the pod IPs all along, as an
// application behind the Service would: round-robin over the pods that are
// Ready and not terminating, learnt from a watch. It records every
// acknowledged row. An application is expected to stop writing to a pod
// once it is deleted; a row it began on a pod after the watch saw that
// pod's deletion may be lost when the pod leaves, and only those are
// excused by check.
type writer struct {
	t    testing.TB
	c    *cluster
	mu   sync.Mutex
	pods map[types.UID]*writerPod
	acks map[int]ack
	next int
	dbs  map[string]*sql.DB
	run  sync.Mutex // held while paused
	stop context.CancelFunc
	done chan struct{}
}

func startWriter(t testing.TB, c *cluster) *writer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &writer{t: t, c: c, pods: map[types.UID]*writerPod{}, acks: map[int]ack{}, dbs: map[string]*sql.DB{},
		stop: cancel, done: make(chan struct{})}
	f := informers.NewSharedInformerFactoryWithOptions(c.admin, 0, informers.WithNamespace(c.ns))
	inf := f.Core().V1().Pods().Informer()
	update := func(obj any) {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		v := w.pods[p.UID]
		if v == nil {
			v = &writerPod{name: p.Name}
			w.pods[p.UID] = v
		}
		v.ip, v.ready = p.Status.PodIP, podReady(*p)
		if p.DeletionTimestamp != nil && v.terminating.IsZero() {
			v.terminating = time.Now()
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    update,
		UpdateFunc: func(_, obj any) { update(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			update(obj)
			if p, ok := obj.(*corev1.Pod); ok {
				w.mu.Lock()
				w.pods[p.UID].ready = false
				w.mu.Unlock()
			}
		},
	})
	f.Start(ctx.Done())
	go w.loop(ctx)
	t.Cleanup(w.close)
	return w
}

func (w *writer) loop(ctx context.Context) {
	defer close(w.done)
	for i := 0; ctx.Err() == nil; i++ {
		w.run.Lock()
		w.writeOne(ctx, i)
		w.run.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(40 * time.Millisecond):
		}
	}
}

// target is a pod a write may go to.
type target struct {
	uid types.UID
	ip  string
}

// targets are the pods a write may go to, by address.
func (w *writer) targets() []target {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []target
	for uid, v := range w.pods {
		if v.ready && v.terminating.IsZero() && v.ip != "" {
			out = append(out, target{uid, v.ip})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ip < out[j].ip })
	return out
}

func (w *writer) writeOne(ctx context.Context, i int) {
	ts := w.targets()
	if len(ts) == 0 {
		return
	}
	tg := ts[i%len(ts)]
	w.mu.Lock()
	w.next++
	id := w.next
	w.mu.Unlock()
	start := time.Now()
	if err := w.insert(ctx, tg.ip, id); err == nil {
		w.mu.Lock()
		w.acks[id] = ack{pod: tg.uid, start: start}
		w.mu.Unlock()
	}
}

func (w *writer) db(ip string) *sql.DB {
	w.mu.Lock()
	defer w.mu.Unlock()
	db := w.dbs[ip]
	if db == nil {
		var err error
		db, err = sql.Open("odbc", altibasetest.ConnString(ip, servicePort, appUser, appPassword, false))
		if err != nil {
			return nil
		}
		db.SetMaxOpenConns(1)
		db.SetConnMaxIdleTime(5 * time.Second)
		w.dbs[ip] = db
	}
	return db
}

func (w *writer) insert(ctx context.Context, ip string, id int) error {
	db := w.db(ip)
	if db == nil {
		return fmt.Errorf("no db for %s", ip)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO T1 VALUES (%d, 'w%d')", id, id))
	return err
}

// burst inserts n rows straight into one pod (the rows it will hold
// unsent when it is killed at once after), all acknowledged.
func (w *writer) burst(pod corev1.Pod, n int) {
	w.t.Helper()
	w.run.Lock()
	defer w.run.Unlock()
	for k := 0; k < n; k++ {
		w.mu.Lock()
		w.next++
		id := w.next
		w.mu.Unlock()
		start := time.Now()
		if err := w.insert(context.Background(), pod.Status.PodIP, id); err != nil {
			w.t.Fatalf("burst insert %d into %s: %v", id, pod.Name, err)
		}
		w.mu.Lock()
		w.acks[id] = ack{pod: pod.UID, start: start}
		w.mu.Unlock()
	}
}

// check pauses the writer and waits (up to d) until every pod given holds
// the same rows and those rows include every acknowledged one (but those
// excused: begun on a pod already seen terminating). It returns the number
// of rows.
func (w *writer) check(pods []corev1.Pod, d time.Duration) int {
	w.t.Helper()
	w.run.Lock()
	defer w.run.Unlock()
	deadline := time.Now().Add(d)
	for {
		n, err := w.compare(pods)
		if err == nil {
			return n
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("after %s: %v\n%s", d, err, w.c.diagnose())
		}
		time.Sleep(time.Second)
	}
}

func (w *writer) compare(pods []corev1.Pod) (int, error) {
	var first map[int]bool
	for i, p := range pods {
		ids, err := readIDs(p.Status.PodIP)
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", p.Name, err)
		}
		if i == 0 {
			first = ids
			continue
		}
		if diff := diffIDs(first, ids); diff != "" {
			return 0, fmt.Errorf("%s and %s differ: %s", pods[0].Name, p.Name, diff)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var lost []int
	for id, a := range w.acks {
		if first[id] {
			continue
		}
		if v := w.pods[a.pod]; v != nil && !v.terminating.IsZero() && !a.start.Before(v.terminating) {
			continue
		}
		lost = append(lost, id)
	}
	if len(lost) > 0 {
		sort.Ints(lost)
		return 0, fmt.Errorf("%d acknowledged rows are missing, first %v", len(lost), lost[:min(len(lost), 10)])
	}
	return len(first), nil
}

func readIDs(ip string) (map[int]bool, error) {
	db, err := sql.Open("odbc", altibasetest.ConnString(ip, servicePort, appUser, appPassword, false))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, "SELECT ID FROM T1")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := map[int]bool{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids[id] = true
	}
	return ids, rows.Err()
}

func diffIDs(a, b map[int]bool) string {
	var onlyA, onlyB []string
	for id := range a {
		if !b[id] {
			onlyA = append(onlyA, fmt.Sprint(id))
		}
	}
	for id := range b {
		if !a[id] {
			onlyB = append(onlyB, fmt.Sprint(id))
		}
	}
	if len(onlyA)+len(onlyB) == 0 {
		return ""
	}
	return fmt.Sprintf("only in the first %d rows (%s), only in the second %d rows (%s)",
		len(onlyA), strings.Join(onlyA[:min(len(onlyA), 5)], ","), len(onlyB), strings.Join(onlyB[:min(len(onlyB), 5)], ","))
}

// acked is the number of acknowledged rows so far.
func (w *writer) acked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acks)
}

func (w *writer) close() {
	w.stop()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, db := range w.dbs {
		_ = db.Close()
	}
}
