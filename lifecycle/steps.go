package lifecycle

import (
	"fmt"
	"strings"
	"time"
)

// A hook is a Plan: the decisions taken from the mesh as it was read (who
// takes part, which objects, which path and why), then an ordered list of
// named Steps. Planning is pure (plan_start.go, plan_end.go); one small loop
// (run.go) carries a plan out, and `aku plan` prints the same plan without
// running it. The README's numbered lists, the checkpoint names and the
// code are this one list.

// OpKind is what one Op does on one server.
type OpKind int

const (
	OpSetProperty       OpKind = iota // ALTER SYSTEM SET Property = Value
	OpCreate                          // CREATE REPLICATION (Create)
	OpStart                           // ALTER REPLICATION START; a running sender is fine
	OpStop                            // ALTER REPLICATION STOP; a stopped sender is fine
	OpReset                           // ALTER REPLICATION RESET
	OpDrop                            // DROP REPLICATION
	OpFlush                           // ALTER REPLICATION FLUSH (Flush)
	OpFlushTowardMaster               // FLUSH ALL WAIT in slices while pod-0 answers; not started: a warning
	OpTruncate                        // TRUNCATE the Items' tables
	OpSync                            // ALTER REPLICATION SYNC PARALLEL Parallel (on pod-0)
	OpOpen                            // ADMIN_MODE = 0
	OpVerify                          // read every server; fail naming any pair not replicating
	OpWait                            // sleep Wait (AKU_DELAY_START_COMPLETE)
	OpWriteMarker                     // write the marker file
	OpRemoveMarker                    // remove the marker file
)

var opNames = [...]string{
	OpSetProperty: "set-property", OpCreate: "create", OpStart: "start", OpStop: "stop",
	OpReset: "reset", OpDrop: "drop", OpFlush: "flush", OpFlushTowardMaster: "flush-toward-master",
	OpTruncate: "truncate", OpSync: "sync", OpOpen: "open", OpVerify: "verify", OpWait: "wait",
	OpWriteMarker: "write-marker", OpRemoveMarker: "remove-marker",
}

func (k OpKind) String() string {
	if k >= 0 && int(k) < len(opNames) {
		return opNames[k]
	}
	return fmt.Sprintf("op(%d)", int(k))
}

// MarshalText names the kind in `aku plan -o json`.
func (k OpKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Op is one action on one server.
type Op struct {
	Kind        OpKind       `json:"kind"`
	Replication string       `json:"replication,omitempty"`
	Create      *Replication `json:"create,omitempty"`
	Flush       FlushMode    `json:"flush,omitzero"`
	// Alone (OpFlush at end): when the bounded flush runs out, the peers'
	// sessions are given up and the flush goes on holding only this
	// server's; the rest of the plan is then made again on a fresh view.
	Alone    bool          `json:"alone,omitempty"`
	Items    []Item        `json:"items,omitempty"`
	Parallel int           `json:"parallel,omitempty"`
	Property string        `json:"property,omitempty"`
	Value    int64         `json:"value,omitempty"`
	Wait     time.Duration `json:"wait,omitempty"`
	Path     string        `json:"path,omitempty"` // the marker file
	// Peer, when set: the op needs that pod (a sender started toward it, a flush
	// to it); it is skipped if the pod went away earlier in the run.
	Peer *int `json:"peer,omitempty"`
	// Log, when set, is logged at Info after the op succeeded.
	Log string `json:"-"`
	// Statements: the SQL, when the caller rendered it (Plan.Fill).
	Statements []string `json:"statements,omitempty"`
}

// Describe is the op in a line: the statement it stands for, in words.
func (o Op) Describe() string {
	switch o.Kind {
	case OpSetProperty:
		return fmt.Sprintf("set %s = %d", o.Property, o.Value)
	case OpCreate:
		return fmt.Sprintf("create %s toward %s:%d", o.Replication, o.Create.RemoteHost, o.Create.RemotePort)
	case OpFlush, OpFlushTowardMaster:
		s := "flush"
		if o.Flush.All {
			s += " all"
		}
		if o.Flush.Wait > 0 {
			s += fmt.Sprintf(" wait %s", o.Flush.Wait)
		}
		if o.Alone {
			s += " (then without a bound, holding only this session)"
		}
		if o.Kind == OpFlushTowardMaster {
			s += " (again while pod-0 answers)"
		}
		return s + " " + o.Replication
	case OpTruncate:
		return "truncate " + itemList(o.Items)
	case OpSync:
		return fmt.Sprintf("sync %s parallel %d", o.Replication, o.Parallel)
	case OpOpen:
		return "set ADMIN_MODE = 0"
	case OpVerify:
		return "verify the mesh: every pair with a live member replicates both ways"
	case OpWait:
		return fmt.Sprintf("wait %s (AKU_DELAY_START_COMPLETE)", o.Wait)
	case OpWriteMarker:
		return "write marker " + o.Path
	case OpRemoveMarker:
		return "remove marker " + o.Path
	}
	return o.Kind.String() + " " + o.Replication
}

func itemList(items []Item) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = it.User + "." + it.Table
		if it.Partition != "" {
			parts[i] += " partition " + it.Partition
		}
	}
	return strings.Join(parts, ", ")
}

// Work is one server's ops in a step, run in order on its session.
type Work struct {
	Position int    `json:"position"` // the server's Member.Position
	Pod      string `json:"pod"`
	Ops      []Op   `json:"ops"`
}

// Event is a Pod Event a step posts.
type Event struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Event reasons: a contract with operators (kubectl describe, alerts).
const (
	EventStarting         = "AkuStarting"
	EventWaitingForMaster = "AkuWaitingForMaster"
	EventSyncing          = "AkuSyncing"
	EventSyncFinished     = "AkuSyncFinished"
	EventFlushed          = "AkuFlushed"
	EventStarted          = "AkuStarted"
	EventStartFailed      = "AkuStartFailed"
	EventResetSkipped     = "AkuResetSkipped"
	EventReset            = "AkuReset"
)

// Step is one named step of a hook. Servers work concurrently; a server's
// ops run in order.
type Step struct {
	Name string `json:"name"` // passed to Runner.Checkpoint after the step
	Why  string `json:"why"`  // what the step is for, for people
	// Log is logged at Info before the step (the original's lines), with
	// LogArgs; Done after it.
	Log     string `json:"-"`
	LogArgs []any  `json:"-"`
	Done    string `json:"-"`
	Before  *Event `json:"event,omitempty"`     // posted before the step
	After   *Event `json:"doneEvent,omitempty"` // posted after it
	Work    []Work `json:"work,omitempty"`
	// Need lists pods the step cannot do without (pod-0 for the SYNC): if
	// one went away earlier in the run, the step fails.
	Need []int `json:"need,omitempty"`
	// Fail ends the run with this error (logged at Error with Log) after
	// the steps before it: the plan knows the hook must fail.
	Fail error `json:"-"`
}

// Plan is what a hook will do on this pod, given the mesh it read.
type Plan struct {
	Action   Action   `json:"action"`
	Pod      string   `json:"pod"`
	Position int      `json:"position"` // this pod's Member.Position
	Role     string   `json:"role"`
	Reasons  []string `json:"reasons"` // the decisions, each with its evidence
	// Read is every server's objects as read, the evidence of the reasons.
	Read  []ServerRead `json:"read"`
	Steps []Step       `json:"steps"`
	// Error is what the run ends with, if the plan fails (Fail of a step).
	Error string `json:"error,omitempty"`
}

// ServerRead is one server's objects as a plan read them.
type ServerRead struct {
	Pod      string       `json:"pod"`
	Position int          `json:"position"`
	Objects  []ObjectRead `json:"objects"`
}

// ObjectRead is one replication object as read: XSN -1 is reset (no
// restart point).
type ObjectRead struct {
	Name    string `json:"name"`
	XSN     int64  `json:"xsn"`
	Started bool   `json:"started"`
}

// Names lists the steps' names in order.
func (p Plan) Names() []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Name
	}
	return out
}

// Text renders the plan for people: the decisions, then each step with
// every server's statements in order. render gives an op's statements
// (nil: Op.Describe).
func (p Plan) Text(render func(Op) []string) string {
	if render == nil {
		render = func(o Op) []string { return []string{o.Describe()} }
	}
	var b strings.Builder
	fmt.Fprintf(&b, "aku %s on %s (position %d, %s)\n", p.Action, p.Pod, p.Position, p.Role)
	for _, r := range p.Reasons {
		fmt.Fprintf(&b, "  - %s\n", r)
	}
	for _, sr := range p.Read {
		var objs []string
		for _, o := range sr.Objects {
			st := "stopped"
			if o.Started {
				st = "started"
			}
			xsn := fmt.Sprint(o.XSN)
			if o.XSN == -1 {
				xsn = "-1 (reset)"
			}
			objs = append(objs, fmt.Sprintf("%s %s XSN %s", o.Name, st, xsn))
		}
		if len(objs) == 0 {
			objs = []string{"no aku objects"}
		}
		fmt.Fprintf(&b, "  read %s: %s\n", sr.Pod, strings.Join(objs, "; "))
	}
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "%d. %s: %s\n", i+1, s.Name, s.Why)
		if s.Before != nil {
			fmt.Fprintf(&b, "     event %s\n", s.Before.Reason)
		}
		for _, w := range s.Work {
			for _, o := range w.Ops {
				for _, stmt := range render(o) {
					fmt.Fprintf(&b, "     %s: %s", w.Pod, stmt)
					if o.Peer != nil && *o.Peer != p.Position && *o.Peer != w.Position {
						fmt.Fprintf(&b, "   [skipped if pod %d goes away]", *o.Peer)
					}
					b.WriteString("\n")
				}
			}
		}
		if s.After != nil {
			fmt.Fprintf(&b, "     event %s\n", s.After.Reason)
		}
	}
	if p.Error != "" {
		fmt.Fprintf(&b, "outcome: fails: %s\n", p.Error)
	} else {
		fmt.Fprintf(&b, "outcome: succeeds if every statement does\n")
	}
	return b.String()
}

// Fill sets every op's Statements with render.
func (p *Plan) Fill(render func(Op) []string) {
	for i := range p.Steps {
		for j := range p.Steps[i].Work {
			ops := p.Steps[i].Work[j].Ops
			for k := range ops {
				ops[k].Statements = render(ops[k])
			}
		}
	}
}
