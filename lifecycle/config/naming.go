package config

import "github.com/aku-k8s/aku/lifecycle"

// Replication is one replication object as seen from one pod.
type Replication struct {
	Name   string // PREFIX_ij, i < j
	Group  int    // index into Config.Groups
	Prefix string // the group's REPLICATION_NAME_PREFIX
	Local  int    // ordinal of the pod holding this object
	Peer   int    // ordinal of the pod at the other end
}

// ReplicationName is the manual's naming rule: PREFIX_ij where i and j are
// the two pods' ordinals, the smaller first (the order of i and j given does
// not matter). Ordinals are single digits for up to 10 servers; aku allows
// at most MaxServers.
//
// The rule itself is lifecycle.Name, which the lifecycle acts by; the
// configuration only checks and displays its results.
func ReplicationName(prefix string, i, j int) string { return lifecycle.Name(prefix, i, j) }

// ReplicationsFor lists the replication objects pod ordinal holds when
// servers pods replicate the given groups: for each group in order, one
// object per other pod, peers in ascending order. It returns nil when
// ordinal is not in 0..servers-1.
func ReplicationsFor(groups []Group, servers, ordinal int) []Replication {
	if ordinal < 0 || ordinal >= servers {
		return nil
	}
	out := make([]Replication, 0, len(groups)*(servers-1))
	for gi, g := range groups {
		for peer := 0; peer < servers; peer++ {
			if peer == ordinal {
				continue
			}
			out = append(out, Replication{
				Name: ReplicationName(g.Prefix, ordinal, peer), Group: gi, Prefix: g.Prefix,
				Local: ordinal, Peer: peer,
			})
		}
	}
	return out
}

// PodReplications lists the objects of pod ordinal under c's groups and
// AKU_SERVER_COUNT (nil if ordinal is out of range).
func (c *Config) PodReplications(ordinal int) []Replication {
	return ReplicationsFor(c.Groups, c.ServerCount, ordinal)
}

// AllReplications lists every pod's objects, indexed by ordinal.
func (c *Config) AllReplications() [][]Replication {
	out := make([][]Replication, c.ServerCount)
	for i := range out {
		out[i] = c.PodReplications(i)
	}
	return out
}
