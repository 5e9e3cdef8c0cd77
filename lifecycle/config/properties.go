package config

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aku-k8s/aku/lifecycle"
)

// Kind is the type of a property's value.
type Kind int

const (
	KindInt      Kind = iota // a decimal integer within Min..Max
	KindFlag                 // 0 or 1
	KindName                 // a Kubernetes DNS name
	KindPassword             // any non-empty text
	KindEnum                 // one of a fixed set of words
	KindText                 // free text with its own check (paths, formats)
)

// Property describes one top-level aku.conf property. The table returned by
// Properties drives parsing, validation, defaults, environment overrides and
// the README's reference, so a new property is one more entry.
type Property struct {
	Name      string
	Default   string // as it would be written in aku.conf; empty if Required
	Required  bool   // no default: missing gives "Property [NAME] should be specified by configuration."
	Kind      Kind
	Min, Max  int64  // range of KindInt and KindFlag
	Unit      string // unit of an integer: "s", "ms" or ""
	Values    []string
	Extension bool // not in the original aku
	Env       bool // an environment variable of the same name overrides the file
	Doc       string

	// DefaultEnv names an environment variable whose value, if set, replaces
	// Default (below the file and the property's own override).
	DefaultEnv string

	// set checks v and stores it in c. It returns a *valueError.
	set func(c *Config, v string, getenv func(string) string) error
}

// valueError is a problem with a value, before the caller adds file, line
// and property.
type valueError struct {
	kind error
	msg  string
}

func (e *valueError) Error() string { return e.msg }

func invalidf(format string, args ...any) error {
	return &valueError{kind: ErrInvalid, msg: fmt.Sprintf(format, args...)}
}

// Property names.
const (
	PropSTSName               = "AKU_STS_NAME"
	PropSVCName               = "AKU_SVC_NAME"
	PropServerCount           = "AKU_SERVER_COUNT"
	PropSysPassword           = "AKU_SYS_PASSWORD"
	PropPortNo                = "AKU_PORT_NO"
	PropReplicationPortNo     = "AKU_REPLICATION_PORT_NO"
	PropQueryTimeout          = "AKU_QUERY_TIMEOUT"
	PropQueryRetryCount       = "AKU_QUERY_RETRY_COUNT"
	PropQueryRetryDelayMsec   = "AKU_QUERY_RETRY_DELAY_MSEC"
	PropAddressCheckCount     = "AKU_ADDRESS_CHECK_COUNT"
	PropFlushAtStart          = "AKU_FLUSH_AT_START"
	PropFlushTimeoutAtStart   = "AKU_FLUSH_TIMEOUT_AT_START"
	PropDelayStartComplete    = "AKU_DELAY_START_COMPLETE_TIME"
	PropFlushAtEnd            = "AKU_FLUSH_AT_END"
	PropReplicationResetAtEnd = "AKU_REPLICATION_RESET_AT_END"
	PropReplications          = propReplications
	PropReplicationNamePrefix = propPrefix
	PropSyncParallelCount     = propSyncParallel
	PropHostFormat            = "AKU_HOST_FORMAT"
	PropMarkerFile            = "AKU_MARKER_FILE"
	PropODBCDriver            = "AKU_ODBC_DRIVER"
	PropODBCDialect           = "AKU_ODBC_DIALECT"
	PropLoginTimeout          = "AKU_LOGIN_TIMEOUT"
	PropNLSUse                = "AKU_NLS_USE"
	PropDiscovery             = "AKU_DISCOVERY"
	PropLeaseName             = "AKU_LEASE_NAME"
	PropStartTimeout          = "AKU_START_TIMEOUT"
	PropEndReserve            = "AKU_END_RESERVE"
	PropMasterReadyTimeout    = "AKU_MASTER_READY_TIMEOUT"
)

// Environment variables read besides the per-property overrides.
const (
	EnvSysPasswordFile = "AKU_SYS_PASSWORD_FILE" // file holding the SYS password (a mounted Secret)
	EnvAltibaseHome    = "ALTIBASE_HOME"
	EnvAltibaseNLSUse  = "ALTIBASE_NLS_USE"
)

// Limits from the manual and from Altibase.
const (
	MaxServers          = 6  // AKU_SERVER_COUNT upper bound
	MaxK8sNameLen       = 63 // AKU_STS_NAME, AKU_SVC_NAME
	MaxPrefixLen        = 37 // REPLICATION_NAME_PREFIX
	MaxReplicationName  = 40 // Altibase QC_MAX_NAME_LEN
	MaxObjectNameLen    = 128
	MaxHostLen          = 62 // CREATE REPLICATION ... WITH 'host': the quoted literal is <= 64 bytes
	MaxSyncParallel     = 100
	maxInt32            = math.MaxInt32
	defaultHostFormat   = lifecycle.DefaultHostFormat
	defaultODBCDriver   = "$ALTIBASE_HOME/lib/libaltibase_odbc-64bit-ul64.so"
	defaultMarkerFile   = "/tmp/aku_start_completed"
	defaultNLSUse       = "UTF8"
	defaultLeaseName    = "{sts}-aku-start"
	maxQueryTimeoutSecs = math.MaxUint32 // Altibase QUERY_TIMEOUT's range
)

// Properties returns the table of top-level properties in the manual's
// order, extensions last. REPLICATIONS and its group properties are
// described by GroupProperties.
func Properties() []Property { return append([]Property(nil), properties...) }

// GroupProperties describes the REPLICATIONS group properties (for docs).
func GroupProperties() []Property { return append([]Property(nil), groupProperties...) }

func lookupProperty(name string) (Property, bool) {
	for _, p := range properties {
		if p.Name == name {
			return p, true
		}
	}
	return Property{}, false
}

var groupProperties = []Property{
	{Name: PropReplicationNamePrefix, Required: true, Kind: KindText,
		Doc: "Prefix of the replication objects' names (PREFIX_ij); an Altibase identifier of at most 37 bytes."},
	{Name: PropSyncParallelCount, Default: "1", Kind: KindInt, Min: 1, Max: MaxSyncParallel,
		Doc: "Threads sending/receiving during replication SYNC."},
}

var properties = []Property{
	{Name: PropSTSName, Required: true, Kind: KindName,
		Doc: "Name of the StatefulSet; a DNS-1123 label of at most 63 bytes.",
		set: func(c *Config, v string, _ func(string) string) error {
			c.STSName = v
			return checkDNSLabel(v, false)
		}},
	{Name: PropSVCName, Required: true, Kind: KindName,
		Doc: "Name of the (headless) Service; a DNS-1035 label of at most 63 bytes.",
		set: func(c *Config, v string, _ func(string) string) error {
			c.SVCName = v
			return checkDNSLabel(v, true)
		}},
	intProp(PropServerCount, "4", 1, MaxServers, "",
		"Maximum number of Altibase servers (pods) kept in replication.",
		func(c *Config, n int64) { c.ServerCount = int(n) }),
	{Name: PropSysPassword, Required: true, Kind: KindPassword, Env: true,
		Doc: "Password of SYS. $AKU_SYS_PASSWORD_FILE (a file) wins over $AKU_SYS_PASSWORD, which wins over aku.conf.",
		set: func(c *Config, v string, _ func(string) string) error {
			c.SysPassword = Secret(v)
			return nil
		}},
	intProp(PropPortNo, "20300", 1024, 65535, "", "Altibase service port (PORT_NO).",
		func(c *Config, n int64) { c.PortNo = int(n) }),
	intProp(PropReplicationPortNo, "20301", 1024, 65535, "", "Altibase replication port (REPLICATION_PORT_NO).",
		func(c *Config, n int64) { c.ReplicationPortNo = int(n) }),
	intProp(PropQueryTimeout, "3600", 0, maxQueryTimeoutSecs, "s", "QUERY_TIMEOUT of aku's sessions.",
		func(c *Config, n int64) { c.QueryTimeout = time.Duration(n) * time.Second }),
	intProp(PropQueryRetryCount, "5", 0, maxInt32, "", "Retries of a failed query; 0 does not retry.",
		func(c *Config, n int64) { c.QueryRetryCount = int(n) }),
	intProp(PropQueryRetryDelayMsec, "1000", 0, maxInt32, "ms", "Wait before a retry; 0 retries at once.",
		func(c *Config, n int64) { c.QueryRetryDelay = time.Duration(n) * time.Millisecond }),
	intProp(PropAddressCheckCount, "30", 0, maxInt32, "",
		"Attempts to see the pod's own DNS name registered in the Service at -p start.",
		func(c *Config, n int64) { c.AddressCheckCount = int(n) }),
	flagProp(PropFlushAtStart, "1", "1: FLUSH replication gaps at -p start; 0: do not.",
		func(c *Config, b bool) { c.FlushAtStart = b }),
	intProp(PropFlushTimeoutAtStart, "300", 0, maxInt32, "s",
		"wait_time of FLUSH WAIT at -p start; 0 uses FLUSH ALL. Only with AKU_FLUSH_AT_START = 1.",
		func(c *Config, n int64) { c.FlushTimeoutAtStart = time.Duration(n) * time.Second }),
	intProp(PropDelayStartComplete, "0", 0, maxInt32, "s",
		"Wait on a slave pod after the sync, before ADMIN_MODE is set to 0.",
		func(c *Config, n int64) { c.DelayStartComplete = time.Duration(n) * time.Second }),
	flagProp(PropFlushAtEnd, "1", "1: FLUSH ALL at -p end on a slave pod; 0: do not.",
		func(c *Config, b bool) { c.FlushAtEnd = b }),
	{Name: PropReplicationResetAtEnd, Default: "1", Kind: KindEnum, Min: 0, Max: 1, Values: []string{"0", "1", "auto"},
		Env: true,
		Doc: "1: RESET the replications at -p end; 0: keep their information; auto (extension): reset only when " +
			"the Kubernetes API confirms a scale-down or the StatefulSet's deletion, so a restarting pod keeps its state.",
		set: func(c *Config, v string, _ func(string) string) error {
			m, err := parseResetPolicy(v)
			c.ReplicationResetAtEnd = m
			return err
		}},

	// Extensions.
	{Name: PropHostFormat, Default: defaultHostFormat, Kind: KindText, Extension: true, Env: true,
		Doc: "Host name of pod n; placeholders {sts}, {svc}, {ordinal} (required). Checked as an RFC 1123 host name of at most 62 bytes for every pod.",
		set: func(c *Config, v string, _ func(string) string) error {
			c.HostFormat = v
			return checkHostFormat(v)
		}},
	{Name: PropMarkerFile, Default: defaultMarkerFile, Kind: KindText, Extension: true, Env: true,
		Doc: "File created by a successful -p start (the startupProbe's indicator); an absolute path.",
		set: func(c *Config, v string, _ func(string) string) error {
			c.MarkerFile = v
			if !filepath.IsAbs(v) {
				return invalidf("%q is not an absolute path", v)
			}
			return nil
		}},
	{Name: PropODBCDriver, Default: defaultODBCDriver, Kind: KindText, Extension: true, Env: true,
		Doc: "Altibase ODBC driver library; $ALTIBASE_HOME and ${ALTIBASE_HOME} are expanded.",
		set: func(c *Config, v string, getenv func(string) string) error {
			if home := getenv(EnvAltibaseHome); home != "" {
				v = strings.NewReplacer("${"+EnvAltibaseHome+"}", home, "$"+EnvAltibaseHome, home).Replace(v)
			}
			c.ODBCDriver = v
			return nil
		}},
	{Name: PropODBCDialect, Default: string(DialectAltibase), Kind: KindEnum, Extension: true, Env: true,
		Values: []string{string(DialectAltibase), string(DialectSimulator)},
		Doc:    "Server the ODBC client talks to: altibase or simulator.",
		set: func(c *Config, v string, _ func(string) string) error {
			switch d := Dialect(v); d {
			case DialectAltibase, DialectSimulator:
				c.ODBCDialect = d
				return nil
			}
			return invalidf("%q is not a dialect (want %s or %s)", v, DialectAltibase, DialectSimulator)
		}},
	extension(intProp(PropLoginTimeout, "10", 1, 3600, "s", "Bound of one connection attempt (ODBC LOGIN_TIMEOUT).",
		func(c *Config, n int64) { c.LoginTimeout = time.Duration(n) * time.Second })),
	{Name: PropDiscovery, Default: string(DiscoveryAuto), Kind: KindEnum, Extension: true, Env: true,
		Values: []string{string(DiscoveryAuto), string(DiscoveryKubernetes), string(DiscoveryDNS)},
		Doc: "How the pod finds its ordinal and peers: kubernetes (the API), dns (the original's way), or auto " +
			"(the API when in a cluster and permitted, else DNS; logged).",
		set: func(c *Config, v string, _ func(string) string) error {
			switch d := DiscoveryMode(v); d {
			case DiscoveryAuto, DiscoveryKubernetes, DiscoveryDNS:
				c.Discovery = d
				return nil
			}
			return invalidf("%q is not a discovery mode (want auto, kubernetes or dns)", v)
		}},
	{Name: PropLeaseName, Default: defaultLeaseName, Kind: KindText, Extension: true, Env: true,
		Doc: "Lease (coordination.k8s.io) that serialises -p start across pods; {sts} is expanded; none disables it. Kubernetes discovery only.",
		set: func(c *Config, v string, _ func(string) string) error {
			c.LeaseName = v
			if v == "none" {
				return nil
			}
			return checkDNSSubdomain(strings.ReplaceAll(v, "{sts}", "sts"))
		}},
	extension(intProp(PropStartTimeout, "1800", 1, maxInt32, "s", "Deadline of the whole -p start (a postStart hook blocks its container).",
		func(c *Config, n int64) { c.StartTimeout = time.Duration(n) * time.Second })),
	extension(intProp(PropEndReserve, "10", 0, maxInt32, "s",
		"Part of the pod's termination grace period that -p end leaves to the server's own shutdown.",
		func(c *Config, n int64) { c.EndReserve = time.Duration(n) * time.Second })),
	extension(intProp(PropMasterReadyTimeout, "600", 0, maxInt32, "s",
		"How long a joining pod waits for pod-0 to be Ready before its sync (Kubernetes discovery); 0 does not wait.",
		func(c *Config, n int64) { c.MasterReadyTimeout = time.Duration(n) * time.Second })),
	{Name: PropNLSUse, Default: defaultNLSUse, Kind: KindText, Extension: true, Env: true,
		Doc:        "Client character set (NLS_USE); defaults to $ALTIBASE_NLS_USE, else UTF8.",
		DefaultEnv: EnvAltibaseNLSUse,
		set: func(c *Config, v string, _ func(string) string) error {
			c.NLSUse = v
			if !nlsRE.MatchString(v) {
				return invalidf("%q is not a character set name (letters, digits, '_', '-', at most 40)", v)
			}
			return nil
		}},
}

var nlsRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

func intProp(name, def string, lo, hi int64, unit, doc string, assign func(*Config, int64)) Property {
	p := Property{Name: name, Default: def, Kind: KindInt, Min: lo, Max: hi, Unit: unit, Doc: doc}
	p.set = func(c *Config, v string, _ func(string) string) error {
		n, err := parseInt(v, lo, hi)
		if err == nil {
			assign(c, n)
		}
		return err
	}
	return p
}

// extension marks p as an aku extension overridable from the environment.
func extension(p Property) Property {
	p.Extension, p.Env = true, true
	return p
}

func flagProp(name, def, doc string, assign func(*Config, bool)) Property {
	return Property{Name: name, Default: def, Kind: KindFlag, Min: 0, Max: 1, Doc: doc,
		set: func(c *Config, v string, _ func(string) string) error {
			n, err := parseInt(v, 0, 1)
			if err == nil {
				assign(c, n == 1)
			}
			return err
		}}
}

// parseInt reads a decimal integer within lo..hi.
func parseInt(v string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, &valueError{kind: ErrRange, msg: fmt.Sprintf("value %s out of range %d..%d", v, lo, hi)}
		}
		return 0, invalidf("%q is not a decimal integer", v)
	}
	if n < lo || n > hi {
		return 0, &valueError{kind: ErrRange, msg: fmt.Sprintf("value %d out of range %d..%d", n, lo, hi)}
	}
	return n, nil
}

// parseResetPolicy reads AKU_REPLICATION_RESET_AT_END. New modes are added
// here, in the property's Values and in lifecycle.ResetPolicy.
func parseResetPolicy(v string) (lifecycle.ResetPolicy, error) {
	switch v {
	case "0":
		return ResetNever, nil
	case "1":
		return ResetAlways, nil
	case "auto":
		return ResetAuto, nil
	}
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return 0, &valueError{kind: ErrRange, msg: fmt.Sprintf("value %s out of range 0..1", v)}
	}
	return 0, invalidf("%q is not 0, 1 or auto", v)
}
