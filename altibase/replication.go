package altibase

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Replication describes a replication object to create. aku replicates each
// item to the same-named object on the peer.
type Replication struct {
	Name       string
	RemoteHost string // the peer's DNS name or IP address
	RemotePort int    // the peer's REPLICATION_PORT_NO (not its service port)
	Items      []Item
}

// createSQL renders CREATE REPLICATION after validating every part.
func (r Replication) createSQL() (string, error) {
	name, err := replName(r.Name)
	if err != nil {
		return "", err
	}
	host, err := checkHost(r.RemoteHost)
	if err != nil {
		return "", err
	}
	if err := checkPort(r.RemotePort); err != nil {
		return "", err
	}
	if len(r.Items) == 0 {
		return "", fmt.Errorf("create replication %q: no items", r.Name)
	}
	items := make([]string, 0, len(r.Items))
	for _, it := range r.Items {
		t, err := it.sqlText()
		if err != nil {
			return "", err
		}
		items = append(items, "FROM "+t+" TO "+t)
	}
	return fmt.Sprintf("CREATE REPLICATION %s WITH '%s', %d %s",
		name, host, r.RemotePort, strings.Join(items, ", ")), nil
}

// CreateReplication creates the object. ErrDuplicateReplication if one of
// that name exists, ErrDuplicateHost if another uses the same host:port.
// After a lost link it checks whether the object now exists before retrying.
func (c *Conn) CreateReplication(ctx context.Context, r Replication) error {
	stmt, err := r.createSQL()
	if err != nil {
		return err
	}
	return c.do(ctx, func(ctx context.Context, prev error) error {
		if prev != nil {
			if _, ok, err := c.replication(ctx, r.Name); err != nil || ok {
				return err
			}
		}
		return c.exec(ctx, stmt)
	})
}

// alterSQL renders "ALTER REPLICATION <name> <action>".
func alterSQL(name, action string) (string, error) {
	n, err := replName(name)
	if err != nil {
		return "", err
	}
	return "ALTER REPLICATION " + n + " " + action, nil
}

// Start starts the sender (ALTER REPLICATION name START): ErrAlreadyStarted
// if it runs, ErrHandshake if the peer cannot be reached or lacks the
// object. A successful START takes up to a second (server clock tick).
// After a lost link it reads the sender's state before sending START again.
func (c *Conn) Start(ctx context.Context, name string) error {
	stmt, err := alterSQL(name, "START")
	if err != nil {
		return err
	}
	return c.do(ctx, c.startAttempt(name, stmt))
}

// startAttempt sends stmt unless an earlier try already started the sender.
func (c *Conn) startAttempt(name, stmt string) attempt {
	return func(ctx context.Context, prev error) error {
		if prev != nil {
			running, err := c.running(ctx, name)
			if err != nil || running {
				return err
			}
		}
		return c.exec(ctx, stmt)
	}
}

// DefaultStartRetryWait bounds StartRetry's wait for a running sender.
const DefaultStartRetryWait = 3 * time.Second

// startRetryPoll is the V$REPSENDER poll interval of StartRetry (a sender
// reaches STATUS=1 about 10 ms after START RETRY on a real server).
const startRetryPoll = 10 * time.Millisecond

// asleepWait bounds how long StartRetry watches a sender that was already
// started before it restarts it: one that lost its peer sleeps
// REPLICATION_SENDER_SLEEP_TIMEOUT (60 s by default) before it tries again,
// while one that is merely connecting (started at boot a moment ago) is up
// within milliseconds (START RETRY to STATUS 1 took about 10 ms on a real
// server): two polls. Waiting too little costs a needless STOP and START,
// no more; every restarted pod's start pays the wait for each sleeping
// peer sender.
const asleepWait = 20 * time.Millisecond

// StartRetry starts the sender with START RETRY (returns in milliseconds,
// where START waits for a server clock tick), then polls V$REPSENDER up to
// wait (default DefaultStartRetryWait) for STATUS=1 and NET_ERROR_FLAG=0.
// START RETRY never reports handshake errors, so if the sender does not come
// up in time it STOPs it and runs a plain START, which returns the real
// error (typically ErrHandshake) or succeeds.
//
// A sender that was already started is ErrAlreadyStarted if it runs (as
// for Start). If it does not run within asleepWait -- it lost its peer
// (the peer restarted, crashed, was unreachable) and sleeps -- the caller
// wants it running now, so it is stopped and started again as above (a
// STOP costs a server clock tick; a FLUSH toward a sleeping sender would
// wait out its sleep).
func (c *Conn) StartRetry(ctx context.Context, name string, wait time.Duration) error {
	stmt, err := alterSQL(name, "START RETRY")
	if err != nil {
		return err
	}
	if wait <= 0 {
		wait = DefaultStartRetryWait
	}
	err = c.do(ctx, c.startAttempt(name, stmt))
	if errors.Is(err, ErrAlreadyStarted) {
		up, werr := c.waitSender(ctx, name, asleepWait)
		if werr != nil {
			return werr
		}
		if up {
			return err
		}
		c.log.Debug("sender started but not running (asleep after losing its peer); stopping and starting it again", "replication", name)
		if err := c.Stop(ctx, name); err != nil && !errors.Is(err, ErrNotStarted) {
			return err
		}
		err = c.do(ctx, c.startAttempt(name, stmt))
	}
	if err != nil {
		return err
	}
	up, err := c.waitSender(ctx, name, wait)
	if err != nil || up {
		return err
	}
	c.log.Debug("sender did not come up after START RETRY; stopping it and starting plainly for the error", "replication", name, "wait", wait)
	if err := c.Stop(ctx, name); err != nil && !errors.Is(err, ErrNotStarted) {
		return err
	}
	return c.Start(ctx, name)
}

// waitSender polls V$REPSENDER until name's sender runs without a network
// error, for at most wait. It reports whether it came up.
func (c *Conn) waitSender(ctx context.Context, name string, wait time.Duration) (bool, error) {
	return c.pollUntil(ctx, wait, "POLL V$REPSENDER", func(ctx context.Context) (bool, error) {
		senders, err := c.Senders(ctx)
		return slices.ContainsFunc(senders, func(s Sender) bool {
			return strings.EqualFold(s.Name, name) && s.Status == SenderRunning && !s.NetError
		}), err
	})
}

// pollUntil checks cond every startRetryPoll for at most wait and reports
// whether it held. A check cut short by the wait running out is not an
// error; the caller's context ending is (labelled with what).
func (c *Conn) pollUntil(ctx context.Context, wait time.Duration, what string, cond func(context.Context) (bool, error)) (bool, error) {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	t := time.NewTicker(startRetryPoll)
	defer t.Stop()
	for {
		ok, err := cond(wctx)
		if err != nil {
			if wctx.Err() != nil && ctx.Err() == nil {
				return false, nil // our wait ran out mid-read
			}
			return false, err
		}
		if ok {
			return true, nil
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return false, classify(c.opts.Dialect, c.ep.String(), what, phaseStatement, ctx.Err())
			}
			return false, nil
		case <-t.C:
		}
	}
}

// Sync copies the tables to the peer and starts the sender (ALTER
// REPLICATION name SYNC PARALLEL n; n <= 0 sends a plain SYNC). The target
// tables must be empty (truncated) first. SYNC must not run twice on a
// partly filled target, so after a lost link it is not retried: the error is
// ErrUncertain (and ErrLinkLost) unless the sender is found running.
func (c *Conn) Sync(ctx context.Context, name string, parallel int) error {
	return c.sync(ctx, name, "SYNC", parallel, true)
}

// SyncOnly copies the tables without leaving a sender running (ALTER
// REPLICATION name SYNC ONLY PARALLEL n). Not retried after a lost link.
func (c *Conn) SyncOnly(ctx context.Context, name string, parallel int) error {
	return c.sync(ctx, name, "SYNC ONLY", parallel, false)
}

func (c *Conn) sync(ctx context.Context, name, action string, parallel int, starts bool) error {
	stmt, err := syncSQL(name, action, parallel)
	if err != nil {
		return err
	}
	return c.do(ctx, func(ctx context.Context, prev error) error {
		if prev == nil {
			return c.exec(ctx, stmt)
		}
		if starts {
			// A running sender after SYNC means SYNC finished.
			if running, err := c.running(ctx, name); err != nil || running {
				return err
			}
		}
		return uncertain(prev)
	})
}

// Stop stops the sender (ErrNotStarted if it is not started). After a lost
// link it reads the state before sending STOP again.
func (c *Conn) Stop(ctx context.Context, name string) error {
	stmt, err := alterSQL(name, "STOP")
	if err != nil {
		return err
	}
	return c.do(ctx, func(ctx context.Context, prev error) error {
		if prev != nil {
			st, ok, err := c.replication(ctx, name)
			if err != nil {
				return err
			}
			if ok && !st.IsStarted {
				return nil
			}
		}
		return c.exec(ctx, stmt)
	})
}

// Reset clears the restart point (XSN becomes -1). ErrAlreadyStarted while
// the sender runs. Running it twice is harmless, so it is simply retried.
func (c *Conn) Reset(ctx context.Context, name string) error {
	stmt, err := alterSQL(name, "RESET")
	if err != nil {
		return err
	}
	return c.do(ctx, func(ctx context.Context, _ error) error { return c.exec(ctx, stmt) })
}

// Drop drops the object (ErrReplicationStarted while started,
// ErrUndefinedReplication if absent). After a lost link it checks whether
// the object is already gone.
func (c *Conn) Drop(ctx context.Context, name string) error {
	stmt, err := DropStatement(name)
	if err != nil {
		return err
	}
	err = c.do(ctx, func(ctx context.Context, prev error) error {
		if prev != nil {
			if _, ok, err := c.replication(ctx, name); err != nil || !ok {
				return err
			}
		}
		return c.exec(ctx, stmt)
	})
	if err != nil {
		return err
	}
	return c.waitReceiverGone(ctx, name)
}

// DefaultDropReceiverWait bounds how long Drop waits for the object's
// receiver to end after DROP REPLICATION returned (Options.DropReceiverWait).
const DefaultDropReceiverWait = 5 * time.Second

// ErrReceiverRunning: a receiver of the dropped object still runs.
var ErrReceiverRunning = errors.New("the replication's receiver still runs after DROP REPLICATION")

// waitReceiverGone makes sure nothing more is applied for a dropped object:
// DROP REPLICATION also stops the object's receiver (docs/altibase.md
// section 2: the manual and the server's source; not yet measured, section
// 10). aku truncates right after such a DROP, so it does not take that on
// trust: it polls V$REPRECEIVER until no row of the name is left, and fails
// (ErrReceiverRunning) if one stays past Options.DropReceiverWait.
func (c *Conn) waitReceiverGone(ctx context.Context, name string) error {
	wait := c.opts.DropReceiverWait
	if wait <= 0 {
		wait = DefaultDropReceiverWait
	}
	gone, err := c.pollUntil(ctx, wait, "POLL V$REPRECEIVER", func(ctx context.Context) (bool, error) {
		names, err := c.Receivers(ctx)
		return !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, name) }), err
	})
	if err != nil || gone {
		return err
	}
	return fmt.Errorf("altibase %s: %w: %s, %s later (docs/altibase.md section 10)", c.ep, ErrReceiverRunning, name, wait)
}

// FlushOptions select the FLUSH form.
type FlushOptions struct {
	// All waits for the newest log, not just the log at statement time.
	All bool
	// Wait bounds the flush (FLUSH [ALL] WAIT n, whole seconds rounded up);
	// 0 waits without a bound of its own (QUERY_TIMEOUT still applies).
	Wait time.Duration
}

// Flush waits until the sender has sent the log (ALTER REPLICATION name
// FLUSH [ALL] [WAIT n]). ErrNotStarted without a sender; ErrFlushTimeout
// (also ErrTimeout) when WAIT runs out. Idempotent, so simply retried.
func (c *Conn) Flush(ctx context.Context, name string, o FlushOptions) error {
	stmt, err := flushSQL(name, o)
	if err != nil {
		return err
	}
	return c.do(ctx, func(ctx context.Context, _ error) error { return c.exec(ctx, stmt) })
}

// flushSQL renders ALTER REPLICATION name FLUSH [ALL] [WAIT n].
func flushSQL(name string, o FlushOptions) (string, error) {
	action := "FLUSH"
	if o.All {
		action += " ALL"
	}
	if o.Wait > 0 {
		action += " WAIT " + strconv.Itoa(wholeSeconds(o.Wait))
	}
	return alterSQL(name, action)
}

// syncSQL renders ALTER REPLICATION name SYNC [ONLY] [PARALLEL n].
func syncSQL(name, action string, parallel int) (string, error) {
	if parallel > 0 {
		action += " PARALLEL " + strconv.Itoa(parallel)
	}
	return alterSQL(name, action)
}
