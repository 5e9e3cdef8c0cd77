package config

import (
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aku-k8s/aku/lifecycle"
)

// Config is a validated aku.conf. Every field holds its final value: the
// file's, an environment override's or the default. Durations keep the unit
// of the manual's property in their doc comment.
type Config struct {
	// File is the name the configuration was read from (for messages).
	File string

	// Kubernetes settings.
	STSName     string // AKU_STS_NAME, a DNS-1123 label (<= 63 bytes)
	SVCName     string // AKU_SVC_NAME, a DNS-1035 label (<= 63 bytes)
	ServerCount int    // AKU_SERVER_COUNT, 1..6

	// Common properties.
	SysPassword       Secret        // AKU_SYS_PASSWORD; see PasswordSource
	PasswordSource    Source        // where SysPassword came from
	PortNo            int           // AKU_PORT_NO, 1024..65535
	ReplicationPortNo int           // AKU_REPLICATION_PORT_NO, 1024..65535
	QueryTimeout      time.Duration // AKU_QUERY_TIMEOUT, in seconds in the file
	QueryRetryCount   int           // AKU_QUERY_RETRY_COUNT, 0 = no retry
	QueryRetryDelay   time.Duration // AKU_QUERY_RETRY_DELAY_MSEC, in milliseconds in the file

	// aku start/end properties.
	AddressCheckCount     int                   // AKU_ADDRESS_CHECK_COUNT
	FlushAtStart          bool                  // AKU_FLUSH_AT_START, 0/1
	FlushTimeoutAtStart   time.Duration         // AKU_FLUSH_TIMEOUT_AT_START, seconds; 0 = FLUSH ALL without WAIT
	DelayStartComplete    time.Duration         // AKU_DELAY_START_COMPLETE_TIME, seconds
	FlushAtEnd            bool                  // AKU_FLUSH_AT_END, 0/1
	ReplicationResetAtEnd lifecycle.ResetPolicy // AKU_REPLICATION_RESET_AT_END

	// Groups are the REPLICATIONS groups, in file order (at least one, each
	// with at least one item). Prefixes and item names are upper case.
	Groups []lifecycle.Group

	// Extensions (not in the original aku).
	HostFormat   string        // AKU_HOST_FORMAT, placeholders {sts} {svc} {ordinal}
	MarkerFile   string        // AKU_MARKER_FILE
	ODBCDriver   string        // AKU_ODBC_DRIVER, $ALTIBASE_HOME expanded
	ODBCDialect  Dialect       // AKU_ODBC_DIALECT
	LoginTimeout time.Duration // AKU_LOGIN_TIMEOUT, seconds, 1..3600
	NLSUse       string        // AKU_NLS_USE

	Discovery          DiscoveryMode // AKU_DISCOVERY
	LeaseName          string        // AKU_LEASE_NAME ({sts} expanded by LeaseFor; "none" disables)
	StartTimeout       time.Duration // AKU_START_TIMEOUT, seconds
	EndReserve         time.Duration // AKU_END_RESERVE, seconds
	MasterReadyTimeout time.Duration // AKU_MASTER_READY_TIMEOUT, seconds

	// Sources records where every scalar property's value came from, by
	// property name.
	Sources map[string]Source
}

// Secret is a password. It prints as "********" through fmt, slog and
// encoding/json so a logged Config never shows it; Reveal returns the text.
type Secret string

// Masked is how a Secret prints.
const Masked = "********"

// Reveal returns the password itself.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string               { return Masked }
func (s Secret) GoString() string             { return `"` + Masked + `"` }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(Masked) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(Masked), nil }

// User is the database user aku connects as. The original aku always uses
// SYS (replication DDL is reserved to SYS).
const User = "SYS"

// AKU_REPLICATION_RESET_AT_END's values ("0", "1", "auto"): lifecycle's
// ResetPolicy, named here too for readers of a Config.
const (
	ResetNever  = lifecycle.ResetNever  // "0": keep replication information at end
	ResetAlways = lifecycle.ResetAlways // "1": RESET the replications at end (default)
	ResetAuto   = lifecycle.ResetAuto   // "auto": RESET only on a confirmed scale-down or deletion (extension)
)

// DiscoveryMode is AKU_DISCOVERY.
type DiscoveryMode string

const (
	DiscoveryAuto       DiscoveryMode = "auto"       // the API when in a cluster and permitted, else DNS
	DiscoveryKubernetes DiscoveryMode = "kubernetes" // the Kubernetes API
	DiscoveryDNS        DiscoveryMode = "dns"        // the original's DNS polling
)

// Lease is the start Lease's name for this configuration ("" when disabled).
func (c *Config) Lease() string {
	if c.LeaseName == "none" {
		return ""
	}
	return strings.ReplaceAll(c.LeaseName, "{sts}", c.STSName)
}

// Dialect is AKU_ODBC_DIALECT: which server the ODBC client talks to.
type Dialect string

const (
	DialectAltibase  Dialect = "altibase"  // a real Altibase server (default)
	DialectSimulator Dialect = "simulator" // aku's Altibase simulator
)

// SourceKind says where a property's value came from.
type SourceKind int

const (
	FromDefault SourceKind = iota
	FromFile
	FromEnv
	FromSecretFile // AKU_SYS_PASSWORD_FILE
)

// Source locates a property's value: its kind plus the file and line (for
// FromFile), the variable (FromEnv) or the secret file (FromSecretFile).
type Source struct {
	Kind SourceKind
	Name string // file name, environment variable or secret file path
	Line int
}

func (s Source) String() string {
	switch s.Kind {
	case FromFile:
		return s.Name + ":" + strconv.Itoa(s.Line)
	case FromEnv:
		return "$" + s.Name
	case FromSecretFile:
		return "secret file " + s.Name
	default:
		return "default"
	}
}

// Host is the host name aku uses for the pod with the given ordinal:
// lifecycle.HostName with AKU_HOST_FORMAT, AKU_STS_NAME and AKU_SVC_NAME
// (by default "<AKU_STS_NAME>-<n>.<AKU_SVC_NAME>", as the original).
func (c *Config) Host(ordinal int) string {
	return lifecycle.HostName(c.HostFormat, c.STSName, c.SVCName, ordinal)
}
