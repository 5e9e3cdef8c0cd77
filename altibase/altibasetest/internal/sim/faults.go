package sim

import (
	"strings"
	"sync"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// faults is the node's fault-injection state (see the package doc).
type faults struct {
	mu       sync.Mutex
	stalled  map[string]bool
	cut      map[string]bool          // "HOST:PORT" (host lower-cased)
	delays   map[string]time.Duration // statement prefix ("" = all) -> delay
	failNext []failRule
	// keepReceivers: DROP REPLICATION leaves the object's receivers
	// running (KeepReceiversOnDrop).
	keepReceivers bool
}

// failRule fails the next statement starting with match ("" = any).
type failRule struct {
	code  altibase.Code
	match string
}

// normSQL upper-cases sql and collapses white space, for prefix matching.
func normSQL(sql string) string { return strings.ToUpper(strings.Join(strings.Fields(sql), " ")) }

func newFaults() faults {
	return faults{stalled: map[string]bool{}, cut: map[string]bool{}, delays: map[string]time.Duration{}}
}

func linkKey(host string, port int64) string { return strings.ToLower(host) + ":" + formatInt(port) }

func (f *faults) isStalled(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stalled[name]
}

func (f *faults) isCut(host string, port int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cut[linkKey(host, port)]
}

// delay is the extra time for statement sql: the sum of the delays whose
// prefix it starts with.
func (f *faults) delay(sql string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.delays) == 0 {
		return 0
	}
	q := normSQL(sql)
	var d time.Duration
	for prefix, v := range f.delays {
		if strings.HasPrefix(q, prefix) {
			d += v
		}
	}
	return d
}

// takeFailNext consumes the first rule matching sql.
func (f *faults) takeFailNext(sql string) (altibase.Code, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.failNext) == 0 {
		return 0, false
	}
	q := normSQL(sql)
	for i, r := range f.failNext {
		if strings.HasPrefix(q, r.match) {
			f.failNext = append(f.failNext[:i:i], f.failNext[i+1:]...)
			return r.code, true
		}
	}
	return 0, false
}

// StallSender makes replication name's sender stop shipping (it stays
// connected, STATUS 1) until ResumeSender, so a gap builds up.
func (n *Node) StallSender(name string) {
	n.faults.mu.Lock()
	n.faults.stalled[strings.ToUpper(name)] = true
	n.faults.mu.Unlock()
}

// ResumeSender undoes StallSender.
func (n *Node) ResumeSender(name string) {
	n.faults.mu.Lock()
	delete(n.faults.stalled, strings.ToUpper(name))
	n.faults.mu.Unlock()
	n.mu.Lock()
	if r, ok := n.repls[strings.ToUpper(name)]; ok && r.sender != nil {
		r.sender.nudge()
	}
	n.mu.Unlock()
}

// CutLink makes this node's senders unable to reach host:port (as written in
// CREATE REPLICATION ... WITH): open connections to it drop and new ones
// fail as if the peer were down. Receivers are not affected; cut both nodes
// for a symmetric partition.
func (n *Node) CutLink(host string, port int) {
	n.faults.mu.Lock()
	n.faults.cut[linkKey(host, int64(port))] = true
	n.faults.mu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, r := range n.repls {
		if r.sender == nil || r.sender.pc == nil {
			continue
		}
		h := r.def.Hosts[r.def.LastUsed]
		if linkKey(h.Host, h.Port) == linkKey(host, int64(port)) {
			_ = r.sender.pc.c.Close()
		}
	}
}

// HealLink undoes CutLink for host:port.
func (n *Node) HealLink(host string, port int) {
	n.faults.mu.Lock()
	delete(n.faults.cut, linkKey(host, int64(port)))
	n.faults.mu.Unlock()
}

// HealAll undoes every CutLink.
func (n *Node) HealAll() {
	n.faults.mu.Lock()
	n.faults.cut = map[string]bool{}
	n.faults.mu.Unlock()
}

// SetDelay adds d to every following statement on this node (0 clears it).
func (n *Node) SetDelay(d time.Duration) { n.SetDelayOn("", d) }

// SetDelayOn adds d to every following statement that starts with prefix
// (case and spacing ignored; "" matches all); 0 clears it.
func (n *Node) SetDelayOn(prefix string, d time.Duration) {
	n.faults.mu.Lock()
	defer n.faults.mu.Unlock()
	if d <= 0 {
		delete(n.faults.delays, normSQL(prefix))
		return
	}
	n.faults.delays[normSQL(prefix)] = d
}

// KeepReceiversOnDrop makes DROP REPLICATION leave the dropped object's
// receivers running (and applying), as a server would whose DROP did not
// stop them: the case aku's Drop guards against by watching V$REPRECEIVER
// (docs/altibase.md section 10). Go only; no SQL form.
func (n *Node) KeepReceiversOnDrop(on bool) {
	n.faults.mu.Lock()
	n.faults.keepReceivers = on
	n.faults.mu.Unlock()
}

// FailNext makes the next statement on this node (any session; SIM
// statements excluded) fail with code, with Altibase's text for it.
func (n *Node) FailNext(code altibase.Code) { n.FailNextOn("", code) }

// FailNextOn makes the next statement starting with prefix (case and
// spacing ignored) fail with code. Rules queue up; each fires once.
func (n *Node) FailNextOn(prefix string, code altibase.Code) {
	n.faults.mu.Lock()
	n.faults.failNext = append(n.faults.failNext, failRule{code: code, match: normSQL(prefix)})
	n.faults.mu.Unlock()
}

// execSim runs a SIM statement.
func (n *Node) execSim(x *simStmt) (*Result, error) {
	switch x.verb {
	case "STALL":
		n.StallSender(x.name)
	case "RESUME":
		n.ResumeSender(x.name)
	case "CUT":
		n.CutLink(x.host, int(x.port))
	case "HEAL":
		n.HealLink(x.host, int(x.port))
	case "HEALALL":
		n.HealAll()
	case "DELAY":
		n.SetDelayOn(x.match, time.Duration(x.n)*time.Millisecond)
	case "FAIL":
		n.FailNextOn(x.match, altibase.Code(x.n))
	}
	return &Result{Tag: "SIM"}, nil
}
