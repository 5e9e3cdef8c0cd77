package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aku-k8s/aku/lifecycle"
)

// minimal is the smallest valid aku.conf: only the properties without
// default. Line 4 is REPLICATIONS.
const minimal = `AKU_STS_NAME = altibase-sts
AKU_SVC_NAME = altibase-svc
AKU_SYS_PASSWORD = manager
REPLICATIONS = (
    REPLICATION_NAME_PREFIX = AKU_REP
    ( SYS.T1 )
)
`

func parse(t *testing.T, text string, opts ...Option) (*Config, error) {
	t.Helper()
	c, err := Parse("aku.conf", strings.NewReader(text), opts...)
	if err != nil && c != nil {
		t.Fatalf("Parse returned a config together with error %v", err)
	}
	return c, err
}

func mustParse(t *testing.T, text string, opts ...Option) *Config {
	t.Helper()
	c, err := parse(t, text, opts...)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func env(m map[string]string) Option {
	return WithEnv(func(k string) string { return m[k] })
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c := mustParse(t, minimal)
	want := Config{
		File: "aku.conf", STSName: "altibase-sts", SVCName: "altibase-svc", ServerCount: 4,
		SysPassword: "manager", PortNo: 20300, ReplicationPortNo: 20301,
		QueryTimeout: 3600 * time.Second, QueryRetryCount: 5, QueryRetryDelay: time.Second,
		AddressCheckCount: 30, FlushAtStart: true, FlushTimeoutAtStart: 300 * time.Second,
		DelayStartComplete: 0, FlushAtEnd: true, ReplicationResetAtEnd: ResetAlways,
		Groups:     []lifecycle.Group{{Prefix: "AKU_REP", SyncParallel: 1, Items: []lifecycle.Item{{User: "SYS", Table: "T1"}}}},
		HostFormat: "{sts}-{ordinal}.{svc}", MarkerFile: "/tmp/aku_start_completed",
		ODBCDriver: "$ALTIBASE_HOME/lib/libaltibase_odbc-64bit-ul64.so", ODBCDialect: DialectAltibase,
		LoginTimeout: 10 * time.Second, NLSUse: "UTF8",
		Discovery: DiscoveryAuto, LeaseName: "{sts}-aku-start", StartTimeout: 1800 * time.Second,
		EndReserve: 10 * time.Second, MasterReadyTimeout: 600 * time.Second,
	}
	got := *c
	got.Sources, got.PasswordSource = nil, Source{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %#v\nwant %#v", got, want)
	}
	for _, p := range Properties() {
		src, ok := c.Sources[p.Name]
		if !ok {
			t.Errorf("no source recorded for %s", p.Name)
			continue
		}
		if p.Required != (src.Kind == FromFile) {
			t.Errorf("%s: source %v, required %v", p.Name, src, p.Required)
		}
	}
	if c.PasswordSource != (Source{Kind: FromFile, Name: "aku.conf", Line: 3}) {
		t.Errorf("PasswordSource = %v", c.PasswordSource)
	}
}

// Every default in the table must itself be a valid value: parsing minimal
// with each default written out gives the same config.
func TestDefaultsWrittenOut(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(minimal)
	for _, p := range Properties() {
		if !p.Required {
			fmt.Fprintf(&b, "%s = %s\n", p.Name, p.Default)
		}
	}
	a, c := mustParse(t, minimal), mustParse(t, b.String())
	a.Sources, c.Sources = nil, nil
	if !reflect.DeepEqual(a, c) {
		t.Errorf("defaults written out differ:\n%#v\n%#v", a, c)
	}
}

// TestRanges probes both edges of every numeric property.
func TestRanges(t *testing.T) {
	t.Parallel()
	type tc struct {
		name, prop, value string
		wantErr           string // "" for success
	}
	var tests []tc
	for _, p := range Properties() {
		if p.Kind != KindInt && p.Kind != KindFlag && p.Name != PropReplicationResetAtEnd {
			continue
		}
		rangeMsg := fmt.Sprintf("out of range %d..%d", p.Min, p.Max)
		tests = append(tests,
			tc{p.Name + "/min", p.Name, fmt.Sprint(p.Min), ""},
			tc{p.Name + "/max", p.Name, fmt.Sprint(p.Max), ""},
			tc{p.Name + "/below", p.Name, fmt.Sprint(p.Min - 1), fmt.Sprintf("aku.conf:8: %s: value %d %s", p.Name, p.Min-1, rangeMsg)},
			tc{p.Name + "/above", p.Name, fmt.Sprint(p.Max + 1), fmt.Sprintf("aku.conf:8: %s: value %d %s", p.Name, p.Max+1, rangeMsg)},
			tc{p.Name + "/word", p.Name, "x1", fmt.Sprintf("aku.conf:8: %s: \"x1\" is not", p.Name)},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := minimal + tt.prop + " = " + tt.value + "\n"
			if tt.prop == PropPortNo && tt.value == "20301" {
				text += "AKU_REPLICATION_PORT_NO = 20302\n"
			}
			_, err := parse(t, text)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want prefix %q", err, tt.wantErr)
			}
		})
	}
}

func TestGroupRanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, group string
		want        int
		wantErr     error
	}{
		{"sync_min", "REPLICATION_NAME_PREFIX = A SYNC_PARALLEL_COUNT = 1 ( S.T )", 1, nil},
		{"sync_max", "REPLICATION_NAME_PREFIX = A SYNC_PARALLEL_COUNT = 100 ( S.T )", 100, nil},
		{"sync_below", "REPLICATION_NAME_PREFIX = A SYNC_PARALLEL_COUNT = 0 ( S.T )", 0, ErrRange},
		{"sync_above", "REPLICATION_NAME_PREFIX = A SYNC_PARALLEL_COUNT = 101 ( S.T )", 0, ErrRange},
		{"sync_word", "REPLICATION_NAME_PREFIX = A SYNC_PARALLEL_COUNT = many ( S.T )", 0, ErrInvalid},
		{"sync_default", "REPLICATION_NAME_PREFIX = A ( S.T )", 1, nil},
		{"any_order", "( S.T ) SYNC_PARALLEL_COUNT = 7 REPLICATION_NAME_PREFIX = A", 7, nil},
		{"prefix_37", "REPLICATION_NAME_PREFIX = " + strings.Repeat("P", 37) + " ( S.T )", 1, nil},
		{"prefix_38", "REPLICATION_NAME_PREFIX = " + strings.Repeat("P", 38) + " ( S.T )", 0, ErrInvalid},
		{"names_128", "REPLICATION_NAME_PREFIX = A ( " + strings.Repeat("U", 128) + "." + strings.Repeat("T", 128) + " PARTITION " + strings.Repeat("P", 128) + " )", 1, nil},
		{"prefix_missing", "SYNC_PARALLEL_COUNT = 1 ( S.T )", 0, ErrMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := "AKU_STS_NAME = s\nAKU_SVC_NAME = v\nAKU_SYS_PASSWORD = p\nREPLICATIONS = ( " + tt.group + " )\n"
			c, err := parse(t, text)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Groups[0].SyncParallel; got != tt.want {
				t.Errorf("SyncParallel = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestNameEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, line string
		ok         bool
	}{
		{"sts_63", "AKU_STS_NAME = " + strings.Repeat("a", 63) + "\nAKU_HOST_FORMAT = h{ordinal}", true},
		{"sts_64", "AKU_STS_NAME = " + strings.Repeat("a", 64), false},
		{"sts_digit_first", "AKU_STS_NAME = 0sts", true},
		{"sts_dash_last", "AKU_STS_NAME = sts-", false},
		{"sts_dot", "AKU_STS_NAME = a.b", false},
		{"svc_63", "AKU_SVC_NAME = " + strings.Repeat("v", 63) + "\nAKU_HOST_FORMAT = h{ordinal}", true},
		{"svc_64", "AKU_SVC_NAME = " + strings.Repeat("v", 64), false},
		{"svc_underscore", "AKU_SVC_NAME = my_svc", false},
		{"host_62", "AKU_HOST_FORMAT = " + strings.Repeat("h", 61) + "{ordinal}", true},
		{"host_63", "AKU_HOST_FORMAT = " + strings.Repeat("h", 62) + "{ordinal}", false},
		{"host_uppercase", "AKU_HOST_FORMAT = AKUHOST-{ordinal}.{svc}", true},
		{"host_fqdn", "AKU_HOST_FORMAT = {sts}-{ordinal}.{svc}.default.svc.cluster.local", true},
		{"host_trailing_dot", "AKU_HOST_FORMAT = {sts}-{ordinal}.", false},
		{"host_brace", "AKU_HOST_FORMAT = {sts}-{ordinal}}", false},
		{"ident_dollar", "REPLICATIONS = ( REPLICATION_NAME_PREFIX = A$B ( U.T ) )", false},
		{"ident_dollar_table", "REPLICATIONS = ( REPLICATION_NAME_PREFIX = A ( U.T$1 ) )", false},
		{"host_ipv4", "AKU_HOST_FORMAT = 10.0.0.{ordinal}", true},
		{"host_numeric_tail", "AKU_HOST_FORMAT = db.7{ordinal}", false},
		{"host_bad_ipv4", "AKU_HOST_FORMAT = 10.0.0.99{ordinal}", false},
		{"host_numeric_label_inside", "AKU_HOST_FORMAT = {ordinal}.{svc}", true},
		{"ident_underscore_first", "REPLICATIONS = ( REPLICATION_NAME_PREFIX = _A ( _U._T PARTITION _P ) )", true},
		{"ident_dollar_first", "REPLICATIONS = ( REPLICATION_NAME_PREFIX = $A ( U.T ) )", false},
		{"ident_multibyte", "REPLICATIONS = ( REPLICATION_NAME_PREFIX = A ( U.테이블 ) )", false},
		{"partition_keyword_lower", "REPLICATIONS = ( REPLICATION_NAME_PREFIX = A ( U.T partition p ) )", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := map[string]string{
				"AKU_STS_NAME": "AKU_STS_NAME = sts", "AKU_SVC_NAME": "AKU_SVC_NAME = svc",
				"REPLICATIONS": "REPLICATIONS = ( REPLICATION_NAME_PREFIX = A ( U.T ) )",
			}
			for k := range base {
				if strings.HasPrefix(tt.line, k) {
					delete(base, k)
				}
			}
			text := "AKU_SYS_PASSWORD = p\n" + tt.line + "\n"
			for _, l := range base {
				text += l + "\n"
			}
			_, err := parse(t, text)
			if (err == nil) != tt.ok {
				t.Errorf("ok = %v, error %v", tt.ok, err)
			}
		})
	}
}

func TestCaseHandling(t *testing.T) {
	t.Parallel()
	c := mustParse(t, strings.Replace(minimal, "( SYS.T1 )", "( sys.t1, Sys.T2 partition p1 )", 1))
	want := []lifecycle.Item{{User: "SYS", Table: "T1"}, {User: "SYS", Table: "T2", Partition: "P1"}}
	if !reflect.DeepEqual(c.Groups[0].Items, want) {
		t.Errorf("targets = %#v", c.Groups[0].Items)
	}
	c = mustParse(t, strings.Replace(minimal, "= AKU_REP", "= aku_rep", 1))
	if c.Groups[0].Prefix != "AKU_REP" {
		t.Errorf("prefix = %q", c.Groups[0].Prefix)
	}
}

func TestComments(t *testing.T) {
	t.Parallel()
	text := `#
# a full-line comment
   #   indented
AKU_STS_NAME = altibase-sts#no space before
AKU_SVC_NAME = altibase-svc   #
AKU_SYS_PASSWORD = manager#
AKU_SERVER_COUNT = 3 # trailing
##########
REPLICATIONS = ( # after the paren
#
    REPLICATION_NAME_PREFIX = AKU_REP1 # after a group property
    SYNC_PARALLEL_COUNT = 2#
    ( # opening the list
        SYS.T1, # after a target
        # between targets
        SYS.T2 PARTITION P1 #
        , SYS.T3 ) #
    # before the closing paren
) # after the group
# between groups
, # comma on its own line
( REPLICATION_NAME_PREFIX = AKU_REP2 ( SYS.T4,SYS.T5 ) ),
( REPLICATION_NAME_PREFIX = AKU_REP3 ( SYS.T6 ) )#
AKU_PORT_NO = 20400#
#`
	c := mustParse(t, text)
	if c.STSName != "altibase-sts" || c.SVCName != "altibase-svc" || c.SysPassword.Reveal() != "manager" || c.ServerCount != 3 || c.PortNo != 20400 {
		t.Errorf("scalars: %+v", c)
	}
	var got []string
	for _, g := range c.Groups {
		var ts []string
		for _, tg := range g.Items {
			ts = append(ts, tg.String())
		}
		got = append(got, fmt.Sprintf("%s/%d: %s", g.Prefix, g.SyncParallel, strings.Join(ts, ", ")))
	}
	want := []string{
		"AKU_REP1/2: SYS.T1, SYS.T2 PARTITION P1, SYS.T3",
		"AKU_REP2/1: SYS.T4, SYS.T5",
		"AKU_REP3/1: SYS.T6",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groups:\n got %q\nwant %q", got, want)
	}
}

func TestLineEndingsAndBOM(t *testing.T) {
	t.Parallel()
	sample, err := os.ReadFile("testdata/valid-manual-three-groups.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := mustParse(t, string(sample))
	crlf := strings.ReplaceAll(string(sample), "\n", "\r\n")
	for name, text := range map[string]string{
		"crlf":             crlf,
		"bom":              "\uFEFF" + string(sample),
		"bom_crlf":         "\uFEFF" + crlf,
		"no_final_newline": strings.TrimSuffix(string(sample), "\n"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := mustParse(t, text)
			if !reflect.DeepEqual(c, want) {
				t.Errorf("differs from LF parse:\n%#v\n%#v", c, want)
			}
		})
	}
	// Lines are still counted right under CRLF.
	_, err = parse(t, strings.ReplaceAll(minimal+"AKU_PORT_NO = 1\n", "\n", "\r\n"))
	if err == nil || err.Error() != "aku.conf:8: AKU_PORT_NO: value 1 out of range 1024..65535" {
		t.Errorf("CRLF error = %v", err)
	}
}

func TestManualSamples(t *testing.T) {
	t.Parallel()
	one, err := Load("testdata/valid-manual-sample.conf")
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Groups) != 1 || one.Groups[0].Prefix != "AKU_REP" || len(one.Groups[0].Items) != 3 ||
		one.Groups[0].Items[1] != (lifecycle.Item{User: "SYS", Table: "T2", Partition: "P1"}) {
		t.Errorf("single group sample: %+v", one.Groups)
	}
	three, err := Load("testdata/valid-manual-three-groups.conf")
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	n := 0
	for _, g := range three.Groups {
		prefixes = append(prefixes, g.Prefix)
		n += len(g.Items)
	}
	if !reflect.DeepEqual(prefixes, []string{"AKU_REP1", "AKU_REP2", "AKU_REP3"}) || n != 9 {
		t.Errorf("three groups sample: %v, %d targets", prefixes, n)
	}
}

// A config with several problems reports all of them, in line order, and
// each is an *Error that errors.Is can classify.
func TestMultipleErrors(t *testing.T) {
	t.Parallel()
	text := `AKU_SVC_NAME = altibase-svc
AKU_PORT_NO = 80
AKU_FOO = 1
AKU_FLUSH_AT_END = 3
REPLICATIONS = ( REPLICATION_NAME_PREFIX = A ( S.T, S.T ) )
`
	_, err := parse(t, text)
	if err == nil {
		t.Fatal("no error")
	}
	want := `aku.conf:2: AKU_PORT_NO: value 80 out of range 1024..65535
aku.conf:3: AKU_FOO: unknown property "AKU_FOO"
aku.conf:4: AKU_FLUSH_AT_END: value 3 out of range 0..1
aku.conf:5: REPLICATIONS: duplicate target S.T (first at line 5)
aku.conf: Property [AKU_STS_NAME] should be specified by configuration.
aku.conf: Property [AKU_SYS_PASSWORD] should be specified by configuration.`
	if err.Error() != want {
		t.Errorf("got:\n%s\nwant:\n%s", err, want)
	}
	for _, kind := range []error{ErrRange, ErrUnknown, ErrDuplicate, ErrMissing} {
		if !errors.Is(err, kind) {
			t.Errorf("errors.Is(err, %v) = false", kind)
		}
	}
	if errors.Is(err, ErrSyntax) {
		t.Errorf("errors.Is(err, ErrSyntax) = true")
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Line != 2 || ce.Property != PropPortNo {
		t.Errorf("errors.As: %+v", ce)
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Parallel()
	secret := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(secret, []byte("from-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptySecret := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(emptySecret, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		text     string
		env      map[string]string
		check    func(*Config) string
		wantErr  string
		wantKind error
	}{
		{name: "password_file_value", text: minimal,
			check: func(c *Config) string { return c.SysPassword.Reveal() + " " + c.PasswordSource.String() }},
		{name: "password_env_over_file", text: minimal, env: map[string]string{"AKU_SYS_PASSWORD": "from-env"},
			check: func(c *Config) string { return c.SysPassword.Reveal() + " " + c.PasswordSource.String() }},
		{name: "password_secret_over_env", text: minimal, env: map[string]string{"AKU_SYS_PASSWORD": "from-env", "AKU_SYS_PASSWORD_FILE": secret},
			check: func(c *Config) string { return c.SysPassword.Reveal() + " " + c.PasswordSource.String() }},
		{name: "password_only_from_env", text: strings.Replace(minimal, "AKU_SYS_PASSWORD = manager\n", "", 1),
			env:   map[string]string{"AKU_SYS_PASSWORD": "from-env"},
			check: func(c *Config) string { return c.SysPassword.Reveal() }},
		{name: "password_secret_missing", text: minimal, env: map[string]string{"AKU_SYS_PASSWORD_FILE": "/nonexistent/pw"},
			wantErr: "/nonexistent/pw: AKU_SYS_PASSWORD: cannot read the password file named by $AKU_SYS_PASSWORD_FILE: open /nonexistent/pw: no such file or directory", wantKind: ErrRead},
		{name: "password_secret_empty", text: minimal, env: map[string]string{"AKU_SYS_PASSWORD_FILE": emptySecret},
			wantErr: emptySecret + ": AKU_SYS_PASSWORD: the password file named by $AKU_SYS_PASSWORD_FILE is empty", wantKind: ErrInvalid},
		{name: "empty_env_is_unset", text: minimal, env: map[string]string{"AKU_SYS_PASSWORD": "", "AKU_LOGIN_TIMEOUT": ""},
			check: func(c *Config) string { return c.SysPassword.Reveal() + " " + c.LoginTimeout.String() }},
		{name: "extensions_from_env", text: minimal + "AKU_LOGIN_TIMEOUT = 20\nAKU_ODBC_DIALECT = altibase\n",
			env: map[string]string{"AKU_LOGIN_TIMEOUT": "30", "AKU_ODBC_DIALECT": "simulator", "AKU_MARKER_FILE": "/run/aku/done",
				"AKU_HOST_FORMAT": "{sts}-{ordinal}.{svc}.ns.svc.cluster.local", "AKU_NLS_USE": "KO16KSC5601",
				"AKU_ODBC_DRIVER": "${ALTIBASE_HOME}/lib/x.so", "ALTIBASE_HOME": "/opt/altibase"},
			check: func(c *Config) string {
				return fmt.Sprintf("%v %v %v %v %v %v %v", c.LoginTimeout, c.ODBCDialect, c.MarkerFile, c.Host(1), c.NLSUse, c.ODBCDriver, c.Sources[PropLoginTimeout])
			}},
		{name: "driver_default_expanded", text: minimal, env: map[string]string{"ALTIBASE_HOME": "/home/altibase"},
			check: func(c *Config) string { return c.ODBCDriver }},
		{name: "nls_from_altibase_nls_use", text: minimal, env: map[string]string{"ALTIBASE_NLS_USE": "US7ASCII"},
			check: func(c *Config) string { return c.NLSUse + " " + c.Sources[PropNLSUse].String() }},
		{name: "nls_file_over_altibase_nls_use", text: minimal + "AKU_NLS_USE = MS949\n", env: map[string]string{"ALTIBASE_NLS_USE": "US7ASCII"},
			check: func(c *Config) string { return c.NLSUse }},
		{name: "manual_property_not_overridden", text: minimal, env: map[string]string{"AKU_PORT_NO": "30000"},
			check: func(c *Config) string { return fmt.Sprint(c.PortNo) }},
		{name: "bad_env_value", text: minimal, env: map[string]string{"AKU_LOGIN_TIMEOUT": "0"},
			wantErr: "environment: AKU_LOGIN_TIMEOUT: value 0 out of range 1..3600", wantKind: ErrRange},
		{name: "bad_altibase_nls_use", text: minimal, env: map[string]string{"ALTIBASE_NLS_USE": "UTF 8"},
			wantErr: `environment: AKU_NLS_USE: $ALTIBASE_NLS_USE: "UTF 8" is not a character set name (letters, digits, '_', '-', at most 40)`, wantKind: ErrInvalid},
		{name: "kubernetes_extensions", text: minimal + "AKU_REPLICATION_RESET_AT_END = 0\nAKU_START_TIMEOUT = 60\n",
			env: map[string]string{"AKU_REPLICATION_RESET_AT_END": "auto", "AKU_DISCOVERY": "kubernetes", "AKU_END_RESERVE": "5"},
			check: func(c *Config) string {
				return fmt.Sprintf("%v %v %v %v %v %v", c.ReplicationResetAtEnd, c.Discovery, c.Lease(), c.StartTimeout, c.EndReserve, c.MasterReadyTimeout)
			}},
		{name: "lease_disabled", text: minimal + "AKU_LEASE_NAME = none\n", check: func(c *Config) string { return "[" + c.Lease() + "]" }},
		{name: "bad_discovery", text: minimal, env: map[string]string{"AKU_DISCOVERY": "consul"},
			wantErr: `environment: AKU_DISCOVERY: "consul" is not a discovery mode (want auto, kubernetes or dns)`, wantKind: ErrInvalid},
		{name: "bad_lease_name", text: minimal + "AKU_LEASE_NAME = Aku_Lease\n",
			wantErr: `aku.conf:`, wantKind: ErrInvalid},
		{name: "bad_reset_mode", text: minimal, env: map[string]string{"AKU_REPLICATION_RESET_AT_END": "sometimes"},
			wantErr: `environment: AKU_REPLICATION_RESET_AT_END: "sometimes" is not 0, 1 or auto`, wantKind: ErrInvalid},
		{name: "env_host_format_too_long", text: minimal, env: map[string]string{"AKU_HOST_FORMAT": strings.Repeat("h", 70) + "{ordinal}"},
			wantErr: "environment: AKU_HOST_FORMAT: pod 0: host name", wantKind: ErrInvalid},
	}
	wantChecks := map[string]string{
		"password_file_value":            "manager aku.conf:3",
		"password_env_over_file":         "from-env $AKU_SYS_PASSWORD",
		"password_secret_over_env":       "from-secret secret file " + secret,
		"password_only_from_env":         "from-env",
		"empty_env_is_unset":             "manager 10s",
		"extensions_from_env":            "30s simulator /run/aku/done altibase-sts-1.altibase-svc.ns.svc.cluster.local KO16KSC5601 /opt/altibase/lib/x.so $AKU_LOGIN_TIMEOUT",
		"driver_default_expanded":        "/home/altibase/lib/libaltibase_odbc-64bit-ul64.so",
		"nls_from_altibase_nls_use":      "US7ASCII $ALTIBASE_NLS_USE",
		"nls_file_over_altibase_nls_use": "MS949",
		"manual_property_not_overridden": "20300",
		"kubernetes_extensions":          "auto kubernetes altibase-sts-aku-start 1m0s 5s 10m0s",
		"lease_disabled":                 "[]",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := parse(t, tt.text, env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || !errors.Is(err, tt.wantKind) {
					t.Fatalf("error %v, want prefix %q (%v)", err, tt.wantErr, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.check(c); got != wantChecks[tt.name] {
				t.Errorf("got %q, want %q", got, wantChecks[tt.name])
			}
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	t.Parallel()
	c := mustParse(t, strings.Replace(minimal, "manager", "s3cr3t-pw", 1))
	for _, s := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", *c), fmt.Sprintf("%#v", c), fmt.Sprint(c.SysPassword)} {
		if strings.Contains(s, "s3cr3t-pw") {
			t.Errorf("password printed: %s", s)
		}
	}
	if c.SysPassword.Reveal() != "s3cr3t-pw" {
		t.Errorf("Reveal = %q", c.SysPassword.Reveal())
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load("/nonexistent/aku.conf")
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, ErrRead) || !errors.Is(err, os.ErrNotExist) || ce.File != "/nonexistent/aku.conf" {
		t.Fatalf("Load: %v", err)
	}
}

func TestTooLarge(t *testing.T) {
	t.Parallel()
	_, err := parse(t, minimal+strings.Repeat("#", maxFileSize))
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v", err)
	}
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{File: "aku.conf", Line: 12, Property: "AKU_PORT_NO", Msg: "value 80 out of range 1024..65535", Kind: ErrRange},
			"aku.conf:12: AKU_PORT_NO: value 80 out of range 1024..65535"},
		{&Error{File: "aku.conf", Property: "AKU_SYS_PASSWORD", Msg: missingMsg("AKU_SYS_PASSWORD"), Kind: ErrMissing},
			"aku.conf: Property [AKU_SYS_PASSWORD] should be specified by configuration."},
		{&Error{File: "aku.conf", Line: 3, Msg: "invalid UTF-8", Kind: ErrSyntax}, "aku.conf:3: invalid UTF-8"},
		{&Error{File: "x", Msg: "m", Err: os.ErrNotExist, Kind: ErrRead}, "x: m: file does not exist"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

// The README documents every property.
func TestReadmeDocumentsProperties(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Skipf("README.md: %v", err)
	}
	for _, p := range append(Properties(), GroupProperties()...) {
		if !strings.Contains(string(readme), "`"+p.Name+"`") {
			t.Errorf("README.md does not document `%s`", p.Name)
		}
	}
}
