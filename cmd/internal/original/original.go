// Package original is a reference driver for the original aku's documented
// sequence: `aku -p start` and `aku -p end` as Altibase's manual of the
// utility describes them (its "aku -p start" and "aku -p end" sections;
// docs/altibase.md section 6), issuing exactly the manual's statements in
// the manual's order through the same client aku uses (altibase.Conn). It
// exists to measure aku against the original on the same servers, and to
// show what the original's order does (it loses a peer's writes made during
// a join: docs/altibase.md section 8).
//
// Start on pod-0 (master): connect to every pod (failures are expected:
// those pods do not exist yet), create the missing replication objects,
// start both directions with every pod that answered, flush
// (AKU_FLUSH_AT_START; the manual's master recovery example logs "Flush
// replications."). The manual sets no ADMIN_MODE on the master, and neither
// does this driver.
//
// Start on a slave whose object toward pod-0 was reset or is new: create,
// TRUNCATE the targets, SYNC [PARALLEL n] on pod-0 toward it, START both
// directions with every pod that answered, ADMIN_MODE = 0. With kept state
// (XSN not -1): START both directions, FLUSH ALL here, FLUSH ALL or FLUSH
// WAIT n on the peers (AKU_FLUSH_AT_START), ADMIN_MODE = 0.
//
// End: FLUSH ALL of the pod's replications (AKU_FLUSH_AT_END, slaves only),
// STOP of every related replication on every pod that answered, RESET of them
// (AKU_REPLICATION_RESET_AT_END, never on the master).
//
// Each step fans out across servers, one session per server, statements on
// one server in the manual's order (the 7.1.0.9.6 "parallel execution"; the
// manual's own `aku -p end` example spends 2.75 s on six STOPs, which only
// per-server parallelism explains); Config.Sequential issues one statement
// at a time instead, as the sequence run by hand in altibase.md section 8.
// The marker file (/tmp/aku_start_completed) and aku.conf checks are not
// statements and are left to the caller.
//
// The driver takes endpoints and client options, not simulator objects, so
// it runs against real servers too (FromConfig builds its input from an
// aku.conf).
package original

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/cmd/internal/altibaselc"
	"github.com/aku-k8s/aku/lifecycle/config"
)

// Pod is one position of the StatefulSet.
type Pod struct {
	Name string            // for messages and traces, e.g. altibase-sts-1
	SQL  altibase.Endpoint // where SQL goes
	Host string            // the host the replication objects name (CREATE REPLICATION ... WITH 'Host', port)
}

// Group is one REPLICATIONS group of aku.conf.
type Group struct {
	Prefix       string // REPLICATION_NAME_PREFIX
	SyncParallel int    // SYNC_PARALLEL_COUNT
	Items        []altibase.Item
}

// Config is what the original reads from aku.conf, plus the driver's own
// options.
type Config struct {
	Client              altibase.Options // dialect, password, timeouts, retries
	ReplicationPort     int              // AKU_REPLICATION_PORT_NO
	Groups              []Group          // REPLICATIONS
	FlushAtStart        bool             // AKU_FLUSH_AT_START
	FlushTimeoutAtStart time.Duration    // AKU_FLUSH_TIMEOUT_AT_START: 0 FLUSH ALL, else FLUSH WAIT n on peers
	DelayStartComplete  time.Duration    // AKU_DELAY_START_COMPLETE_TIME
	FlushAtEnd          bool             // AKU_FLUSH_AT_END
	ResetAtEnd          bool             // AKU_REPLICATION_RESET_AT_END = 1

	// Sequential issues one statement at a time (the order of the manual,
	// servers in ordinal order) instead of fanning each step out across
	// servers.
	Sequential bool
	// Observe, when set, receives every statement after it ran, from
	// several goroutines at once unless Sequential.
	Observe func(Statement)
	// Checkpoint, when set, is called after each step (the Step constants);
	// an error stops the run there.
	Checkpoint func(ctx context.Context, step string) error
	// Log receives the original's log lines ("Start as SLAVE Pod.",
	// "Sync tables from MASTER Server.", ...); nil discards them.
	Log *slog.Logger
}

// Steps, as passed to Checkpoint.
const (
	StepConnected = "connected" // sessions open, catalogs read
	StepCreated   = "created"   // missing objects created (start)
	StepTruncated = "truncated" // targets truncated (slave, new or reset)
	StepSynced    = "synced"    // SYNC from pod-0 done
	StepStarted   = "started"   // both directions started
	StepFlushed   = "flushed"   // gaps flushed (start with kept state; end)
	StepOpened    = "opened"    // ADMIN_MODE = 0
	StepStopped   = "stopped"   // related replications stopped (end)
	StepReset     = "reset"     // related replications reset (end)
)

// Kind is what a statement does.
type Kind string

// Statement kinds.
const (
	KindConnect   Kind = "CONNECT"    // one SYSDBA session
	KindRead      Kind = "READ"       // SELECT ... FROM SYSTEM_.SYS_REPLICATIONS_
	KindCreate    Kind = "CREATE"     // CREATE REPLICATION
	KindTruncate  Kind = "TRUNCATE"   // REPLICATION_DDL_ENABLE = 1, TRUNCATE ..., REPLICATION_DDL_ENABLE = 0
	KindSync      Kind = "SYNC"       // ALTER REPLICATION ... SYNC [PARALLEL n]
	KindStart     Kind = "START"      // ALTER REPLICATION ... START
	KindFlush     Kind = "FLUSH"      // ALTER REPLICATION ... FLUSH [ALL] [WAIT n]
	KindStop      Kind = "STOP"       // ALTER REPLICATION ... STOP
	KindReset     Kind = "RESET"      // ALTER REPLICATION ... RESET
	KindAdminMode Kind = "ADMIN_MODE" // ALTER SYSTEM SET ADMIN_MODE = 0
)

// Statement is one statement the driver issued.
type Statement struct {
	Pod         int    // index into the pods of the server it ran on
	Kind        Kind   //
	Replication string // the object, for ALTER/CREATE REPLICATION
	Begin, End  time.Time
	// Err is what the server said, including the answers the original
	// takes as success (a sender already started, a replication not
	// started) and failed connects to pods that do not exist.
	Err error
}

// Errors.
var (
	// ErrMasterFailed is the manual's "The MASTER server is detected to have
	// failed.": pod-0 lost its restart point toward a running slave.
	ErrMasterFailed = errors.New("the MASTER server is detected to have failed")
	// ErrMasterAbsent: a new or reset slave cannot sync without pod-0.
	ErrMasterAbsent = errors.New("the MASTER pod is not reachable")
)

// FromConfig builds the driver's input from a validated aku.conf: every
// position 0..AKU_SERVER_COUNT-1 at cfg.Host(n), AKU_PORT_NO, and the
// client options of the configuration.
func FromConfig(cfg *config.Config, log *slog.Logger) ([]Pod, Config) {
	opts := altibaselc.ClientOptions(cfg, log)
	pods := make([]Pod, cfg.ServerCount)
	for i := range pods {
		h := cfg.Host(i)
		pods[i] = Pod{Name: fmt.Sprintf("%s-%d", cfg.STSName, i), SQL: altibase.Endpoint{Host: h, Port: cfg.PortNo}, Host: h}
	}
	c := Config{
		Client:              opts, // the same client options as aku's hooks
		ReplicationPort:     cfg.ReplicationPortNo,
		FlushAtStart:        cfg.FlushAtStart,
		FlushTimeoutAtStart: cfg.FlushTimeoutAtStart,
		DelayStartComplete:  cfg.DelayStartComplete,
		FlushAtEnd:          cfg.FlushAtEnd,
		ResetAtEnd:          cfg.ReplicationResetAtEnd != config.ResetNever,
		Log:                 log,
	}
	for _, g := range cfg.Groups {
		og := Group{Prefix: g.Prefix, SyncParallel: g.SyncParallel}
		for _, it := range g.Items {
			og.Items = append(og.Items, altibase.Item{User: it.User, Table: it.Table, Partition: it.Partition})
		}
		c.Groups = append(c.Groups, og)
	}
	return pods, c
}
