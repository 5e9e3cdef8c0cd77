package lifecycle

import (
	"context"
	"errors"
	"time"
)

// Item is one replication target: USER.TABLE [PARTITION P].
type Item struct {
	User, Table, Partition string
}

// Replication is one replication object as created on a server.
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
	Ordinal int
	Name    string // pod name, for logs ("altibase-sts-1")
	Host    string // stable host name used in replication objects
	Addr    string // where to connect for SQL (pod IP or Host); empty: use Host
	Ready   bool   // Kubernetes readiness where known; DNS mode: false (unknown)
	Absent  bool   // known not to exist (API mode): not dialled at all
	Gone    bool   // outside the StatefulSet's current ordinals (API mode)
}

// Discovery tells the pod who it is and who its peers are.
type Discovery interface {
	// Self waits (bounded) until this pod is addressable and returns it.
	Self(ctx context.Context) (Member, error)
	// Members lists every ordinal of the mesh (0..AKU_SERVER_COUNT-1) with
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
	ErrUnreachable    = errors.New("server unreachable")
)

// Sentinels lifecycle returns.
var (
	ErrDuplicateStart  = errors.New("aku -p start already completed on this pod")
	ErrMasterFailed    = errors.New("the MASTER server is detected to have failed")
	ErrMasterAbsent    = errors.New("the MASTER pod is not reachable")
	ErrSelfUnreachable = errors.New("the local Altibase server is not reachable")
)
