package sim

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/aku-k8s/aku/altibase"
)

// Node is one simulated Altibase server.
type Node struct {
	opts Options
	now  func() time.Time
	// sleep is how START, STOP and SYNC wait for the server clock under a
	// tick-aligned profile (sleepCtx; tests with a fake clock replace it
	// before the first statement).
	sleep func(ctx context.Context, d time.Duration) error
	ln    net.Listener
	db    *bolt.DB
	wg    sync.WaitGroup // senders, receivers, the accept loop
	quit  chan struct{}  // closed by Close/Kill

	mu       sync.Mutex
	closed   bool
	killed   bool
	props    map[string]int64
	users    map[string]string // created users (SYS is Options.SysPassword)
	tables   map[string]*table // "USER.NAME"
	log      []logRec          // change log, SN ascending
	lastSN   int64
	logCh    chan struct{} // closed and replaced when the log grows
	ackCh    chan struct{} // closed and replaced when a sender's XSN moves
	repls    map[string]*replication
	replSeq  int64
	hostSeq  int64
	sysdba   *Session
	sessions int // open sessions
	recvs    map[*receiver]struct{}
	syncRows [][]cell // V$REPSYNC
	conns    map[net.Conn]struct{}
	faults   faults
}

// initialSN is where a new node's change log starts: above 2^32, as SNs on
// real servers are, so a client that reads XSN into 32 bits fails in tests.
const initialSN int64 = 1<<32 + 1000

// Open starts a node: loads DataDir if set (auto-starting replications left
// started, REPLICATION_SENDER_AUTO_START) and listens on ReplicationAddr.
func Open(opts Options) (*Node, error) {
	if opts.ReplicationAddr == "" {
		return nil, errors.New("sim: Options.ReplicationAddr is required")
	}
	if opts.SysPassword == "" {
		opts.SysPassword = "manager"
	}
	n := &Node{
		opts: opts, now: opts.Now, sleep: sleepCtx, quit: make(chan struct{}),
		props: defaultProps(), users: map[string]string{}, tables: map[string]*table{},
		logCh: make(chan struct{}), ackCh: make(chan struct{}),
		repls: map[string]*replication{}, recvs: map[*receiver]struct{}{},
		conns: map[net.Conn]struct{}{}, faults: newFaults(),
	}
	if n.now == nil {
		n.now = time.Now
	}
	for k, v := range opts.Properties {
		n.props[k] = v
	}
	if opts.DataDir != "" {
		db, err := openStore(opts.DataDir)
		if err != nil {
			return nil, err
		}
		n.db = db
		if err := n.load(); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	if n.lastSN == 0 {
		n.lastSN = initialSN
	}
	ln, err := net.Listen("tcp", opts.ReplicationAddr)
	if err != nil {
		if n.db != nil {
			_ = n.db.Close()
		}
		return nil, err
	}
	n.ln = ln
	if _, p, err := net.SplitHostPort(ln.Addr().String()); err == nil {
		port, _ := strconv.ParseInt(p, 10, 64)
		n.props[propReplPort] = port
	}
	n.wg.Add(1)
	go n.acceptLoop()
	n.autoStart()
	return n, nil
}

// ReplicationAddr is the bound replication listen address.
func (n *Node) ReplicationAddr() string { return n.ln.Addr().String() }

// Name is Options.Name.
func (n *Node) Name() string { return n.opts.Name }

// Close stops the node gracefully (senders stop, store closed; state kept
// in DataDir exactly as after a clean server stop: replications left started
// auto-start at the next Open).
func (n *Node) Close() error {
	n.shutdown(false)
	if n.db != nil {
		return n.db.Close()
	}
	return nil
}

// Kill stops the node abruptly, as kill -9 would: nothing is written after
// the call begins (every acknowledged statement already is); connections drop.
func (n *Node) Kill() {
	n.shutdown(true)
	if n.db != nil {
		_ = n.db.Close()
	}
}

func (n *Node) shutdown(kill bool) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed, n.killed = true, kill
	close(n.quit)
	_ = n.ln.Close()
	var senders []*sender
	for _, r := range n.repls {
		if r.sender != nil {
			senders = append(senders, r.sender)
		}
	}
	for c := range n.conns {
		_ = c.Close()
	}
	n.mu.Unlock()
	for _, s := range senders {
		s.halt()
	}
	n.wg.Wait()
}

// Login opens a session or returns an *Error (0x4102E wrong password,
// 0x41041 second SYSDBA session, 0x4106E ADMIN_MODE, 0x410C9 remote SYSDBA).
func (n *Node) Login(l Login) (*Session, error) {
	user := strings.ToUpper(l.User)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errc(altibase.CodeLinkFailure)
	}
	switch pw, ok := n.users[user]; {
	case user == "SYS":
		if l.Password != n.opts.SysPassword {
			return nil, errc(altibase.CodeInvalidPassword)
		}
	case !ok || !strings.EqualFold(pw, l.Password):
		return nil, errc(altibase.CodeInvalidPassword)
	}
	if l.SYSDBA && user != "SYS" {
		return nil, errc(altibase.CodeInvalidPrivileges)
	}
	if l.SYSDBA && l.Remote && n.props[propRemoteSYSDBA] == 0 {
		return nil, errc(altibase.CodeRemoteSYSDBA)
	}
	if n.props[propAdminMode] == 1 && !(user == "SYS" && l.SYSDBA) {
		return nil, errc(altibase.CodeAdminMode)
	}
	s := &Session{n: n, user: user, sysdba: l.SYSDBA, props: map[string]int64{}}
	if l.SYSDBA {
		if n.sysdba != nil {
			return nil, errc(altibase.CodeAnotherSYSDBA)
		}
		n.sysdba = s
	}
	n.sessions++
	return s, nil
}

// Sessions is the number of open sessions (Login minus Close), so a test
// can see leaked connections.
func (n *Node) Sessions() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sessions
}

// tickWait is how long START waits under a tick-aligned profile: until the
// next whole second of the server clock (0-1 s; a full second on a tick).
func tickWait(now time.Time) time.Duration {
	next := now.Truncate(time.Second).Add(time.Second)
	return next.Sub(now)
}

// minStopTime is the shortest STOP a real server showed (0.1-1.0 s).
const minStopTime = 100 * time.Millisecond

// stopWait is how long STOP waits under a tick-aligned profile: until the
// next whole second of the server clock, but at least minStopTime, so it
// takes 0.1-1.0 s as measured.
func stopWait(now time.Time) time.Duration {
	return max(tickWait(now), minStopTime)
}

// notifyLogLocked wakes senders waiting for new records; caller holds n.mu.
func (n *Node) notifyLogLocked() {
	close(n.logCh)
	n.logCh = make(chan struct{})
}

// notifyAckLocked wakes FLUSH waiters; caller holds n.mu.
func (n *Node) notifyAckLocked() {
	close(n.ackCh)
	n.ackCh = make(chan struct{})
}

// appendLogLocked adds a change-log record to memory and to b.
func (n *Node) appendLogLocked(b *batch, op byte, t *table, row, old []cell) {
	n.lastSN++
	rec := logRec{SN: n.lastSN, Op: op, Table: t.fullName(), Part: t.partitionOf(row), Row: row, Old: old}
	n.log = append(n.log, rec)
	if n.db != nil {
		b.put(string(bucketLog), snKey(rec.SN), encodeRec(&rec))
		b.logged = true
	}
}

// trimLogLocked drops records no replication needs any more: those at or
// below every object's restart point. Objects with XSN -1 need nothing (they
// start at the current position). Runs when enough can go at once.
func (n *Node) trimLogLocked(b *batch) {
	keep := n.lastSN
	for _, r := range n.repls {
		if p := r.restartSNLocked(); p >= 0 && p < keep {
			keep = p
		}
	}
	i := 0
	for i < len(n.log) && n.log[i].SN <= keep {
		i++
	}
	if i < 4096 && (i == 0 || i < len(n.log)) {
		return
	}
	if n.db != nil {
		for _, r := range n.log[:i] {
			b.del(string(bucketLog), snKey(r.SN))
		}
	}
	n.log = append([]logRec(nil), n.log[i:]...)
}

// maybeTrimLocked trims the log when it has grown large, so a node
// without running senders does not keep every change forever.
func (n *Node) maybeTrimLocked(b *batch) {
	if len(n.log) > 8192 {
		n.trimLogLocked(b)
	}
}

// logFrom returns the index of the first record with SN > sn.
func (n *Node) logFromLocked(sn int64) int {
	lo, hi := 0, len(n.log)
	for lo < hi {
		m := (lo + hi) / 2
		if n.log[m].SN <= sn {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
