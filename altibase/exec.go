package altibase

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/sethvargo/go-retry"
)

// ErrClosed reports a call on a closed Conn.
var ErrClosed = errors.New("altibase connection closed")

// attempt is one try of an operation on a live session. prev is non-nil
// when the previous try lost the link after sending its statement: the
// statement may or may not have run, and the attempt must look at the
// server's state before sending it again (or refuse, see ErrUncertain).
type attempt func(ctx context.Context, prev error) error

// do runs fn with retries, serialised with the Conn's other calls.
func (c *Conn) do(ctx context.Context, fn attempt) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return &Error{Server: c.ep.String(), Statement: "", Message: "connection closed", Err: ErrClosed}
	}
	return c.withRetry(ctx, fn)
}

// withRetry runs fn up to 1+RetryCount times (github.com/sethvargo/go-retry,
// constant RetryDelay) while it fails with a retryable error. Before each
// try the session is (re)connected; a lost link drops the session.
func (c *Conn) withRetry(ctx context.Context, fn attempt) error {
	r := retrier{
		backoff: c.backoff(),
		ensure:  c.ensure,
		drop:    c.drop,
		log:     c.log,
		wrapCtx: func(err error) error {
			return classify(c.opts.Dialect, c.ep.String(), "RETRY", phaseStatement, err)
		},
	}
	return r.run(ctx, fn)
}

// retrier is the retry policy, apart from the connection so it can be
// tested without a server.
type retrier struct {
	backoff retry.Backoff
	ensure  func(context.Context) error // connect if needed
	drop    func()                      // forget a session whose link is gone
	log     *slog.Logger
	wrapCtx func(error) error // classifies a context error
}

func (r retrier) run(ctx context.Context, fn attempt) error {
	var prev, last error
	err := retry.Do(ctx, r.backoff, func(ctx context.Context) error {
		if err := r.ensure(ctx); err != nil {
			last = err
			return r.retryable(err)
		}
		err := fn(ctx, prev)
		if err == nil {
			return nil
		}
		last = err
		if errors.Is(err, ErrLinkLost) {
			r.drop()
			prev = err
		}
		return r.retryable(err)
	})
	if err == nil {
		return nil
	}
	if last != nil && !errors.Is(err, last) {
		// go-retry returns the bare context error when ctx ends between
		// tries; keep what the last try said.
		return fmt.Errorf("%w (last attempt: %w)", r.wrapCtx(err), last)
	}
	var e *Error
	if !errors.As(err, &e) {
		return r.wrapCtx(err) // ctx ended before the first try
	}
	return err
}

// retryable marks err for go-retry if its class is transient.
func (r retrier) retryable(err error) error {
	if IsRetryable(err) {
		r.log.Debug("retryable failure", "error", err)
		return retry.RetryableError(err)
	}
	return err
}

// backoff is RetryCount retries RetryDelay apart (go-retry's NewConstant
// refuses a zero delay, which tests use).
func (c *Conn) backoff() retry.Backoff {
	d := c.opts.RetryDelay
	return retry.WithMaxRetries(uint64(c.opts.RetryCount), retry.BackoffFunc(func() (time.Duration, bool) { return d, false }))
}

// uncertain turns the link error of a try that may have run a statement
// which must not run twice into a permanent ErrUncertain.
func uncertain(prev error) error {
	var e *Error
	if !errors.As(prev, &e) {
		return prev
	}
	u := *e
	u.kinds |= kindUncertain
	u.Message = "link lost after the statement was sent; its outcome is unknown: " + e.Message
	return &u
}

// stmtContext bounds one statement: QueryTimeout plus a margin, so the
// server's QUERY_TIMEOUT (0x01044) normally fires first.
func (c *Conn) stmtContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.opts.QueryTimeout+statementSlack)
}

// exec runs one statement through QueryContext, which the driver cancels on
// a deadline (ExecContext does not). A statement without a result set makes
// alexbrainman/odbc return "Stmt did not create a result set" after it ran
// successfully: that exact condition is success.
func (c *Conn) exec(ctx context.Context, stmt string) error {
	ctx, cancel := c.stmtContext(ctx)
	defer cancel()
	c.log.Debug("sql", "statement", stmt)
	rows, err := c.sc.QueryContext(ctx, stmt)
	if isNoResultSet(err) {
		return nil
	}
	if err != nil {
		return c.stmtError(stmt, err)
	}
	defer rows.Close()
	for rows.Next() { // a result set nobody asked for: drain it
	}
	if err := rows.Err(); err != nil {
		return c.stmtError(stmt, err)
	}
	return nil
}

// query runs a SELECT and hands each row to scan.
func (c *Conn) query(ctx context.Context, stmt string, scan func(*sql.Rows) error, args ...any) error {
	ctx, cancel := c.stmtContext(ctx)
	defer cancel()
	c.log.Debug("sql", "statement", stmt, "args", args)
	rows, err := c.sc.QueryContext(ctx, stmt, args...)
	if err != nil {
		return c.stmtError(stmt, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return c.stmtError(stmt, err)
		}
	}
	if err := rows.Err(); err != nil {
		return c.stmtError(stmt, err)
	}
	return nil
}

func (c *Conn) stmtError(stmt string, err error) error {
	e := classify(c.opts.Dialect, c.ep.String(), stmt, phaseStatement, err)
	c.log.Debug("sql failed", "statement", stmt, "error", e)
	return e
}

// setQueryTimeout sets the session QUERY_TIMEOUT. It goes through ALTER
// SESSION because Altibase's driver ignores QUERY_TIMEOUT=60 in a
// connection string (60 is its "unset" sentinel).
func (c *Conn) setQueryTimeout(ctx context.Context, d time.Duration) error {
	return c.exec(ctx, "ALTER SESSION SET QUERY_TIMEOUT = "+strconv.Itoa(wholeSeconds(d)))
}
