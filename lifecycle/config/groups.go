package config

import (
	"fmt"

	"github.com/aku-k8s/aku/lifecycle"
)

// groupChecker validates REPLICATIONS groups, remembering what earlier
// groups used and on which line.
type groupChecker struct {
	b           *builder
	prefixes    map[string]int      // prefix -> line
	targets     map[string]targetAt // "USER.TABLE[ PARTITION P]" -> first
	partitioned map[string]targetAt // "USER.TABLE" -> its first partition target
}

// targetAt is a target with the line it was written on.
type targetAt struct {
	lifecycle.Item
	n int
}

func (b *builder) groups(rf *rawFile) {
	if rf.ReplLine == 0 {
		b.errs = append(b.errs, &Error{File: b.file, Property: propReplications, Kind: ErrMissing, Msg: missingMsg(propReplications)})
		return
	}
	gc := &groupChecker{b: b, prefixes: map[string]int{}, targets: map[string]targetAt{}, partitioned: map[string]targetAt{}}
	for _, rg := range rf.Groups {
		if g, ok := gc.group(rg); ok {
			b.c.Groups = append(b.c.Groups, g)
			b.groupLines = append(b.groupLines, rg.Line)
		}
	}
}

// group checks one group; ok is false if anything in it was reported.
func (gc *groupChecker) group(rg rawGroup) (g lifecycle.Group, ok bool) {
	b := gc.b
	g, ok = lifecycle.Group{SyncParallel: 1}, true
	if rv, set := rg.Props[propPrefix]; !set {
		b.errs = append(b.errs, &Error{File: b.file, Line: rg.Line, Property: propPrefix, Kind: ErrMissing, Msg: missingMsg(propPrefix)})
		ok = false
	} else if p, err := checkIdent("prefix", rv.Value, MaxPrefixLen); err != nil {
		b.addValueErr(Source{Kind: FromFile, Line: rv.Line}, propPrefix, err)
		ok = false
	} else if first, dup := gc.prefixes[p]; dup {
		b.add(rv.Line, propPrefix, ErrDuplicate, "duplicate prefix %s (first used at line %d)", p, first)
		ok = false
	} else {
		gc.prefixes[p], g.Prefix = rv.Line, p
	}
	if rv, set := rg.Props[propSyncParallel]; set {
		n, err := parseInt(rv.Value, 1, MaxSyncParallel)
		if err != nil {
			b.addValueErr(Source{Kind: FromFile, Line: rv.Line}, propSyncParallel, err)
			ok = false
		}
		g.SyncParallel = int(n)
	}
	if !rg.HasList {
		b.add(rg.Line, propReplications, ErrSyntax, "the replication group has no target list ( USER.TABLE, ... )")
		ok = false
	}
	for _, rt := range rg.Targets {
		t, err := checkTarget(rt)
		if err != nil {
			b.addValueErr(Source{Kind: FromFile, Line: rt.Line}, propReplications, err)
			ok = false
			continue
		}
		if msg := gc.overlap(targetAt{t, rt.Line}); msg != "" {
			b.add(rt.Line, propReplications, ErrDuplicate, "%s", msg)
			ok = false
			continue
		}
		g.Items = append(g.Items, t)
	}
	return g, ok
}

// overlap reports a target already listed, or a whole table and one of its
// partitions both listed (aku would replicate the partition twice), and
// records t otherwise.
func (gc *groupChecker) overlap(t targetAt) string {
	table := t.User + "." + t.Table
	if first, dup := gc.targets[t.String()]; dup {
		return fmt.Sprintf("duplicate target %s (first at line %d)", t, first.n)
	}
	if whole, dup := gc.targets[table]; dup && t.Partition != "" {
		return fmt.Sprintf("target %s overlaps %s (line %d), which replicates the whole table", t, whole, whole.n)
	}
	if part, dup := gc.partitioned[table]; dup && t.Partition == "" {
		return fmt.Sprintf("target %s overlaps %s (line %d): list either the table or its partitions", t, part, part.n)
	}
	gc.targets[t.String()] = t
	if _, seen := gc.partitioned[table]; t.Partition != "" && !seen {
		gc.partitioned[table] = t
	}
	return ""
}

// checkTarget checks and upper-cases one target's names.
func checkTarget(rt rawTarget) (lifecycle.Item, error) {
	var t lifecycle.Item
	var err error
	if t.User, err = checkIdent("user name", rt.User, MaxObjectNameLen); err != nil {
		return t, err
	}
	if t.Table, err = checkIdent("table name", rt.Table, MaxObjectNameLen); err != nil {
		return t, err
	}
	if rt.Partition != "" {
		if t.Partition, err = checkIdent("partition name", rt.Partition, MaxObjectNameLen); err != nil {
			return t, err
		}
	}
	return t, nil
}
