package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aku-k8s/aku/lifecycle"
)

func TestStatusArgs(t *testing.T) {
	for _, args := range [][]string{{"status", "-o", "yaml"}, {"status", "--bogus"}, {"status", "extra"}} {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), args, noEnv, &out, &errOut)
		if ExitCode(err) != ExitUsage {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
	}
	var out, errOut bytes.Buffer
	err := Run(context.Background(), []string{"status"}, noEnv, &out, &errOut)
	if !errors.Is(err, ErrNoConfig) {
		t.Errorf("no config: err = %v", err)
	}
}

func TestWriteReport(t *testing.T) {
	r := lifecycle.MeshReport{
		Servers: []lifecycle.ServerStatus{{Pod: "p-0", Host: "h0", Session: "SYS", Joined: true},
			{Pod: "p-1", Host: "h1", Session: "SYSDBA", Busy: true, Error: "busy"}},
		Pairs: []lifecycle.PairStatus{{Group: "R", A: 0, B: 1, State: lifecycle.PairUnreached,
			AB: lifecycle.DirectionStatus{Replication: "R_01", From: "p-0", To: "p-1", Exists: true, Started: true, XSN: 7, Sender: "running", Gap: 3},
			BA: lifecycle.DirectionStatus{Replication: "R_01", From: "p-1", To: "p-0", XSN: -1, Sender: "unknown", Gap: -1}}},
		Verdict: "incomplete: p-1 not read (busy)",
	}
	var b bytes.Buffer
	if err := writeReport(&b, "text", r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"its session is in use", "R_01", "running", "incomplete: p-1 not read"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := writeReport(&b, "json", r); err != nil || !strings.Contains(b.String(), `"sysdbaBusy": true`) {
		t.Errorf("json report: %v\n%s", err, b.String())
	}
}
