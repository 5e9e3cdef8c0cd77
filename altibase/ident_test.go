package altibase

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestIdent(t *testing.T) {
	good := []string{"AKU_REP_01", "aku_rep_12", "T1", "_X", strings.Repeat("R", 40)}
	for _, s := range good {
		if _, err := replName(s); err != nil {
			t.Errorf("replName(%q): %v", s, err)
		}
	}
	bad := []string{
		"", "1REP", "REP 01", "REP;DROP REPLICATION X", "REP'--", `REP"`, "REP.X",
		"REP-1", "RÉP", "REP\n", "REP/**/START", "A$B", "A#B",
		strings.Repeat("R", 41), // longer than QC_MAX_NAME_LEN
	}
	for _, s := range bad {
		if _, err := replName(s); !errors.Is(err, ErrInvalidIdentifier) {
			t.Errorf("replName(%q) = %v, want ErrInvalidIdentifier", s, err)
		}
	}
	if _, err := ident("table", strings.Repeat("T", 128), maxObjectName); err != nil {
		t.Errorf("128-byte table name: %v", err)
	}
	if _, err := ident("table", strings.Repeat("T", 129), maxObjectName); err == nil {
		t.Error("129-byte table name accepted")
	}
}

func TestCheckHost(t *testing.T) {
	good := []string{"10.0.0.5", "::1", "fe80::1", "altibase-sts-0.altibase-svc", "pod-1.svc.cluster.local.", "localhost"}
	for _, h := range good {
		if _, err := checkHost(h); err != nil {
			t.Errorf("checkHost(%q): %v", h, err)
		}
	}
	bad := []string{"", "a b", "h'--", "h',1 FROM x", "-lead.example", "trail-.example", "a..b",
		"999.1.1.1", "fe80::1%eth0", "h;x", strings.Repeat("a", 63) + ".b", "x\n"}
	for _, h := range bad {
		if _, err := checkHost(h); !errors.Is(err, ErrInvalidHost) {
			t.Errorf("checkHost(%q) = %v, want ErrInvalidHost", h, err)
		}
	}
}

func TestCreateSQL(t *testing.T) {
	r := Replication{Name: "AKU_REP_01", RemoteHost: "altibase-sts-1.altibase-svc", RemotePort: 20301,
		Items: []Item{{User: "SYS", Table: "T1"}, {User: "SYS", Table: "T2", Partition: "P1"}}}
	got, err := r.createSQL()
	if err != nil {
		t.Fatal(err)
	}
	want := "CREATE REPLICATION AKU_REP_01 WITH 'altibase-sts-1.altibase-svc', 20301 " +
		"FROM SYS.T1 TO SYS.T1, FROM SYS.T2 PARTITION P1 TO SYS.T2 PARTITION P1"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	injections := []Replication{
		{Name: "R; DROP REPLICATION X", RemoteHost: "h", RemotePort: 1, Items: r.Items},
		{Name: "R", RemoteHost: "h', 1 FROM SYS.A TO SYS.A; --", RemotePort: 1, Items: r.Items},
		{Name: "R", RemoteHost: "h", RemotePort: 70000, Items: r.Items},
		{Name: "R", RemoteHost: "h", RemotePort: 1, Items: []Item{{User: "SYS", Table: "T1 TO SYS.T9"}}},
		{Name: "R", RemoteHost: "h", RemotePort: 1, Items: []Item{{User: "SYS'", Table: "T1"}}},
		{Name: "R", RemoteHost: "h", RemotePort: 1, Items: []Item{{User: "SYS", Table: "T1", Partition: "P1,P2"}}},
		{Name: "R", RemoteHost: "h", RemotePort: 1},
	}
	for _, r := range injections {
		if s, err := r.createSQL(); err == nil {
			t.Errorf("createSQL(%+v) accepted: %s", r, s)
		}
	}
}

func TestAlterSQL(t *testing.T) {
	got, err := alterSQL("AKU_REP_01", "SYNC PARALLEL 4")
	if err != nil || got != "ALTER REPLICATION AKU_REP_01 SYNC PARALLEL 4" {
		t.Errorf("alterSQL = %q, %v", got, err)
	}
	if _, err := alterSQL("X START; DROP REPLICATION Y", "STOP"); err == nil {
		t.Error("injection accepted")
	}
}

func TestStatementText(t *testing.T) {
	tests := []struct {
		name string
		got  func() (string, error)
		want string
	}{
		{"flush", func() (string, error) { return flushSQL("R", FlushOptions{}) }, "ALTER REPLICATION R FLUSH"},
		{"flush_all", func() (string, error) { return flushSQL("R", FlushOptions{All: true}) }, "ALTER REPLICATION R FLUSH ALL"},
		{"flush_wait", func() (string, error) { return flushSQL("R", FlushOptions{Wait: 300 * time.Second}) }, "ALTER REPLICATION R FLUSH WAIT 300"},
		{"flush_all_wait_rounds_up", func() (string, error) { return flushSQL("R", FlushOptions{All: true, Wait: 1500 * time.Millisecond}) },
			"ALTER REPLICATION R FLUSH ALL WAIT 2"},
		{"sync_parallel", func() (string, error) { return syncSQL("AKU_REP_01", "SYNC", 4) }, "ALTER REPLICATION AKU_REP_01 SYNC PARALLEL 4"},
		{"sync_plain", func() (string, error) { return syncSQL("AKU_REP_01", "SYNC", 0) }, "ALTER REPLICATION AKU_REP_01 SYNC"},
		{"sync_only", func() (string, error) { return syncSQL("AKU_REP_01", "SYNC ONLY", 1) }, "ALTER REPLICATION AKU_REP_01 SYNC ONLY PARALLEL 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.got()
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
