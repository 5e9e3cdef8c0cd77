package lifecycle

import (
	"context"
	"errors"
	"time"
)

// Item is one replication target: USER.TABLE [PARTITION P]. Names are
// unquoted Altibase identifiers in upper case, the form Altibase stores
// (aku.conf's are upper-cased when it is read).
type Item struct {
	User, Table string
	Partition   string // empty for a whole table
}

// String renders the item as aku.conf writes it: USER.TABLE or
// USER.TABLE PARTITION P.
func (it Item) String() string {
	s := it.User + "." + it.Table
	if it.Partition != "" {
		s += " PARTITION " + it.Partition
	}
	return s
}

// Replication is one replication object as created on a server (its
// statement-level counterpart is package altibase's Replication).
type Replication struct {
	Name       string
	RemoteHost string // the peer's stable host name (replication objects keep DNS names)
	RemotePort int    // the peer's replication port
	Items      []Item
}

// RepState is a replication object's state from SYSTEM_.SYS_REPLICATIONS_.
type RepState struct {
	Name      string
	XSN       int64 // -1: never started since CREATE, or RESET
	IsStarted bool
}

// Reset reports whether the object carries no restart point (XSN -1).
func (s RepState) Reset() bool { return s.XSN == -1 }

// FlushMode selects the FLUSH variant.
type FlushMode struct {
	All  bool          // FLUSH ALL (up to the newest log) rather than FLUSH (up to now)
	Wait time.Duration // > 0: FLUSH [ALL] WAIT n seconds
}

// Server is one dedicated SYSDBA session on one Altibase server. Methods
// return errors matching the sentinels below where the server said so.
type Server interface {
	Replications(ctx context.Context) ([]RepState, error)
	CreateReplication(ctx context.Context, r Replication) error
	Start(ctx context.Context, name string) error // ErrAlreadyStarted if the sender runs
	Stop(ctx context.Context, name string) error  // ErrNotStarted if it does not
	Reset(ctx context.Context, name string) error
	Drop(ctx context.Context, name string) error
	Sync(ctx context.Context, name string, parallel int) error
	Flush(ctx context.Context, name string, mode FlushMode) error // ErrNotStarted if not started
	Truncate(ctx context.Context, items []Item) error             // with REPLICATION_DDL_ENABLE toggled
	SetAdminMode(ctx context.Context, on bool) error
	Property(ctx context.Context, name string) (int64, error)
	SetProperty(ctx context.Context, name string, value int64) error
	Close() error
}

// Member is one pod of the StatefulSet as discovery sees it.
type Member struct {
	// Position is the pod's place in the StatefulSet, 0..AKU_SERVER_COUNT-1:
	// its ordinal minus the StatefulSet's spec.ordinals.start (the ordinal
	// itself when that is not set, and always in DNS discovery). aku numbers
	// pods by it: position 0 is the master, and replication names (Name)
	// use positions. Name and Host carry the real ordinal.
	Position int
	Name     string // pod name, for logs ("altibase-sts-1")
	Host     string // stable host name used in replication objects
	Addr     string // where to connect for SQL (pod IP or Host); empty: use Host
	Ready    bool   // Kubernetes readiness where known; DNS mode: false (unknown)
	Absent   bool   // known not to exist (API mode): not dialled at all
	Gone     bool   // outside the StatefulSet's current ordinals (API mode)
}

// Discovery tells the pod who it is and who its peers are.
type Discovery interface {
	// Self waits (bounded) until this pod is addressable and returns it.
	Self(ctx context.Context) (Member, error)
	// Members lists every position of the mesh (0..AKU_SERVER_COUNT-1) with
	// what is known about it; whether a member is reachable is learnt by
	// connecting.
	Members(ctx context.Context) ([]Member, error)
}

// Dialer opens a dedicated SYSDBA session to a member.
type Dialer interface {
	Dial(ctx context.Context, m Member) (Server, error)
}

// Sentinels the Server implementation maps its errors onto.
var (
	ErrAlreadyStarted = errors.New("replication sender already started")
	ErrNotStarted     = errors.New("replication not started")
	ErrUndefined      = errors.New("replication undefined")
	// ErrUnreachable: the server refused or timed out the connection (after
	// the configured retries), or the link broke and could not be restored.
	// Only this makes a peer absent.
	ErrUnreachable = errors.New("server unreachable")
	// ErrBusy: the server answered, but its one SYSDBA session is taken
	// (ERR-41041: a DBA's isql -sysdba, a monitoring job, another aku, or
	// the session of a killed aku whose statement still runs). The server
	// is present: wait for the session, never skip the server.
	ErrBusy = errors.New("the server's SYSDBA session is already in use")
	// ErrLoginRefused: the server answered and refused the login (a wrong
	// SYS password, ADMIN_MODE, REMOTE_SYSDBA_ENABLE = 0). Waiting does not
	// help: fail at once.
	ErrLoginRefused = errors.New("login refused")
	// ErrFlushTimeout: FLUSH ... WAIT n ran out before the sender caught up.
	ErrFlushTimeout = errors.New("flush wait timed out")
)

// Sentinels lifecycle returns.
var (
	ErrDuplicateStart = errors.New("aku -p start already completed on this pod")
	ErrMasterFailed   = errors.New("the MASTER server is detected to have failed")
	ErrMasterAbsent   = errors.New("the MASTER pod is not reachable")
	// ErrMasterEndLost: a slave that kept its restart point toward pod-0
	// finds pod-0's end without one, and pod-0 keeps none toward anybody
	// else: pod-0 may have lost its state, so syncing from it could wipe
	// this pod's data. A person decides.
	ErrMasterEndLost   = errors.New("the MASTER's replication toward this pod lost its restart point")
	ErrSelfUnreachable = errors.New("the local Altibase server is not reachable")
	// ErrIncomplete: after start, a pair between this pod and a live member
	// is not replicating in both directions; start must not report success.
	ErrIncomplete = errors.New("the replication mesh is incomplete")
	// ErrMarker: the marker file cannot be written where configured.
	ErrMarker = errors.New("the marker file cannot be written")
)
