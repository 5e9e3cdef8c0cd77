package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// needsJoin reports whether this slave will join (rather than resume) in at
// least one group.
func (r *Runner) needsJoin(m *mesh) bool {
	s := r.snapshot(m)
	for _, g := range r.Opts.Groups {
		if path, _ := PathFor(s.States[s.Self], s.States, g, s.Self); path == PathJoin {
			return true
		}
	}
	return false
}

// checkMarkerDir makes sure the marker can be written before anything
// changes: a start that did all its work and then cannot say so leaves a
// pod that never becomes Ready, for nothing.
func (r *Runner) checkMarkerDir() error {
	dir := filepath.Dir(r.Opts.MarkerFile)
	f, err := os.CreateTemp(dir, ".aku-marker-check-*")
	if err != nil {
		r.log().Error("The marker file's directory is not writable; nothing was changed.", "marker", r.Opts.MarkerFile, "err", err)
		return fmt.Errorf("%w: %s (AKU_MARKER_FILE): %w", ErrMarker, r.Opts.MarkerFile, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("%w: %s (AKU_MARKER_FILE): %w", ErrMarker, r.Opts.MarkerFile, err)
	}
	return nil
}

// Gap is one direction of a pair that does not replicate after start.
type Gap struct {
	Replication string // PREFIX_ij
	Pod         string // the server holding the object
	Why         string // "missing", "not started", "no restart point"
}

func (g Gap) String() string { return fmt.Sprintf("%s on %s (%s)", g.Replication, g.Pod, g.Why) }

// MeshGaps lists, for this pod (self) and every live member of every group,
// the directions that do not replicate: this pod's object toward the member
// must be started, and the member's object toward this pod must be started
// with a restart point. peers maps the reachable peers' positions to their
// names and states; only those that joined the group (IsMember) count, so a
// peer that is itself still to join is left to its own start.
func MeshGaps(self Member, mine States, peers map[int]Member, states map[int]States, groups []Group) []Gap {
	k := self.Position
	var gaps []Gap
	for _, g := range groups {
		for _, j := range sortedKeys(peers) {
			if j == k || !IsMember(states[j], g, j, k) {
				continue
			}
			name := Name(g.Prefix, k, j)
			if why := notReplicating(mine, name, false); why != "" {
				gaps = append(gaps, Gap{Replication: name, Pod: self.Name, Why: why})
			}
			if why := notReplicating(states[j], name, true); why != "" {
				gaps = append(gaps, Gap{Replication: name, Pod: peers[j].Name, Why: why})
			}
		}
	}
	return gaps
}

func notReplicating(s States, name string, needXSN bool) string {
	st, ok := s[name]
	switch {
	case !ok:
		return "missing"
	case !st.IsStarted:
		return "not started"
	case needXSN && st.Reset():
		return "no restart point"
	}
	return ""
}

// verify reads every reachable server again and fails, naming the pairs,
// if any pair between this pod and a live member does not replicate in
// both directions: a hole is never reported as success.
func (r *Runner) verify(ctx context.Context, m *mesh) error {
	if err := m.refresh(ctx, m.all()); err != nil {
		return fmt.Errorf("verify the mesh: %w", err)
	}
	peers := map[int]Member{}
	states := map[int]States{}
	for j, p := range m.peers {
		peers[j] = p.m
		states[j] = p.states
	}
	gaps := MeshGaps(m.self.m, m.self.states, peers, states, r.Opts.Groups)
	if len(gaps) == 0 {
		return nil
	}
	list := make([]string, len(gaps))
	for i, g := range gaps {
		list[i] = g.String()
	}
	r.log().Error("The replication mesh is incomplete; start failed.", "gaps", strings.Join(list, "; "))
	return fmt.Errorf("%w: %s", ErrIncomplete, strings.Join(list, "; "))
}

// pinFlushWait bounds one FLUSH of a peer toward pod-0 in the join's pin
// step; between two of them aku checks that pod-0 is still there.
const pinFlushWait = 2 * time.Second

// flushTowardMaster flushes peer n's object toward pod-0 in bounded slices
// (FLUSH ALL WAIT), checking between them that pod-0 still answers: a plain
// FLUSH ALL toward a pod-0 that died would wait for the whole query timeout.
// The caller's deadline bounds the whole.
func (r *Runner) flushTowardMaster(ctx context.Context, n *node, name string, master *node) error {
	var waits notices
	for {
		err := n.srv.Flush(ctx, name, FlushMode{All: true, Wait: pinFlushWait})
		if !errors.Is(err, ErrFlushTimeout) {
			if err != nil {
				return fmt.Errorf("flush %s on %s: %w", name, n, err)
			}
			return nil
		}
		if _, perr := master.srv.Replications(ctx); perr != nil {
			r.log().Error("The MASTER pod went away while a peer flushed toward it.", "pod", n.m.Name, "replication", name, "err", perr)
			// %v: this is pod-0's failure, not n's; n must not look unreachable.
			return fmt.Errorf("%w: lost while %s flushed %s toward it: %v", ErrMasterAbsent, n, name, perr)
		}
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("flush %s on %s: %w (%w)", name, n, err, cerr)
		}
		waits.say(r.log(), "pin-flush", "Waiting for a peer to flush its changes toward the MASTER.", "pod", n.m.Name, "replication", name)
	}
}
