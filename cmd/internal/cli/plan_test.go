package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aku-k8s/aku/lifecycle"
)

func TestPlanArgs(t *testing.T) {
	for _, args := range [][]string{
		{"plan"}, {"plan", "stop"}, {"plan", "start", "end"}, {"plan", "start", "-o", "yaml"},
		{"plan", "--bogus", "start"}, {"plan", "-o", "json", "-o", "text", "start"},
	} {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), args, noEnv, &out, &errOut)
		if ExitCode(err) != ExitUsage || out.Len() != 0 {
			t.Errorf("%q: err = %v, stdout %q, want a usage error and no output", args, err, out.String())
		}
	}
	for _, tc := range []struct {
		args []string
		want planOptions
	}{
		{[]string{"start"}, planOptions{action: "start", output: "text"}},
		{[]string{"end", "-o", "json"}, planOptions{action: "end", output: "json"}},
		{[]string{"--config", "/x/aku.conf", "clean"}, planOptions{action: "clean", output: "text", config: "/x/aku.conf"}},
	} {
		got, err := parsePlanArgs(tc.args)
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), []string{"plan", "start"}, noEnv, &out, &errOut); !errors.Is(err, ErrNoConfig) {
		t.Errorf("no config: err = %v", err)
	}
}

func TestPlanHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), []string{"-h"}, noEnv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"aku plan {start | end | clean}", "plan ACTION"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// A plan's JSON carries each op's statements once filled.
func TestPlanJSONCarriesStatements(t *testing.T) {
	p := lifecycle.PlanClean(lifecycle.Options{ServerCount: 2, Groups: []lifecycle.Group{{Prefix: "R"}}, MarkerFile: "/m"},
		lifecycle.Snapshot{Self: 1, Members: []lifecycle.Member{{Position: 0, Name: "p-0"}, {Position: 1, Name: "p-1"}},
			States: map[int]lifecycle.States{1: {"R_01": {Name: "R_01", XSN: 5, IsStarted: true}}}})
	p.Fill(func(o lifecycle.Op) []string { return []string{"SQL " + o.Kind.String()} })
	var b bytes.Buffer
	if err := writePlan(&b, "json", p, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kind": "stop"`, `"SQL drop"`, `"name": "dropped"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("json lacks %s:\n%s", want, b.String())
		}
	}
}
