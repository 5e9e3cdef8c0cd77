// Package lifecycle runs aku's start, end and clean over a mesh of Altibase
// servers.
//
// A run reads every reachable server once, then plans with pure functions
// (PlanStart, PlanEnd, PlanClean in plan_start.go and plan_end.go): the
// decisions (master or slave, join or resume, reset or keep, who takes
// part), each with its evidence, and an ordered list of named Steps, each
// with every server's Ops. One loop (Runner.run, run.go) carries a plan
// out; Runner.Plan makes the same plan without running it (aku plan). The
// decisions themselves (PathFor, IsMember, MasterFailures, ShouldReset) are
// in plan.go; who is present and how sessions are taken, in mesh.go.
//
// The package owns aku's vocabulary: the domain types (Group, Item,
// ResetPolicy, Member, in plan.go and deps.go), which lifecycle/config
// produces directly from aku.conf, and the naming rules (naming.go: Name
// for replication objects, Objects for a pod's objects, HostName for a
// pod's host), which config checks and displays and package k8s uses. Pods
// are numbered by position in the StatefulSet (Member.Position).
//
// The package acts through the small interfaces in deps.go (Server, Dialer,
// Discovery), so it imports neither the ODBC client nor Kubernetes:
// cmd/internal/cli wires the concrete implementations in.
//
// The join of a reset slave follows the pinned order (docs/altibase.md
// section 8, docs/conformance.md case 31), not the original's documented
// order, which loses rows written on a non-master peer while the new pod is
// synced.
package lifecycle
