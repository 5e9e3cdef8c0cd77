package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Identifiers. aku.conf names Altibase objects (users, tables, partitions,
// the replication name prefix) as unquoted identifiers under a conservative
// rule: an ASCII letter or '_' first, then ASCII letters, digits or '_' (the
// same rule as the altibase package's SQL layer; '$' and '#', which Altibase
// tolerates in some names, are refused).
// Altibase folds unquoted identifiers to upper case, so aku stores them
// upper-cased, the form the server stores in its catalog; "sys.t1" and
// "SYS.T1" are the same target. Nothing else (quotes, spaces, dots, '#',
// multibyte letters) is accepted, so no aku.conf value can reach SQL as
// anything but a plain name.
var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkIdent checks an identifier of at most max bytes and returns it in
// upper case.
func checkIdent(what, v string, max int) (string, error) {
	if !identRE.MatchString(v) {
		return "", invalidf("%s %q is not a valid Altibase identifier (an ASCII letter or '_' first, then letters, digits or '_')", what, v)
	}
	if len(v) > max {
		return "", invalidf("%s %q is %d bytes long, at most %d allowed", what, v, len(v), max)
	}
	return strings.ToUpper(v), nil
}

var (
	dns1123LabelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1035LabelRE = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	hostLabelRE    = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$`)
)

// checkDNSLabel checks a Kubernetes object name: a DNS-1123 label (lower
// case letters, digits, '-', alphanumeric at both ends, at most 63 bytes),
// and for a Service a DNS-1035 label (a letter first).
func checkDNSLabel(v string, service bool) error {
	if len(v) > MaxK8sNameLen {
		return invalidf("%q is %d bytes long, at most %d allowed", v, len(v), MaxK8sNameLen)
	}
	if service && !dns1035LabelRE.MatchString(v) {
		return invalidf("%q is not a DNS-1035 label (lower case letters, digits and '-', a letter first, alphanumeric last)", v)
	}
	if !dns1123LabelRE.MatchString(v) {
		return invalidf("%q is not a DNS-1123 label (lower case letters, digits and '-', alphanumeric at both ends)", v)
	}
	return nil
}

// checkHostFormat checks AKU_HOST_FORMAT alone: only the placeholders
// {sts}, {svc} and {ordinal}, with {ordinal} present. The rendered names are
// checked by checkHosts once the other properties are known.
func checkHostFormat(v string) error {
	if !strings.Contains(v, "{ordinal}") {
		return invalidf("%q lacks the {ordinal} placeholder", v)
	}
	rest := strings.NewReplacer("{sts}", "", "{svc}", "", "{ordinal}", "").Replace(v)
	if i := strings.IndexAny(rest, "{}"); i >= 0 {
		return invalidf("%q has an unknown placeholder or a stray brace (want {sts}, {svc}, {ordinal})", v)
	}
	return nil
}

// checkHostname checks a rendered host name: an IPv4 address (pods mapped
// to addresses outside Kubernetes), or an RFC 1123 host name (labels of
// letters, digits and '-', 1..63 bytes each) of at most MaxHostLen bytes,
// the longest host Altibase accepts in CREATE REPLICATION ... WITH.
func checkHostname(h string) error {
	if ip, err := netip.ParseAddr(h); err == nil && ip.Is4() {
		return nil
	}
	if len(h) > MaxHostLen {
		return fmt.Errorf("host name %q is %d bytes long; Altibase accepts at most %d in CREATE REPLICATION", h, len(h), MaxHostLen)
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if len(l) > 63 || !hostLabelRE.MatchString(l) {
			return fmt.Errorf("host name %q is not an RFC 1123 host name (label %q)", h, l)
		}
	}
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return fmt.Errorf("host name %q ends in a numeric label, like a mistyped IP address", h)
	}
	return nil
}

// checkDNSSubdomain checks a Kubernetes object name that may contain dots
// (a Lease name): DNS-1123 labels joined by '.', at most 253 bytes.
func checkDNSSubdomain(v string) error {
	if len(v) > 253 {
		return invalidf("%q is %d bytes long, at most 253 allowed", v, len(v))
	}
	for _, l := range strings.Split(v, ".") {
		if !dns1123LabelRE.MatchString(l) {
			return invalidf("%q is not a DNS-1123 subdomain (lower case letters, digits, '-' and '.')", v)
		}
	}
	return nil
}
