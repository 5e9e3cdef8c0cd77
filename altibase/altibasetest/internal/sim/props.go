package sim

import (
	"sort"

	"github.com/aku-k8s/aku/altibase"
)

// Property names the engine acts on.
const (
	propAdminMode          = "ADMIN_MODE"
	propRemoteSYSDBA       = "REMOTE_SYSDBA_ENABLE"
	propQueryTimeout       = "QUERY_TIMEOUT"
	propDDLTimeout         = "DDL_TIMEOUT"
	propReplPort           = "REPLICATION_PORT_NO"
	propReplMaxCount       = "REPLICATION_MAX_COUNT"
	propReplDDLEnable      = "REPLICATION_DDL_ENABLE"
	propAutoStart          = "REPLICATION_SENDER_AUTO_START"
	propConnectTimeout     = "REPLICATION_CONNECT_TIMEOUT"
	propAllowDupHosts      = "REPLICATION_ALLOW_DUPLICATE_HOSTS"
	propSenderSleepTimeout = "REPLICATION_SENDER_SLEEP_TIMEOUT"
	// propUpdateReplace = 1 makes receivers apply an update whose before
	// image does not match the row (0: count it as a conflict and skip it).
	propUpdateReplace = "REPLICATION_UPDATE_REPLACE"
	// propSyncConflictMode is the simulator's switch for SYNC onto rows
	// whose keys already exist on the receiving node (read on that node):
	// 0 (default, what real servers usually did) keeps the stale remote rows
	// silently and goes on; 1 fails with 0x61153 part-way.
	propSyncConflictMode = "SIM_SYNC_CONFLICT_MODE"
	// propSenderRetryMsec is how often a disconnected sender retries.
	propSenderRetryMsec = "SIM_SENDER_RETRY_MSEC"
)

// defaultProps are Altibase's defaults as a real server showed them in
// V$PROPERTY (docs/altibase.md sections 4 and 8), plus the simulator's own.
func defaultProps() map[string]int64 {
	return map[string]int64{
		propAdminMode:                   0,
		propRemoteSYSDBA:                1,
		propQueryTimeout:                600,
		"FETCH_TIMEOUT":                 60,
		propDDLTimeout:                  0,
		"UTRANS_TIMEOUT":                3600,
		"IDLE_TIMEOUT":                  0,
		propReplPort:                    0,
		propReplMaxCount:                32,
		propReplDDLEnable:               0,
		"REPLICATION_DDL_ENABLE_LEVEL":  0,
		propAutoStart:                   1,
		"REPLICATION_SYNC_LOCK_TIMEOUT": 30,
		propConnectTimeout:              10,
		propAllowDupHosts:               0,
		"REPLICATION_SYNC_TUPLE_COUNT":  500000,
		propSenderSleepTimeout:          60,
		propUpdateReplace:               0,
		propSyncConflictMode:            0,
		propSenderRetryMsec:             100,
	}
}

// readOnlyProps cannot be changed by ALTER SYSTEM.
var readOnlyProps = map[string]bool{propReplPort: true, propReplMaxCount: true, propAutoStart: true}

// setSystemProp is ALTER SYSTEM SET (not persisted: a restart reapplies
// Options.Properties, as a real server rereads altibase.properties).
func (n *Node) setSystemProp(name string, v int64) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.props[name]; !ok {
		return syntaxErr("unknown property %s", name)
	}
	if readOnlyProps[name] {
		return &Error{Code: altibase.CodeSyntaxError, SQLState: "HY000",
			Message: "The property " + name + " is read-only."}
	}
	if v < 0 {
		return syntaxErr("invalid value %d for %s", v, name)
	}
	n.props[name] = v
	return nil
}

// propRows is V$PROPERTY.
func (n *Node) propRows() [][]cell {
	names := make([]string, 0, len(n.props))
	for k := range n.props {
		names = append(names, k)
	}
	sort.Strings(names)
	rows := make([][]cell, len(names))
	for i, k := range names {
		rows[i] = []cell{k, formatInt(n.props[k])}
	}
	return rows
}
