package lifecycle

import (
	"slices"
	"strconv"
	"time"
)

// Group is one REPLICATIONS group of aku.conf: one replication object per
// pair of pods, named Name(Prefix, i, j), carrying Items.
type Group struct {
	Prefix       string // REPLICATION_NAME_PREFIX, upper case
	SyncParallel int    // SYNC_PARALLEL_COUNT
	Items        []Item // the group's targets, in file order
}

// ResetPolicy is AKU_REPLICATION_RESET_AT_END: whether end resets the pod's
// replication information. The values are numbered as aku.conf spells them;
// the zero value is ResetNever (aku.conf's default is ResetAlways).
type ResetPolicy int

const (
	ResetNever  ResetPolicy = 0 // "0": keep the replication information at end
	ResetAlways ResetPolicy = 1 // "1": RESET the replications at end
	ResetAuto   ResetPolicy = 2 // "auto" (extension): RESET only when the pod is going away for good
)

// String is the policy as aku.conf spells it: "0", "1" or "auto".
func (p ResetPolicy) String() string {
	switch p {
	case ResetNever:
		return "0"
	case ResetAlways:
		return "1"
	case ResetAuto:
		return "auto"
	}
	return "ResetPolicy(" + strconv.Itoa(int(p)) + ")"
}

// Intent is why a pod is being stopped, as far as anyone can tell.
type Intent int

const (
	IntentUnknown   Intent = iota // no information (DNS mode, API unreachable)
	IntentRestart                 // the pod will come back with its volume
	IntentScaleDown               // the ordinal leaves the StatefulSet
	IntentDelete                  // the StatefulSet itself is being deleted
)

func (i Intent) String() string {
	switch i {
	case IntentRestart:
		return "restart"
	case IntentScaleDown:
		return "scale-down"
	case IntentDelete:
		return "delete"
	}
	return "unknown"
}

// Options are the settings start, end and clean act on (from aku.conf).
type Options struct {
	ServerCount         int
	ReplicationPort     int
	Groups              []Group
	FlushAtStart        bool
	FlushTimeoutAtStart time.Duration // 0: FLUSH ALL on peers; > 0: FLUSH WAIT n
	DelayStartComplete  time.Duration
	FlushAtEnd          bool
	ResetAtEnd          ResetPolicy // the zero value is ResetNever
	MarkerFile          string
}

// Role is master (position 0) or slave.
type Role int

const (
	RoleMaster Role = iota
	RoleSlave
)

// RoleOf is the manual's rule: the first pod is the master.
func RoleOf(position int) Role {
	if position == 0 {
		return RoleMaster
	}
	return RoleSlave
}

func (r Role) String() string {
	if r == RoleMaster {
		return "MASTER"
	}
	return "SLAVE"
}

// Path is how a slave brings one replication group up.
type Path int

const (
	// PathJoin: the pod's state toward the master was reset or never existed:
	// truncate, sync from pod-0, start.
	PathJoin Path = iota
	// PathResume: the pod kept its state: start and flush, never truncate
	// (that would lose the changes it has not sent yet).
	PathResume
)

func (p Path) String() string {
	if p == PathResume {
		return "resume"
	}
	return "join"
}

// States indexes one server's replication objects by name.
type States map[string]RepState

// StatesOf indexes a list.
func StatesOf(list []RepState) States {
	s := make(States, len(list))
	for _, r := range list {
		s[r.Name] = r
	}
	return s
}

// kept reports whether the object exists and carries a restart point.
func (s States) kept(name string) bool {
	r, ok := s[name]
	return ok && !r.Reset()
}

// PathFor decides, for slave k and one group, between join and resume.
// Resuming needs the history kept at both ends of every pair: k's object
// toward pod-0 keeps its restart point (missing or reset, XSN -1: k's
// changes are no longer tracked), and so does every reachable member's
// object toward k. A member whose object toward k was reset (aku -p end of
// k, or a start that found k gone from the StatefulSet) or created while k
// was away keeps nothing of what it wrote meanwhile for k: started now, its
// sender begins at its current log position, and only a sync from pod-0
// brings k those rows. peers maps the reachable servers' positions to their
// states (k's own entry, if present, is ignored). The cause says which
// object decided a join. Pure.
func PathFor(self States, peers map[int]States, g Group, k int) (Path, JoinCause) {
	name := Name(g.Prefix, 0, k)
	if st, ok := self[name]; !ok || st.Reset() {
		return PathJoin, JoinCause{Replication: name, Holder: k, Missing: !ok}
	}
	for _, j := range sortedKeys(peers) {
		if j == k || !IsMember(peers[j], g, j, k) {
			continue
		}
		toward := Name(g.Prefix, j, k)
		if st, ok := peers[j][toward]; !ok || st.Reset() {
			return PathJoin, JoinCause{Replication: toward, Holder: j, Missing: !ok}
		}
	}
	return PathResume, JoinCause{}
}

// MasterKeepsState reports whether pod-0 (master, its states) holds, for
// group g, a restart point toward some position other than k: evidence that
// pod-0 kept its state, so that its end toward k was reset on purpose (a
// start that found k gone) and a sync from it loses nothing. Pure.
func MasterKeepsState(master States, g Group, k, serverCount int) bool {
	for j := 1; j < serverCount; j++ {
		if j != k && master.kept(Name(g.Prefix, 0, j)) {
			return true
		}
	}
	return false
}

// JoinCause is the object whose missing restart point sent a slave down
// the join path.
type JoinCause struct {
	Replication string
	Holder      int  // the position of the server holding it
	Missing     bool // no such object (else: XSN -1)
}

// IsMember reports whether peer j has joined the mesh for group g: it holds
// its object toward pod-0 with a restart point (pod-0 itself is a member when
// it holds its object toward `toward`).
func IsMember(peer States, g Group, j, toward int) bool {
	if j == 0 {
		_, ok := peer[Name(g.Prefix, 0, toward)]
		return ok
	}
	return peer.kept(Name(g.Prefix, 0, j))
}

// MasterFailures lists the master's objects whose replication information was
// lost (missing or XSN -1) although the slave at the other end kept its own
// (XSN not -1): the manual's "MASTER server is detected to have failed".
// peers maps reachable slaves' positions to their states.
func MasterFailures(master States, peers map[int]States, groups []Group) []string {
	var failed []string
	for _, j := range sortedKeys(peers) {
		if j == 0 {
			continue
		}
		for _, g := range groups {
			name := Name(g.Prefix, 0, j)
			if peers[j].kept(name) && !master.kept(name) {
				failed = append(failed, name)
			}
		}
	}
	return failed
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ShouldReset decides whether end resets this pod's replication information.
// The master never resets (the original's 7.1.0.9.0 rule: a master that reset
// its objects while slaves keep theirs looks failed at its next start). With
// ResetAuto only a confirmed scale-down or deletion resets, so a restarting
// pod keeps its state and comes back through the fast resume path.
func ShouldReset(p ResetPolicy, position int, why Intent) bool {
	if position == 0 {
		return false
	}
	switch p {
	case ResetAlways:
		return true
	case ResetNever:
		return false
	}
	return why == IntentScaleDown || why == IntentDelete
}

// PeerFlush is the FLUSH a peer runs toward a restarted pod: FLUSH ALL when
// no timeout is set, FLUSH WAIT n otherwise (the manual's
// AKU_FLUSH_TIMEOUT_AT_START).
func PeerFlush(timeout time.Duration) FlushMode {
	if timeout <= 0 {
		return FlushMode{All: true}
	}
	return FlushMode{Wait: timeout}
}
