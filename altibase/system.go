package altibase

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ddlResetTimeout bounds setting REPLICATION_DDL_ENABLE back to 0 after a
// TRUNCATE, on a fresh context (the caller's may be spent by then).
const ddlResetTimeout = 30 * time.Second

// Truncate empties the items' tables (TRUNCATE TABLE u.t, or ALTER TABLE
// u.t TRUNCATE PARTITION p) with REPLICATION_DDL_ENABLE set to 1 for the
// duration and set back to 0 afterwards, also on failure (with a fresh,
// bounded context). Truncate only while the replications are stopped. A
// TRUNCATE interrupted by a lost link is not re-sent (ErrUncertain).
func (c *Conn) Truncate(ctx context.Context, items []Item) (err error) {
	stmts, err := truncateSQL(items)
	if err != nil {
		return err
	}
	if err := c.SetProperty(ctx, "REPLICATION_DDL_ENABLE", 1); err != nil {
		return err
	}
	defer func() {
		// Always restore, even when ctx is cancelled or expired.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ddlResetTimeout)
		defer cancel()
		if rerr := c.SetProperty(rctx, "REPLICATION_DDL_ENABLE", 0); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	for _, stmt := range stmts {
		err := c.do(ctx, func(ctx context.Context, prev error) error {
			if prev != nil {
				return uncertain(prev)
			}
			return c.exec(ctx, stmt)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SetProperty runs ALTER SYSTEM SET name = value (integer properties such
// as ADMIN_MODE, REPLICATION_DDL_ENABLE). Idempotent, so simply retried.
func (c *Conn) SetProperty(ctx context.Context, name string, value int64) error {
	n, err := ident("property", name, maxObjectName)
	if err != nil {
		return err
	}
	stmt := setSQL(n, value)
	return c.do(ctx, func(ctx context.Context, _ error) error { return c.exec(ctx, stmt) })
}

// SetAdminMode runs ALTER SYSTEM SET ADMIN_MODE = mode (0 or 1).
func (c *Conn) SetAdminMode(ctx context.Context, mode int) error {
	if mode != 0 && mode != 1 {
		return fmt.Errorf("set ADMIN_MODE %d: want 0 or 1", mode)
	}
	return c.SetProperty(ctx, "ADMIN_MODE", int64(mode))
}

// SetAllowDuplicateHosts runs ALTER SYSTEM SET
// REPLICATION_ALLOW_DUPLICATE_HOSTS = 0|1, needed for several replications
// between the same two servers.
func (c *Conn) SetAllowDuplicateHosts(ctx context.Context, allow bool) error {
	v := int64(0)
	if allow {
		v = 1
	}
	return c.SetProperty(ctx, "REPLICATION_ALLOW_DUPLICATE_HOSTS", v)
}

// SetQueryTimeout runs ALTER SESSION SET QUERY_TIMEOUT = d (whole seconds,
// rounded up) and keeps it for reconnects. Unlimited (0) is refused: every
// call aku makes is bounded.
func (c *Conn) SetQueryTimeout(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("set QUERY_TIMEOUT %v: must be positive", d)
	}
	err := c.do(ctx, func(ctx context.Context, _ error) error { return c.setQueryTimeout(ctx, d) })
	if err == nil {
		c.mu.Lock()
		c.opts.QueryTimeout = d
		c.mu.Unlock()
	}
	return err
}

// truncateSQL renders TRUNCATE TABLE u.t, or ALTER TABLE u.t TRUNCATE
// PARTITION p, per item.
func truncateSQL(items []Item) ([]string, error) {
	stmts := make([]string, 0, len(items))
	for _, it := range items {
		t, p, err := it.tableRef()
		if err != nil {
			return nil, err
		}
		if p == "" {
			stmts = append(stmts, "TRUNCATE TABLE "+t)
		} else {
			stmts = append(stmts, "ALTER TABLE "+t+" TRUNCATE PARTITION "+p)
		}
	}
	return stmts, nil
}

func setSQL(property string, value int64) string {
	return "ALTER SYSTEM SET " + property + " = " + strconv.FormatInt(value, 10)
}
