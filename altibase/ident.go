package altibase

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Nothing reaches SQL text unchecked: identifiers, host names and numbers
// pass through the helpers in this file, and values (property names in
// WHERE clauses) are bound as parameters.

// ErrInvalidIdentifier reports a name that is not a plain Altibase identifier.
var ErrInvalidIdentifier = errors.New("not a plain Altibase identifier")

// ErrInvalidHost reports a host that is neither a DNS name nor an IP address.
var ErrInvalidHost = errors.New("not a DNS name or IP address")

// ErrInvalidPort reports a port outside 1-65535.
var ErrInvalidPort = errors.New("port out of range 1-65535")

// plainWord is a plain (unquoted) Altibase identifier: a letter or '_', then
// letters, digits or '_'. Quotes, dots, blanks, '$', '#' and non-ASCII are
// refused, which rules out every injection.
var plainWord = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Name length limits in bytes (docs/altibase.md section 1).
const (
	maxReplicationName = 40  // QC_MAX_NAME_LEN
	maxObjectName      = 128 // QCM_META_OBJECT_NAME_LEN
	// maxHostLiteral is QC_MAX_IP_LEN (64) minus the two quotes.
	maxHostLiteral = 62
)

// ident is the one helper that admits an identifier into SQL text. what
// names the role for the error ("replication", "table", ...).
func ident(what, s string, maxLen int) (string, error) {
	if !plainWord.MatchString(s) || len(s) > maxLen {
		return "", fmt.Errorf("%s name %q: %w", what, s, ErrInvalidIdentifier)
	}
	return s, nil
}

// replName checks a replication name.
func replName(s string) (string, error) { return ident("replication", s, maxReplicationName) }

// checkHost accepts an IP address (v4 or v6, no zone) or a DNS name (RFC 1123
// labels) short enough for Altibase's host literal, and returns it as written.
func checkHost(h string) (string, error) {
	if len(h) == 0 || len(h) > maxHostLiteral {
		return "", fmt.Errorf("host %q: %w", h, ErrInvalidHost)
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			return "", fmt.Errorf("host %q: %w", h, ErrInvalidHost)
		}
		return h, nil
	}
	if !isDNSName(h) {
		return "", fmt.Errorf("host %q: %w", h, ErrInvalidHost)
	}
	return h, nil
}

// dnsLabel is one RFC 1123 label.
var dnsLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

func isDNSName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if !dnsLabel.MatchString(l) {
			return false
		}
	}
	// An all-numeric dotted name that failed ParseAddr (999.1.1.1) is a
	// mistyped address, not a name.
	last := h[strings.LastIndexByte(h, '.')+1:]
	if _, err := strconv.Atoi(last); err == nil {
		return false
	}
	return true
}

func checkPort(p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("port %d: %w", p, ErrInvalidPort)
	}
	return nil
}

// Item is one replicated table (or partition). aku replicates a table to
// the same-named table on the peer, so FROM and TO name the same object.
type Item struct {
	User      string
	Table     string
	Partition string // empty: the whole table
}

// String renders the item as aku.conf writes it: SYS.T1 or SYS.T2 PARTITION P1.
func (it Item) String() string {
	if it.Partition == "" {
		return it.User + "." + it.Table
	}
	return it.User + "." + it.Table + " PARTITION " + it.Partition
}

// tableRef validates an item and returns "USER.TABLE" and the partition
// name (possibly empty).
func (it Item) tableRef() (table, partition string, err error) {
	u, err := ident("user", it.User, maxObjectName)
	if err != nil {
		return "", "", err
	}
	t, err := ident("table", it.Table, maxObjectName)
	if err != nil {
		return "", "", err
	}
	if it.Partition != "" {
		if partition, err = ident("partition", it.Partition, maxObjectName); err != nil {
			return "", "", err
		}
	}
	return u + "." + t, partition, nil
}

// sqlText renders "USER.TABLE [PARTITION P]" for replication item lists.
func (it Item) sqlText() (string, error) {
	t, p, err := it.tableRef()
	if err != nil {
		return "", err
	}
	if p == "" {
		return t, nil
	}
	return t + " PARTITION " + p, nil
}
