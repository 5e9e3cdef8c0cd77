package scenarios_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/alexbrainman/odbc"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/altibase/altibasetest"
	"github.com/aku-k8s/aku/cmd/internal/altibaselc"
	"github.com/aku-k8s/aku/lifecycle"
	"github.com/aku-k8s/aku/lifecycle/akulog"
)

// cluster is a StatefulSet of simulated Altibase pods on 127.0.1.x, all on
// the same service and replication ports, as pods are.
type cluster struct {
	t        testing.TB
	n        int
	base     int // pod i listens on 127.0.1.(base+i)
	port     int
	replPort int
	servers  []*altibasetest.Server
	groups   []lifecycle.Group
	markers  string
	log      *slog.Logger
	logs     *syncWriter
	retries  int          // client retries of connects and lost links (default 2)
	gone     map[int]bool // positions outside the StatefulSet's ordinals (a scale-down)
	absent   map[int]bool // positions with no pod, as the Kubernetes API tells: not dialled
}

var clusterSeq struct {
	sync.Mutex
	next int
}

// freePort finds a port free on the given address.
func freePort(t testing.TB, host string) int {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// tableDDL creates the targets: T1..Tn with a primary key; a partitioned
// table for groups that name partitions.
var tableDDL = []string{
	"CREATE TABLE T1 (ID INTEGER, V VARCHAR(40), PRIMARY KEY (ID))",
	"CREATE TABLE T2 (ID INTEGER, V VARCHAR(40), PRIMARY KEY (ID))",
	"CREATE TABLE T3 (ID INTEGER, V VARCHAR(40), PRIMARY KEY (ID)) PARTITION BY RANGE (ID) (PARTITION P1 VALUES LESS THAN (500000000), PARTITION P2 VALUES DEFAULT)",
}

func oneGroup() []lifecycle.Group {
	return []lifecycle.Group{{Prefix: "AKU_REP", SyncParallel: 2, Items: []lifecycle.Item{{User: "SYS", Table: "T1"}}}}
}

func newCluster(t testing.TB, n int, groups []lifecycle.Group) *cluster {
	t.Helper()
	return newClusterWith(t, n, groups, altibasetest.Profile{})
}

// newClusterWith runs the servers with a latency profile (Realistic: START
// and STOP on the server clock's whole-second tick, SYNC ~40,000 rows/s).
func newClusterWith(t testing.TB, n int, groups []lifecycle.Group, profile altibasetest.Profile) *cluster {
	t.Helper()
	altibasetest.RequireDriver(t)
	clusterSeq.Lock()
	// 30 slots of 8 addresses, reused in turn: a cluster is closed with
	// its test, and -count=N runs far more than 30 clusters.
	base := 10 + (clusterSeq.next%30)*8
	clusterSeq.next++
	clusterSeq.Unlock()
	c := &cluster{t: t, n: n, base: base, groups: groups, markers: t.TempDir()}
	c.port = freePort(t, c.host(0))
	c.replPort = freePort(t, c.host(0))
	c.logs = &syncWriter{w: &strings.Builder{}}
	c.log = slog.New(akulog.New(c.logs, slog.LevelDebug))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("aku log:\n%s", c.logs.String())
		}
	})
	for i := 0; i < n; i++ {
		s := altibasetest.NewServer(t, altibasetest.Options{
			Name: fmt.Sprintf("pod-%d", i), Host: c.host(i), Port: c.port, ReplicationPort: c.replPort,
			DataDir:    t.TempDir(),
			Properties: map[string]int64{"ADMIN_MODE": 1, "REMOTE_SYSDBA_ENABLE": 1},
			Profile:    profile,
		})
		c.servers = append(c.servers, s)
		db := c.open(i, true)
		for _, ddl := range tableDDL {
			if _, err := db.ExecContext(context.Background(), ddl); err != nil {
				t.Fatalf("pod-%d: %s: %v", i, ddl, err)
			}
		}
		db.Close()
	}
	return c
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

// reset forgets what was logged so far.
func (s *syncWriter) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.Reset()
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (c *cluster) host(i int) string { return fmt.Sprintf("127.0.1.%d", c.base+i) }

// session is a dedicated connection; Close releases it on the server (the
// SYSDBA slot included).
type session struct {
	*sql.Conn
	db *sql.DB
}

func (s *session) Close() error {
	s.Conn.Close()
	return s.db.Close()
}

// open returns a dedicated connection (SYSDBA or a normal SYS session),
// closed at the end of the test if not before.
func (c *cluster) open(i int, sysdba bool) *session {
	c.t.Helper()
	db, err := sql.Open("odbc", c.servers[i].ConnString(sysdba))
	if err != nil {
		c.t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := db.Conn(ctx)
	// The server frees a closed SYSDBA session a moment after the client
	// closed it.
	for tries := 0; err != nil && strings.Contains(err.Error(), "ERR-41041") && tries < 40; tries++ {
		time.Sleep(25 * time.Millisecond)
		conn, err = db.Conn(ctx)
	}
	if err != nil {
		db.Close()
		c.t.Fatalf("pod-%d: connect: %v", i, err)
	}
	s := &session{Conn: conn, db: db}
	c.t.Cleanup(func() { s.Close() })
	return s
}

type staticDiscovery struct {
	c    *cluster
	self int
}

func (d staticDiscovery) member(i int) lifecycle.Member {
	return lifecycle.Member{Position: i, Name: fmt.Sprintf("altibase-sts-%d", i), Host: d.c.host(i), Gone: d.c.gone[i],
		Absent: d.c.absent[i]}
}
func (d staticDiscovery) Self(context.Context) (lifecycle.Member, error) {
	return d.member(d.self), nil
}
func (d staticDiscovery) Members(context.Context) ([]lifecycle.Member, error) {
	out := make([]lifecycle.Member, d.c.n)
	for i := range out {
		out[i] = d.member(i)
	}
	return out, nil
}

// runner is pod i's aku, through the real client and ODBC stack.
func (c *cluster) runner(i int, tweak func(*lifecycle.Options)) *lifecycle.Runner {
	opts := lifecycle.Options{
		ServerCount: c.n, ReplicationPort: c.replPort, Groups: c.groups,
		FlushAtStart: true, FlushAtEnd: true, ResetAtEnd: lifecycle.ResetAlways,
		MarkerFile: filepath.Join(c.markers, fmt.Sprintf("aku_start_completed.%d", i)),
	}
	if tweak != nil {
		tweak(&opts)
	}
	log := c.log.With("pod", fmt.Sprintf("altibase-sts-%d", i))
	return &lifecycle.Runner{
		Opts:      opts,
		Discovery: staticDiscovery{c: c, self: i},
		Dialer: &altibaselc.Dialer{Port: c.port, Opts: altibase.Options{
			Dialect: altibase.DialectSimulator, Password: "manager",
			LoginTimeout: 5 * time.Second, QueryTimeout: 60 * time.Second,
			RetryCount: max(c.retries, 2), RetryDelay: 50 * time.Millisecond, Logger: log,
		}},
		Log: log,
	}
}

// client is a dedicated client session to pod i, closed with the test.
func (c *cluster) client(i int) *altibase.Conn {
	c.t.Helper()
	conn, err := altibase.Connect(bounded(c.t), altibase.Endpoint{Host: c.host(i), Port: c.port}, altibase.Options{
		Dialect: altibase.DialectSimulator, Password: "manager", LoginTimeout: 5 * time.Second, QueryTimeout: 30 * time.Second,
		// The server frees a closed SYSDBA session a moment after the
		// client closed it.
		RetryCount: 20, RetryDelay: 25 * time.Millisecond,
	})
	if err != nil {
		c.t.Fatalf("pod-%d: %v", i, err)
	}
	c.t.Cleanup(func() { conn.Close() })
	return conn
}

func bounded(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (c *cluster) start(i int) {
	c.t.Helper()
	if err := c.runner(i, nil).Start(bounded(c.t)); err != nil {
		c.t.Fatalf("start pod-%d: %v", i, err)
	}
}

// startWriting starts pod i while the writers write a burst after every
// step of the start: inside the join's window, deterministically.
func (c *cluster) startWriting(i int, ws []*writer, n int) {
	c.t.Helper()
	r := c.runner(i, nil)
	r.Checkpoint = func(context.Context, string) error {
		for _, w := range ws {
			w.burst(n)
		}
		return nil
	}
	if err := r.Start(bounded(c.t)); err != nil {
		c.t.Fatalf("start pod-%d: %v", i, err)
	}
}

// startErr runs pod i's start and returns its error.
func (c *cluster) startErr(i int, tweak func(*lifecycle.Runner)) error {
	r := c.runner(i, nil)
	if tweak != nil {
		tweak(r)
	}
	return r.Start(bounded(c.t))
}

// markerGone removes pod i's marker, as a container restart does (/tmp is
// the container's own).
func (c *cluster) markerGone(i int) {
	os.Remove(filepath.Join(c.markers, fmt.Sprintf("aku_start_completed.%d", i)))
}

// end runs pod i's end without word from the API on why it stops (DNS
// mode): reset decides.
func (c *cluster) end(i int, reset bool) {
	c.t.Helper()
	c.endFor(i, reset, lifecycle.IntentUnknown)
}

// leave runs pod i's end for a scale-down, as the API reports it.
func (c *cluster) leave(i int, reset bool) {
	c.t.Helper()
	c.endFor(i, reset, lifecycle.IntentScaleDown)
}

func (c *cluster) endFor(i int, reset bool, why lifecycle.Intent) {
	c.t.Helper()
	r := c.runner(i, func(o *lifecycle.Options) {
		if !reset {
			o.ResetAtEnd = lifecycle.ResetNever
		}
	})
	r.Intent = func(context.Context) (lifecycle.Intent, string) { return why, "test" }
	if err := r.End(bounded(c.t)); err != nil {
		c.t.Fatalf("end pod-%d: %v", i, err)
	}
}

// rows reads a table as id -> value.
func (c *cluster) rows(i int, table string) map[int64]string {
	c.t.Helper()
	conn := c.open(i, true)
	defer conn.Close()
	rs, err := conn.QueryContext(context.Background(), "SELECT ID, V FROM "+table+" ORDER BY ID")
	if err != nil {
		c.t.Fatalf("pod-%d: read %s: %v", i, table, err)
	}
	defer rs.Close()
	out := map[int64]string{}
	for rs.Next() {
		var id int64
		var v sql.NullString
		if err := rs.Scan(&id, &v); err != nil {
			c.t.Fatal(err)
		}
		out[id] = v.String
	}
	if err := rs.Err(); err != nil {
		c.t.Fatal(err)
	}
	return out
}

// converge waits until every listed pod holds the same rows in every table
// and those rows include everything the writers had acknowledged.
func (c *cluster) converge(pods []int, tables []string, ws ...*writer) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		problem := c.diff(pods, tables, ws)
		if problem == "" {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("pods %v did not converge: %s", pods, problem)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *cluster) diff(pods []int, tables []string, ws []*writer) string {
	for _, table := range tables {
		ref := c.rows(pods[0], table)
		for _, w := range ws {
			if w.table != table {
				continue
			}
			if p := w.check(ref); p != "" {
				return fmt.Sprintf("pod-%d %s: %s", pods[0], table, p)
			}
		}
		for _, p := range pods[1:] {
			got := c.rows(p, table)
			if d := mapDiff(ref, got); d != "" {
				return fmt.Sprintf("%s: pod-%d vs pod-%d: %s", table, pods[0], p, d)
			}
		}
	}
	return ""
}

func mapDiff(a, b map[int64]string) string {
	var missing, extra, changed []int64
	for k, v := range a {
		w, ok := b[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case w != v:
			changed = append(changed, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra)+len(changed) == 0 {
		return ""
	}
	return fmt.Sprintf("%d rows missing %v, %d extra %v, %d differ %v (of %d)",
		len(missing), head(missing), len(extra), head(extra), len(changed), head(changed), len(a))
}

func head(ids []int64) []int64 {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(ids) > 5 {
		return ids[:5]
	}
	return ids
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func upTo(c *cluster, n int) {
	for i := 0; i < n; i++ {
		c.start(i)
	}
}

func pods(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// waitLog waits until aku's log holds s; false if it did not within d.
func (c *cluster) waitLog(s string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !strings.Contains(c.logs.String(), s) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// startAsync runs pod i's start in the background; the result arrives on
// the channel.
func (c *cluster) startAsync(r *lifecycle.Runner, ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() { done <- r.Start(ctx) }()
	return done
}

// meshStarted fails the test unless every pair among pods is started in
// both directions with a restart point.
func (c *cluster) meshStarted(pods []int) {
	c.t.Helper()
	for _, i := range pods {
		conn := c.client(i)
		list, err := conn.Replications(bounded(c.t))
		conn.Close() // the SYSDBA slot is needed by the checks that follow
		if err != nil {
			c.t.Fatalf("pod-%d: %v", i, err)
		}
		byName := map[string]bool{}
		for _, r := range list {
			byName[r.Name] = r.IsStarted && r.XSN != -1
		}
		for _, j := range pods {
			if j == i {
				continue
			}
			for _, g := range c.groups {
				name := lifecycle.Name(g.Prefix, i, j)
				if !byName[name] {
					c.t.Errorf("pod-%d: %s is not replicating", i, name)
				}
			}
		}
	}
}

// finish writes on every pod of the mesh once more and checks the end
// state: every pair replicating, every pod identical, nothing lost.
func (c *cluster) finish(writers ...*writer) {
	c.t.Helper()
	for _, w := range writers {
		w.burst(30)
	}
	c.meshStarted(pods(c.n))
	c.converge(pods(c.n), []string{"T1"}, writers...)
}

// noObjects fails the test if pod i holds any replication object.
func (c *cluster) noObjects(i int) {
	c.t.Helper()
	conn := c.client(i)
	defer conn.Close()
	list, err := conn.Replications(bounded(c.t))
	if err != nil {
		c.t.Fatal(err)
	}
	if len(list) != 0 {
		c.t.Errorf("pod-%d changed: %v", i, list)
	}
}
