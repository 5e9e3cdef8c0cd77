package lifecycle

import (
	"fmt"
	"strconv"
	"strings"
)

// The naming rules: what aku calls its replication objects, which objects a
// pod holds, and what host name a pod has. Configuration (lifecycle/config)
// checks and displays their results; discovery (package k8s) uses the host
// name; the planner acts by them.

// Name is the manual's naming rule: PREFIX_ij, i and j the two pods'
// positions, the smaller first (the order given does not matter). Positions
// are single digits for up to 10 servers.
func Name(prefix string, a, b int) string {
	if a > b {
		a, b = b, a
	}
	return fmt.Sprintf("%s_%d%d", prefix, a, b)
}

// Object is one replication object as seen from the pod that holds it.
type Object struct {
	Name   string // Name(Prefix, Local, Peer)
	Group  int    // index into the groups
	Prefix string // the group's REPLICATION_NAME_PREFIX
	Local  int    // position of the pod holding this object
	Peer   int    // position of the pod at the other end
}

// Objects lists the replication objects the pod at position self holds when
// servers pods replicate groups: group by group, one object per other pod,
// peers in ascending order. It returns nil when self is not in
// 0..servers-1.
func Objects(groups []Group, servers, self int) []Object {
	if self < 0 || self >= servers {
		return nil
	}
	out := make([]Object, 0, len(groups)*(servers-1))
	for gi, g := range groups {
		for peer := 0; peer < servers; peer++ {
			if peer == self {
				continue
			}
			out = append(out, Object{Name: Name(g.Prefix, self, peer), Group: gi, Prefix: g.Prefix, Local: self, Peer: peer})
		}
	}
	return out
}

// DefaultHostFormat is the manual's host name of a pod: <sts>-<n>.<svc>
// (AKU_HOST_FORMAT's default).
const DefaultHostFormat = "{sts}-{ordinal}.{svc}"

// HostName is the host name of the pod with the given StatefulSet ordinal:
// format (AKU_HOST_FORMAT; "" is DefaultHostFormat) with {sts}, {svc} and
// {ordinal} replaced. Replication objects name their peer by it.
func HostName(format, sts, svc string, ordinal int) string {
	if format == "" {
		format = DefaultHostFormat
	}
	return strings.NewReplacer("{sts}", sts, "{svc}", svc, "{ordinal}", strconv.Itoa(ordinal)).Replace(format)
}
