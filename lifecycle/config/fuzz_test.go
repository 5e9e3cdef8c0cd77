package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that it returns exactly one of
// a config or an error, that every error is a classified *Error naming the
// file, and that an accepted config satisfies the documented invariants.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.conf")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add(minimal)
	f.Add("#")
	f.Add("\uFEFF" + strings.ReplaceAll(minimal, "\n", "\r\n"))
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Parse("aku.conf", strings.NewReader(text))
		if (c == nil) == (err == nil) {
			t.Fatalf("config %v and error %v", c, err)
		}
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || ce.File != "aku.conf" || ce.Kind == nil || ce.Msg == "" {
				t.Fatalf("unclassified error %T %v", err, err)
			}
			return
		}
		checkInvariants(t, c)
	})
}

func checkInvariants(t *testing.T, c *Config) {
	t.Helper()
	if c.ServerCount < 1 || c.ServerCount > MaxServers || c.PortNo == c.ReplicationPortNo || len(c.Groups) == 0 {
		t.Fatalf("invalid config accepted: %+v", c)
	}
	if checkDNSLabel(c.STSName, false) != nil || checkDNSLabel(c.SVCName, true) != nil {
		t.Fatalf("invalid names accepted: %q %q", c.STSName, c.SVCName)
	}
	seen := map[string]bool{}
	for n := 0; n < c.ServerCount; n++ {
		if err := checkHostname(c.Host(n)); err != nil {
			t.Fatalf("host accepted: %v", err)
		}
		for _, r := range c.PodReplications(n) {
			if len(r.Name) > MaxReplicationName || !identRE.MatchString(r.Name) {
				t.Fatalf("bad replication name %q", r.Name)
			}
		}
	}
	for _, g := range c.Groups {
		if !identRE.MatchString(g.Prefix) || g.Prefix != strings.ToUpper(g.Prefix) || seen["prefix "+g.Prefix] {
			t.Fatalf("bad or duplicate prefix %q", g.Prefix)
		}
		seen["prefix "+g.Prefix] = true
		if len(g.Items) == 0 || g.SyncParallel < 1 || g.SyncParallel > MaxSyncParallel {
			t.Fatalf("bad group %+v", g)
		}
		for _, tg := range g.Items {
			for _, id := range []string{tg.User, tg.Table} {
				if !identRE.MatchString(id) || len(id) > MaxObjectNameLen {
					t.Fatalf("bad identifier %q", id)
				}
			}
			if tg.Partition != "" && !identRE.MatchString(tg.Partition) {
				t.Fatalf("bad partition %q", tg.Partition)
			}
			if seen[tg.String()] {
				t.Fatalf("duplicate target %s", tg)
			}
			seen[tg.String()] = true
		}
	}
}
