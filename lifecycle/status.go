package lifecycle

import (
	"fmt"
	"strings"
)

// SenderState is one replication sender as V$REPSENDER shows it.
type SenderState struct {
	Running  bool // STATUS 1
	NetError bool // NET_ERROR_FLAG 1
}

// ServerView is what `aku status` read on one server.
type ServerView struct {
	Member  Member
	Err     error  // why the server could not be read; nil if it was
	Absent  bool   // with Err: it refused or timed out the connection (the hooks' rule for "gone")
	Busy    bool   // only SYSDBA is admitted (ADMIN_MODE = 1) and its slot is taken
	Session string // "SYS" (an ordinary session) or "SYSDBA"
	States  States
	Senders map[string]SenderState // by replication name
	Gaps    map[string]int64       // V$REPGAP.REP_GAP by replication name
}

// DirectionStatus is one replication object of a pair: the sender on From
// toward To.
type DirectionStatus struct {
	Replication string `json:"replication"`
	From        string `json:"from"`
	To          string `json:"to"`
	Exists      bool   `json:"exists"`
	Started     bool   `json:"started"`
	XSN         int64  `json:"xsn"`    // -1: reset (no restart point)
	Sender      string `json:"sender"` // running, retrying, network error, none
	Gap         int64  `json:"gap"`    // -1: unknown (no sender)
	Problem     string `json:"problem,omitempty"`
}

// Pair states.
const (
	PairReplicating = "replicating"
	PairIncomplete  = "incomplete"
	PairNotJoined   = "not joined" // one side never joined (or left): nothing expected
	PairUnreached   = "unreached"  // one side could not be read
)

// PairStatus is one pair of pods in one group.
type PairStatus struct {
	Group string          `json:"group"`
	A     int             `json:"a"`
	B     int             `json:"b"`
	AB    DirectionStatus `json:"ab"`
	BA    DirectionStatus `json:"ba"`
	State string          `json:"state"`
}

// ServerStatus is one server's line of the report.
type ServerStatus struct {
	Pod     string `json:"pod"`
	Host    string `json:"host"`
	Session string `json:"session,omitempty"`
	Joined  bool   `json:"joined"`
	Busy    bool   `json:"sysdbaBusy,omitempty"`
	Absent  bool   `json:"absent,omitempty"`
	Error   string `json:"error,omitempty"`
}

// MeshReport is the replication matrix of the whole mesh.
type MeshReport struct {
	Servers  []ServerStatus `json:"servers"`
	Pairs    []PairStatus   `json:"pairs"`
	Complete bool           `json:"complete"`
	Verdict  string         `json:"verdict"`
}

// Report builds the replication matrix from what was read on each server:
// for every group and every pair of pods both objects, their senders and
// gaps. A pair between two pods that joined must replicate in both
// directions; the mesh is complete when every such pair does and every
// server that answered was read and has joined. A server that refused or
// timed out the connection is absent, as the hooks judge it (a pod scaled
// away, or down): listed, not counted. Pure: no I/O.
func Report(groups []Group, views []ServerView) MeshReport {
	var r MeshReport
	joined := func(v ServerView, g Group) bool {
		if v.Err != nil {
			return false
		}
		if v.Member.Position == 0 {
			for name := range v.States {
				if strings.HasPrefix(name, g.Prefix+"_0") {
					return true
				}
			}
			return false
		}
		return IsMember(v.States, g, v.Member.Position, 0)
	}
	var problems, absent []string
	present := 0
	for _, v := range views {
		s := ServerStatus{Pod: v.Member.Name, Host: v.Member.Host, Session: v.Session, Busy: v.Busy, Absent: v.Absent}
		switch {
		case v.Err != nil && v.Absent:
			s.Session, s.Error = "", v.Err.Error()
			absent = append(absent, v.Member.Name)
		case v.Err != nil:
			s.Error = v.Err.Error()
			problems = append(problems, fmt.Sprintf("%s not read (%v)", v.Member.Name, v.Err))
		default:
			present++
			s.Joined = true
			for _, g := range groups {
				s.Joined = s.Joined && joined(v, g)
			}
			if !s.Joined {
				problems = append(problems, v.Member.Name+" has not joined")
			}
		}
		r.Servers = append(r.Servers, s)
	}
	for _, g := range groups {
		for i, a := range views {
			for _, b := range views[i+1:] {
				p := PairStatus{Group: g.Prefix, A: a.Member.Position, B: b.Member.Position}
				p.AB = direction(a, b, g)
				p.BA = direction(b, a, g)
				switch {
				case a.Err != nil || b.Err != nil:
					p.State = PairUnreached
				case !joined(a, g) || !joined(b, g):
					p.State = PairNotJoined
				case p.AB.Problem != "" || p.BA.Problem != "":
					p.State = PairIncomplete
					for _, d := range []DirectionStatus{p.AB, p.BA} {
						if d.Problem != "" {
							problems = append(problems, fmt.Sprintf("%s on %s %s", d.Replication, d.From, d.Problem))
						}
					}
				default:
					p.State = PairReplicating
				}
				r.Pairs = append(r.Pairs, p)
			}
		}
	}
	r.Complete = len(problems) == 0
	if r.Complete {
		r.Verdict = fmt.Sprintf("complete: %d pods, every pair replicating in both directions", present)
	} else {
		r.Verdict = "incomplete: " + strings.Join(problems, "; ")
	}
	if len(absent) > 0 {
		r.Verdict += "; absent (connection refused or timed out): " + strings.Join(absent, ", ")
	}
	return r
}

func direction(from, to ServerView, g Group) DirectionStatus {
	name := Name(g.Prefix, from.Member.Position, to.Member.Position)
	d := DirectionStatus{Replication: name, From: from.Member.Name, To: to.Member.Name, XSN: -1, Gap: -1, Sender: "none"}
	if from.Err != nil {
		d.Sender = "unknown"
		return d
	}
	st, ok := from.States[name]
	d.Exists, d.Started, d.XSN = ok, st.IsStarted, st.XSN
	if !ok {
		d.XSN = -1
	}
	if s, ok := from.Senders[name]; ok {
		switch {
		case s.NetError:
			d.Sender = "network error"
		case s.Running:
			d.Sender = "running"
		default:
			d.Sender = "retrying"
		}
	}
	if gap, ok := from.Gaps[name]; ok {
		d.Gap = gap
	}
	d.Problem = notReplicating(from.States, name, true)
	switch {
	case d.Problem != "":
	case d.Sender == "none":
		d.Problem = "started, but no sender runs"
	case d.Sender == "network error":
		d.Problem = "sender cannot reach its peer"
	}
	return d
}
