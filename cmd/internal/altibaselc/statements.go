package altibaselc

import (
	"fmt"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/lifecycle"
)

// Statements renders an op as the SQL the Server sends for it, with the
// client's own renderers; ops that are not SQL (verify, wait, the marker)
// are described in words. plainStart is Dialer.PlainStart.
func Statements(op lifecycle.Op, plainStart bool) []string {
	stmts, err := statements(op, plainStart)
	if err != nil {
		return []string{fmt.Sprintf("%s (cannot be rendered: %v)", op.Describe(), err)}
	}
	return stmts
}

func statements(op lifecycle.Op, plainStart bool) ([]string, error) {
	one := func(s string, err error) ([]string, error) {
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	name := op.Replication
	switch op.Kind {
	case lifecycle.OpSetProperty:
		return one(altibase.SetPropertyStatement(op.Property, op.Value))
	case lifecycle.OpCreate:
		r := op.Create
		return one(altibase.CreateStatement(altibase.Replication{Name: r.Name, RemoteHost: r.RemoteHost,
			RemotePort: r.RemotePort, Items: toItems(r.Items)}))
	case lifecycle.OpStart:
		if plainStart {
			return one(altibase.AlterStatement(name, "START"))
		}
		s, err := altibase.AlterStatement(name, "START RETRY")
		return one(s+"   -- then V$REPSENDER until the sender runs (one started but asleep: STOP first)", err)
	case lifecycle.OpStop:
		return one(altibase.AlterStatement(name, "STOP"))
	case lifecycle.OpReset:
		return one(altibase.AlterStatement(name, "RESET"))
	case lifecycle.OpDrop:
		s, err := altibase.DropStatement(name)
		return one(s+"   -- then V$REPRECEIVER until its receiver is gone", err)
	case lifecycle.OpFlush:
		s, err := altibase.FlushStatement(name, altibase.FlushOptions{All: op.Flush.All, Wait: op.Flush.Wait})
		if op.Alone {
			s += "   -- on timeout: without WAIT, holding only this session"
		}
		return one(s, err)
	case lifecycle.OpFlushTowardMaster:
		s, err := altibase.FlushStatement(name, altibase.FlushOptions{All: op.Flush.All, Wait: op.Flush.Wait})
		return one(s+"   -- again while pod-0 answers", err)
	case lifecycle.OpTruncate:
		return altibase.TruncateStatements(toItems(op.Items))
	case lifecycle.OpSync:
		return one(altibase.SyncStatement(name, op.Parallel))
	case lifecycle.OpOpen:
		return one(altibase.SetPropertyStatement("ADMIN_MODE", 0))
	}
	return []string{"-- " + op.Describe()}, nil
}
