package lifecycle

import (
	"fmt"
	"log/slog"
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
	// Peer >= 0: the op needs that pod (a sender started toward it, a flush
	// to it); it is skipped if the pod went away earlier in the run.
	Peer int `json:"peer"`
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
	Action   string   `json:"action"` // start, end, clean
	Pod      string   `json:"pod"`
	Position int      `json:"position"` // this pod's Member.Position
	Role     string   `json:"role"`
	Reasons  []string `json:"reasons"` // the decisions, each with its evidence
	Steps    []Step   `json:"steps"`
	// Error is what the run ends with, if the plan fails (Fail of a step).
	Error string `json:"error,omitempty"`
}

// Names lists the steps' names in order.
func (p Plan) Names() []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Name
	}
	return out
}

// planner builds a plan over a copy of the mesh's states, applying each
// op's effect as it is added, so that later decisions see what the earlier
// steps will have done.
type planner struct {
	o      Options
	snap   Snapshot
	states map[int]States // reachable servers, simulated
	plan   Plan
}

func newPlanner(action string, o Options, s Snapshot) *planner {
	p := &planner{o: o, snap: s, states: map[int]States{}}
	for j, st := range s.States {
		c := make(States, len(st))
		for name, v := range st {
			c[name] = v
		}
		p.states[j] = c
	}
	self := s.member(s.Self)
	p.plan = Plan{Action: action, Pod: self.Name, Position: s.Self, Role: RoleOf(s.Self).String()}
	return p
}

func (p *planner) reason(format string, args ...any) {
	p.plan.Reasons = append(p.plan.Reasons, fmt.Sprintf(format, args...))
}

// reachable reports whether server j was read.
func (p *planner) reachable(j int) bool { _, ok := p.states[j]; return ok }

// peers lists the reachable peers' positions in order.
func (p *planner) peers() []int {
	var out []int
	for _, j := range sortedKeys(p.states) {
		if j != p.snap.Self {
			out = append(out, j)
		}
	}
	return out
}

// step appends a step; work is by position, each server's ops in order.
// Ops are applied to the simulated states.
func (p *planner) step(s Step, work map[int][]Op) {
	for _, j := range sortedKeys(work) {
		ops := work[j]
		if len(ops) == 0 {
			continue
		}
		for _, op := range ops {
			p.apply(j, op)
		}
		s.Work = append(s.Work, Work{Position: j, Pod: p.snap.member(j).Name, Ops: ops})
	}
	// The local server first: its failure is the one that matters.
	for i, w := range s.Work {
		if w.Position == p.snap.Self && i > 0 {
			copy(s.Work[1:i+1], s.Work[:i])
			s.Work[0] = w
			break
		}
	}
	p.plan.Steps = append(p.plan.Steps, s)
}

// fail ends the plan with err after the steps so far.
func (p *planner) fail(err error, log string, args ...any) {
	p.plan.Steps = append(p.plan.Steps, Step{Name: "failed", Why: err.Error(), Log: log, LogArgs: args, Fail: err})
	p.plan.Error = err.Error()
}

// apply is an op's effect on the object states, as far as later decisions
// look at them.
func (p *planner) apply(j int, op Op) {
	st := p.states[j]
	if st == nil {
		return
	}
	cur, ok := st[op.Replication]
	switch op.Kind {
	case OpCreate:
		st[op.Replication] = RepState{Name: op.Replication, XSN: -1}
	case OpStart, OpSync:
		if ok {
			cur.IsStarted = true
			if cur.XSN == -1 {
				cur.XSN = 0 // a restart point now exists
			}
			st[op.Replication] = cur
		}
	case OpStop:
		if ok {
			cur.IsStarted = false
			st[op.Replication] = cur
		}
	case OpReset:
		if ok {
			cur.XSN = -1
			st[op.Replication] = cur
		}
	case OpDrop:
		delete(st, op.Replication)
	}
}

// stopReset are the ops that leave object name on server j stopped and,
// with reset, without a restart point, as far as its state says they are
// needed.
func (p *planner) stopReset(j int, name string, reset bool) []Op {
	st, ok := p.states[j][name]
	if !ok {
		return nil
	}
	var ops []Op
	if st.IsStarted {
		ops = append(ops, Op{Kind: OpStop, Replication: name, Peer: -1})
	}
	if reset && !st.Reset() {
		ops = append(ops, Op{Kind: OpReset, Replication: name, Peer: -1})
	}
	return ops
}

// Snapshot is the mesh as a hook (or `aku plan`) read it.
type Snapshot struct {
	Self    int             // this pod's position (Member.Position)
	Members []Member        // every position of the mesh
	States  map[int]States  // the servers that were read, this pod's included
	Allowed map[string]bool // server properties at 1 on this pod (REPLICATION_ALLOW_DUPLICATE_HOSTS)
	// MarkerDone: the marker file exists (start refuses to run again).
	MarkerDone bool
	// Intent and IntentReason: why the pod stops (end).
	Intent       Intent
	IntentReason string
}

// member is the member at position j, or a stand-in named pod-j.
func (s Snapshot) member(j int) Member {
	if m, ok := s.lookup(j); ok {
		return m
	}
	return Member{Position: j, Name: fmt.Sprintf("pod-%d", j)}
}

// lookup finds the member at position j.
func (s Snapshot) lookup(j int) (Member, bool) {
	for _, m := range s.Members {
		if m.Position == j {
			return m, true
		}
	}
	return Member{}, false
}

func logLevel(s Step) slog.Level {
	if s.Fail != nil {
		return slog.LevelError
	}
	return slog.LevelInfo
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
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "%d. %s: %s\n", i+1, s.Name, s.Why)
		if s.Before != nil {
			fmt.Fprintf(&b, "     event %s\n", s.Before.Reason)
		}
		for _, w := range s.Work {
			for _, o := range w.Ops {
				for _, stmt := range render(o) {
					fmt.Fprintf(&b, "     %s: %s", w.Pod, stmt)
					if o.Peer >= 0 && o.Peer != p.Position && o.Peer != w.Position {
						fmt.Fprintf(&b, "   [skipped if pod %d goes away]", o.Peer)
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
