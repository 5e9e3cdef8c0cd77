package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServerOptions(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantHost    string
		wantPort    int
		wantRepl    int
		wantProps   map[string]int64
		errContains string
	}{
		{name: "defaults", wantHost: "127.0.0.1", wantPort: 20300},
		{name: "pod_address", args: []string{"--listen", "127.0.1.2:20300", "--replication-listen", "127.0.1.2:20301"},
			wantHost: "127.0.1.2", wantPort: 20300, wantRepl: 20301},
		{name: "properties", args: []string{"--property", "ADMIN_MODE=1", "--property", "remote_sysdba_enable = 0"},
			wantHost: "127.0.0.1", wantPort: 20300, wantProps: map[string]int64{"ADMIN_MODE": 1, "REMOTE_SYSDBA_ENABLE": 0}},
		{name: "bad_property", args: []string{"--property", "ADMIN_MODE"}, errContains: "NAME=VALUE"},
		{name: "bad_property_value", args: []string{"--property", "ADMIN_MODE=x"}, errContains: "ADMIN_MODE"},
		{name: "replication_host_differs", args: []string{"--listen", "127.0.1.2:1", "--replication-listen", "127.0.1.3:2"},
			errContains: "differs"},
		{name: "bad_listen", args: []string{"--listen", "nohost"}, errContains: "--listen"},
		{name: "bad_profile", args: []string{"--profile", "slow"}, errContains: "--profile"},
		{name: "bad_log_level", args: []string{"--log-level", "trace"}, errContains: "--log-level"},
		{name: "stray_argument", args: []string{"extra"}, errContains: "unexpected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.args, io.Discard)
			if err == nil {
				so, verr := o.serverOptions(log.New(io.Discard, "", 0))
				err = verr
				if err == nil {
					if so.Host != tc.wantHost || so.Port != tc.wantPort || so.ReplicationPort != tc.wantRepl {
						t.Errorf("got %s:%d repl %d, want %s:%d repl %d", so.Host, so.Port, so.ReplicationPort,
							tc.wantHost, tc.wantPort, tc.wantRepl)
					}
					for k, v := range tc.wantProps {
						if so.Properties[k] != v {
							t.Errorf("property %s = %d, want %d", k, so.Properties[k], v)
						}
					}
				}
			}
			if tc.errContains == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.errContains != "" && (err == nil || !strings.Contains(err.Error(), tc.errContains)) {
				t.Fatalf("got error %v, want one containing %q", err, tc.errContains)
			}
		})
	}
}

// syncBuffer hands each write to the test.
type syncBuffer struct {
	ch chan string
}

func (b syncBuffer) Write(p []byte) (int, error) {
	b.ch <- string(p)
	return len(p), nil
}

func TestRunReadyLineAndStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := syncBuffer{make(chan string, 4)}
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- Run(ctx, []string{"--name", "t", "--listen", "127.0.0.1:0"}, out, &stderr) }()
	select {
	case line := <-out.ch:
		if !readyLine.MatchString(strings.TrimSpace(line)) {
			t.Fatalf("ready line %q", line)
		}
	case err := <-done:
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("not ready after 20s")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// A first boot whose schema fails serves nothing and leaves no database
// behind, so the next boot runs the schema again.
func TestRunInitSQLFailureKeepsNoStore(t *testing.T) {
	data := t.TempDir()
	initSQL := filepath.Join(t.TempDir(), "init.sql")
	if err := os.WriteFile(initSQL, []byte("CREATE TABLE T1 (ID INTEGER PRIMARY KEY);\nCREATE TABLE T1 (ID INTEGER PRIMARY KEY);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Run(context.Background(), []string{"--listen", "127.0.0.1:0", "--data", data, "--init-sql", initSQL}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "init SQL") {
		t.Fatalf("Run = %v, want the init SQL's failure", err)
	}
	if _, err := os.Stat(filepath.Join(data, storeFile)); !os.IsNotExist(err) {
		t.Fatalf("the failed first boot left %s (stat: %v)", storeFile, err)
	}
}
