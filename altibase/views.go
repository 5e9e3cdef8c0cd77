package altibase

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ReplicationState is one row of SYSTEM_.SYS_REPLICATIONS_.
type ReplicationState struct {
	Name string
	// XSN is the restart point; -1 after CREATE or RESET (never started
	// since). It exceeds 2^32 on real servers.
	XSN       int64
	IsStarted bool
}

// NeverStarted reports XSN -1: created or reset, no restart point.
func (r ReplicationState) NeverStarted() bool { return r.XSN == -1 }

// SenderStatus is V$REPSENDER.STATUS.
type SenderStatus int

// Sender statuses (docs/altibase.md section 3). STATUS, not START_FLAG, tells
// whether a sender runs (START_FLAG is 0 even after a normal START).
const (
	SenderStopped SenderStatus = 0
	SenderRunning SenderStatus = 1
	SenderRetry   SenderStatus = 2
)

// Sender is one row of V$REPSENDER (a row exists while a sender thread does).
type Sender struct {
	Name     string
	Status   SenderStatus
	NetError bool // NET_ERROR_FLAG=1: the sender cannot reach its peer
	XSN      int64
	PeerIP   string
	PeerPort int
}

// Gap is one row of V$REPGAP: how far a sender is behind the log.
type Gap struct {
	Name   string
	LastSN int64 // REP_LAST_SN, last log written
	SN     int64 // REP_SN, log being sent
	Gap    int64 // REP_GAP = REP_LAST_SN - REP_SN
}

// SyncProgress is one row of V$REPSYNC.
type SyncProgress struct {
	Name        string
	Table       string
	Partition   string
	RecordCount int64 // -1 when the table is done
	SN          int64
}

// Statements that read state.
const (
	replicationsSQL = "SELECT REPLICATION_NAME, XSN, IS_STARTED FROM SYSTEM_.SYS_REPLICATIONS_"
	sendersSQL      = "SELECT REP_NAME, STATUS, NET_ERROR_FLAG, XSN, PEER_IP, PEER_PORT FROM V$REPSENDER"
	receiversSQL    = "SELECT REP_NAME FROM V$REPRECEIVER"
	gapsSQL         = "SELECT REP_NAME, REP_LAST_SN, REP_SN, REP_GAP FROM V$REPGAP"
	syncsSQL        = "SELECT REP_NAME, SYNC_TABLE, SYNC_PARTITION, SYNC_RECORD_COUNT, SYNC_SN FROM V$REPSYNC"
	// Altibase's V$PROPERTY has NAME, STOREDCOUNT, ATTR, MIN, MAX and
	// VALUE1..VALUE8; VALUE1 is the current value.
	propertySQL = "SELECT VALUE1 FROM V$PROPERTY WHERE NAME = ?"
)

// Replications reads every replication object on the server.
func (c *Conn) Replications(ctx context.Context) ([]ReplicationState, error) {
	var out []ReplicationState
	err := c.do(ctx, func(ctx context.Context, _ error) error {
		var err error
		out, err = c.replications(ctx)
		return err
	})
	return out, err
}

// Replication reads one replication object; ok is false if there is none.
func (c *Conn) Replication(ctx context.Context, name string) (st ReplicationState, ok bool, err error) {
	if _, err := replName(name); err != nil {
		return st, false, err
	}
	err = c.do(ctx, func(ctx context.Context, _ error) error {
		var err error
		st, ok, err = c.replication(ctx, name)
		return err
	})
	return st, ok, err
}

// replications reads SYS_REPLICATIONS_ on the live session (caller holds mu).
func (c *Conn) replications(ctx context.Context) ([]ReplicationState, error) {
	var out []ReplicationState
	err := c.query(ctx, replicationsSQL, func(rows *sql.Rows) error {
		var (
			r       ReplicationState
			name    string
			started int64
		)
		if err := rows.Scan(&name, &r.XSN, &started); err != nil {
			return err
		}
		r.Name = strings.TrimSpace(name)
		r.IsStarted = started == 1
		out = append(out, r)
		return nil
	})
	return out, err
}

// replication finds name among replications. The table holds at most
// REPLICATION_MAX_COUNT rows, so it is filtered here rather than in SQL.
func (c *Conn) replication(ctx context.Context, name string) (ReplicationState, bool, error) {
	all, err := c.replications(ctx)
	if err != nil {
		return ReplicationState{}, false, err
	}
	for _, r := range all {
		if strings.EqualFold(r.Name, name) {
			return r, true, nil
		}
	}
	return ReplicationState{}, false, nil
}

// running reports whether name has a sender thread (a V$REPSENDER row;
// caller holds mu): after a lost link, this is how a START or SYNC that may
// have run is recognised. IS_STARTED alone is not enough: it stays 1 when a
// sender died abnormally.
func (c *Conn) running(ctx context.Context, name string) (bool, error) {
	senders, err := c.senders(ctx)
	if err != nil {
		return false, err
	}
	for _, s := range senders {
		if strings.EqualFold(s.Name, name) {
			return true, nil
		}
	}
	return false, nil
}

// Senders reads V$REPSENDER.
func (c *Conn) Senders(ctx context.Context) ([]Sender, error) {
	var out []Sender
	err := c.do(ctx, func(ctx context.Context, _ error) error {
		var err error
		out, err = c.senders(ctx)
		return err
	})
	return out, err
}

func (c *Conn) senders(ctx context.Context) ([]Sender, error) {
	var out []Sender
	err := c.query(ctx, sendersSQL, func(rows *sql.Rows) error {
		var (
			s                        Sender
			name                     string
			status, netErr, peerPort sql.NullInt64
			xsn                      sql.NullInt64
			peerIP                   sql.NullString
		)
		if err := rows.Scan(&name, &status, &netErr, &xsn, &peerIP, &peerPort); err != nil {
			return err
		}
		s.Name = strings.TrimSpace(name)
		s.Status = SenderStatus(status.Int64)
		s.NetError = netErr.Int64 != 0
		s.XSN = xsn.Int64
		s.PeerIP = strings.TrimSpace(peerIP.String)
		s.PeerPort = int(peerPort.Int64)
		out = append(out, s)
		return nil
	})
	return out, err
}

// Receivers lists the replications with a receiver on this server
// (V$REPRECEIVER: a row exists while a receiver thread does).
func (c *Conn) Receivers(ctx context.Context) ([]string, error) {
	var out []string
	err := c.do(ctx, func(ctx context.Context, _ error) error {
		out = out[:0]
		return c.query(ctx, receiversSQL, func(rows *sql.Rows) error {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			out = append(out, strings.TrimSpace(name))
			return nil
		})
	})
	return out, err
}

// Gaps reads V$REPGAP.
func (c *Conn) Gaps(ctx context.Context) ([]Gap, error) {
	var out []Gap
	err := c.do(ctx, func(ctx context.Context, _ error) error {
		out = nil
		return c.query(ctx, gapsSQL, func(rows *sql.Rows) error {
			var (
				g            Gap
				name         string
				last, sn, gp sql.NullInt64
			)
			if err := rows.Scan(&name, &last, &sn, &gp); err != nil {
				return err
			}
			g.Name, g.LastSN, g.SN, g.Gap = strings.TrimSpace(name), last.Int64, sn.Int64, gp.Int64
			out = append(out, g)
			return nil
		})
	})
	return out, err
}

// Syncs reads V$REPSYNC.
func (c *Conn) Syncs(ctx context.Context) ([]SyncProgress, error) {
	var out []SyncProgress
	err := c.do(ctx, func(ctx context.Context, _ error) error {
		out = nil
		return c.query(ctx, syncsSQL, func(rows *sql.Rows) error {
			var (
				p            SyncProgress
				name         string
				table, part  sql.NullString
				count, synSN sql.NullInt64
			)
			if err := rows.Scan(&name, &table, &part, &count, &synSN); err != nil {
				return err
			}
			p.Name, p.Table, p.Partition = strings.TrimSpace(name), strings.TrimSpace(table.String), strings.TrimSpace(part.String)
			p.RecordCount, p.SN = count.Int64, synSN.Int64
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

// Property reads a property's current value from V$PROPERTY (VALUE1).
// ok is false if the server has no such property.
func (c *Conn) Property(ctx context.Context, name string) (value string, ok bool, err error) {
	n, err := ident("property", name, maxObjectName)
	if err != nil {
		return "", false, err
	}
	err = c.do(ctx, func(ctx context.Context, _ error) error {
		ok = false
		return c.query(ctx, propertySQL, func(rows *sql.Rows) error {
			var v sql.NullString
			if err := rows.Scan(&v); err != nil {
				return err
			}
			value, ok = strings.TrimSpace(v.String), true
			return nil
		}, strings.ToUpper(n))
	})
	return value, ok, err
}

// ErrNoProperty reports a property the server does not have.
var ErrNoProperty = errors.New("no such property")

// PropertyInt reads an integer property (ADMIN_MODE, REPLICATION_DDL_ENABLE,
// ...): ErrNoProperty if the server has none of that name.
func (c *Conn) PropertyInt(ctx context.Context, name string) (int64, error) {
	v, ok, err := c.Property(ctx, name)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("read property %q from %s: %w", name, c.ep, ErrNoProperty)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read property %q from %s: value %q is not an integer: %w", name, c.ep, v, err)
	}
	return n, nil
}
