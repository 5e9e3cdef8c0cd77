package sim

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// maxReplNameLen is QC_MAX_NAME_LEN (docs/altibase.md section 1).
const maxReplNameLen = 40

// replHost is one row of SYS_REPL_HOSTS_.
type replHost struct {
	No   int64
	Host string
	Port int64
}

// replDef is a replication object as SYS_REPLICATIONS_ stores it (JSON in
// the store).
type replDef struct {
	Name      string
	Hosts     []replHost
	LastUsed  int // index into Hosts
	Items     []itemSpec
	IsStarted int64
	// XSN is the restart point: the SN of the last change the peer
	// acknowledged; -1 after CREATE and RESET.
	XSN int64
	// Pinned is where a started sender that has not yet connected will
	// begin (START RETRY of an object with XSN -1); -1 when unused.
	Pinned  int64
	Created int64
}

// replication is a replication object and its local sender.
type replication struct {
	ctl     sync.Mutex // serializes START/STOP/SYNC/RESET/DROP on the object
	def     replDef    // guarded by Node.mu
	sender  *sender    // guarded by Node.mu
	dropped bool       // guarded by Node.mu
}

// restartSNLocked is the log position the object still needs (-1: none).
func (r *replication) restartSNLocked() int64 {
	if r.def.XSN >= 0 {
		return r.def.XSN
	}
	return r.def.Pinned
}

func (n *Node) persistReplLocked(r *replication) error {
	b := &batch{}
	b.putJSON(bucketRepl, r.def.Name, r.def)
	return n.commit(b)
}

func (s *Session) execCreateRepl(x *createReplStmt) (*Result, error) {
	if s.user != "SYS" {
		return nil, errc(altibase.CodeNoPermission)
	}
	if len(x.name) > maxReplNameLen {
		return nil, errc(altibase.CodeNameTooLong)
	}
	for _, h := range x.hosts {
		if len(h.Host)+2 > 64 {
			return nil, errc(altibase.CodeNameTooLong)
		}
		if h.Host == "" || h.Port <= 0 || h.Port > 65535 {
			return nil, errc(altibase.CodeInvalidHost)
		}
	}
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.repls[x.name]; ok {
		return nil, errc(altibase.CodeDuplicateName)
	}
	if int64(len(n.repls)) >= n.props[propReplMaxCount] {
		return nil, errc(altibase.CodeMaxReplications)
	}
	if n.props[propAllowDupHosts] == 0 {
		for _, r := range n.repls {
			for _, h := range r.def.Hosts {
				for _, nh := range x.hosts {
					if strings.EqualFold(h.Host, nh.Host) && h.Port == nh.Port {
						return nil, errc(altibase.CodeDuplicateHost)
					}
				}
			}
		}
	}
	for _, it := range x.items {
		if err := n.checkItemLocked(it); err != nil {
			return nil, err
		}
	}
	n.replSeq++
	def := replDef{Name: x.name, Items: x.items, XSN: -1, Pinned: -1, Created: n.replSeq}
	for _, h := range x.hosts {
		n.hostSeq++
		def.Hosts = append(def.Hosts, replHost{No: n.hostSeq, Host: h.Host, Port: h.Port})
	}
	r := &replication{def: def}
	b := &batch{}
	b.putJSON(bucketRepl, def.Name, def)
	b.putMeta("hostSeq", n.hostSeq)
	b.putMeta("replSeq", n.replSeq)
	if err := n.commit(b); err != nil {
		return nil, err
	}
	n.repls[def.Name] = r
	return &Result{Tag: "CREATE"}, nil
}

// checkItemLocked validates FROM u.t [PARTITION p]: table exists with a PK.
func (n *Node) checkItemLocked(it itemSpec) error {
	name := it.LocalUser + "." + it.LocalTable
	t, ok := n.tables[name]
	if !ok {
		return errc(altibase.CodeReplTableNotFound, name)
	}
	if it.LocalPart != "" && !t.hasPart(it.LocalPart) {
		return errc(altibase.CodeReplTableNotFound, name+" PARTITION "+it.LocalPart)
	}
	if len(t.def.PK) == 0 {
		return errc(altibase.CodeNoPrimaryKey, name)
	}
	return nil
}

// lookupRepl finds an object for ALTER/DROP (0x31084 for non-SYS, 0x6111B
// for an unknown name).
func (s *Session) lookupRepl(name string) (*replication, error) {
	if s.user != "SYS" {
		return nil, errc(altibase.CodeNoPermission)
	}
	s.n.mu.Lock()
	defer s.n.mu.Unlock()
	r, ok := s.n.repls[name]
	if !ok {
		return nil, errc(altibase.CodeUndefinedReplication)
	}
	return r, nil
}

func (s *Session) execDropRepl(x *dropReplStmt) (*Result, error) {
	r, err := s.lookupRepl(x.name)
	if err != nil {
		return nil, err
	}
	r.ctl.Lock()
	defer r.ctl.Unlock()
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if r.dropped {
		return nil, errc(altibase.CodeUndefinedReplication)
	}
	if r.sender != nil || r.def.IsStarted == 1 {
		return nil, errc(altibase.CodeAlreadyStarted)
	}
	b := &batch{}
	b.del(string(bucketRepl), []byte(r.def.Name))
	if err := n.commit(b); err != nil {
		return nil, err
	}
	r.dropped = true
	delete(n.repls, r.def.Name)
	n.faults.mu.Lock()
	keep := n.faults.keepReceivers
	n.faults.mu.Unlock()
	for rc := range n.recvs {
		if rc.name == r.def.Name && !keep {
			_ = rc.c.Close()
			delete(n.recvs, rc)
		}
	}
	return &Result{Tag: "DROP"}, nil
}

func (s *Session) execAlterRepl(ctx context.Context, x *alterReplStmt) (*Result, error) {
	r, err := s.lookupRepl(x.name)
	if err != nil {
		return nil, err
	}
	n := s.n
	if x.action == actFlush {
		if err := n.flush(ctx, r, x.all, x.wait); err != nil {
			return nil, err
		}
		return &Result{Tag: "ALTER"}, nil
	}
	r.ctl.Lock()
	defer r.ctl.Unlock()
	n.mu.Lock()
	dropped := r.dropped
	n.mu.Unlock()
	if dropped {
		return nil, errc(altibase.CodeUndefinedReplication)
	}
	switch x.action {
	case actStart, actQuickStart:
		err = n.start(ctx, r, x.action == actQuickStart, x.retry)
	case actStop:
		err = n.stop(ctx, r)
	case actReset:
		err = n.reset(r)
	case actSync, actSyncOnly:
		err = n.sync(ctx, r, x.action == actSyncOnly, x.tables)
	}
	if err != nil {
		return nil, err
	}
	return &Result{Tag: "ALTER"}, nil
}

// waitClock makes a successful START (tickWait), STOP (stopWait) or SYNC
// (syncWait) return on the server clock under a tick-aligned profile.
func (n *Node) waitClock(ctx context.Context, wait func(now time.Time) time.Duration) error {
	if !n.opts.Profile.TickAligned {
		return nil
	}
	return n.sleep(ctx, wait(n.now()))
}

func (n *Node) start(ctx context.Context, r *replication, quick, retry bool) error {
	n.mu.Lock()
	if r.sender != nil {
		n.mu.Unlock()
		return errc(altibase.CodeSenderAlreadyStarted)
	}
	if retry {
		defer n.mu.Unlock()
		if quick {
			r.def.XSN = n.lastSN
		} else if r.def.XSN < 0 {
			r.def.Pinned = n.lastSN
		}
		r.def.IsStarted = 1
		if err := n.persistReplLocked(r); err != nil {
			return err
		}
		n.launchSenderLocked(r, nil)
		return nil
	}
	n.mu.Unlock()
	pc, err := n.connect(ctx, r, false)
	if err != nil {
		return err
	}
	n.mu.Lock()
	if r.sender != nil {
		n.mu.Unlock()
		n.closePeer(pc)
		return errc(altibase.CodeSenderAlreadyStarted)
	}
	if quick || r.def.XSN < 0 {
		r.def.XSN = n.lastSN
	}
	r.def.Pinned = -1
	r.def.IsStarted = 1
	if err := n.persistReplLocked(r); err != nil {
		n.mu.Unlock()
		n.closePeer(pc)
		return err
	}
	n.launchSenderLocked(r, pc)
	n.mu.Unlock()
	return n.waitClock(ctx, tickWait)
}

func (n *Node) stop(ctx context.Context, r *replication) error {
	n.mu.Lock()
	snd := r.sender
	if snd == nil && r.def.IsStarted != 1 {
		n.mu.Unlock()
		return errc(altibase.CodeNotStarted)
	}
	n.mu.Unlock()
	if snd != nil {
		snd.halt()
	}
	n.mu.Lock()
	r.sender = nil
	r.def.IsStarted = 0
	r.def.Pinned = -1
	err := n.persistReplLocked(r)
	n.mu.Unlock()
	if err != nil {
		return err
	}
	return n.waitClock(ctx, stopWait)
}

func (n *Node) reset(r *replication) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if r.sender != nil {
		return errc(altibase.CodeSenderAlreadyStarted)
	}
	r.def.XSN, r.def.Pinned, r.def.IsStarted = -1, -1, 0
	return n.persistReplLocked(r)
}

// flush waits until the sender has shipped (and the peer acknowledged) the
// log up to the position at statement time, or the newest position for
// FLUSH ALL; WAIT n bounds it (0x61075).
func (n *Node) flush(ctx context.Context, r *replication, all bool, wait int64) error {
	var deadline <-chan time.Time
	if wait >= 0 {
		t := time.NewTimer(time.Duration(wait) * time.Second)
		defer t.Stop()
		deadline = t.C
	}
	n.mu.Lock()
	target := n.lastSN
	n.mu.Unlock()
	for {
		n.mu.Lock()
		if n.closed {
			n.mu.Unlock()
			return errc(altibase.CodeLinkFailure)
		}
		if r.sender == nil {
			n.mu.Unlock()
			return errc(altibase.CodeNotStarted)
		}
		if all {
			target = n.lastSN
		}
		done := r.restartSNLocked() >= target
		ch := n.ackCh
		n.mu.Unlock()
		if done {
			return nil
		}
		poll := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ch:
		case <-poll.C:
		case <-deadline:
			poll.Stop()
			return errc(altibase.CodeFlushTimeout)
		case <-ctx.Done():
			poll.Stop()
			return ctx.Err()
		}
		poll.Stop()
	}
}
