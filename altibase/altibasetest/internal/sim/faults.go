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
	cut      map[string]bool // "HOST:PORT" (host lower-cased)
	extra    time.Duration
	failNext []altibase.Code
}

func newFaults() faults {
	return faults{stalled: map[string]bool{}, cut: map[string]bool{}}
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

func (f *faults) delay() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.extra
}

func (f *faults) takeFailNext() (altibase.Code, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.failNext) == 0 {
		return 0, false
	}
	c := f.failNext[0]
	f.failNext = f.failNext[1:]
	return c, true
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
func (n *Node) SetDelay(d time.Duration) {
	n.faults.mu.Lock()
	n.faults.extra = d
	n.faults.mu.Unlock()
}

// FailNext makes the next statement on this node (any session; SIM
// statements excluded) fail with code, with Altibase's text for it.
func (n *Node) FailNext(code altibase.Code) {
	n.faults.mu.Lock()
	n.faults.failNext = append(n.faults.failNext, code)
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
		n.SetDelay(time.Duration(x.n) * time.Millisecond)
	case "FAIL":
		n.FailNext(altibase.Code(x.n))
	}
	return &Result{Tag: "SIM"}, nil
}
