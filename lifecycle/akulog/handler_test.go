package akulog

import (
	"bytes"
	"log/slog"
	"regexp"
	"testing"
)

func TestFormat(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(New(&buf, slog.LevelInfo))
	log.Info("Start as SLAVE Pod.")
	log.With("pod", "sts-1").Error("Replication failed.", "replication", "AKU_REP_01", "err", "handshake failed")
	log.Debug("hidden")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^\[AKU\]\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6}\]\[\d+\] \[INFO\]\[TestFormat:\d+\]\[-\]\[-\] Start as SLAVE Pod\.$`),
		regexp.MustCompile(`^\[AKU\]\[[^]]+\]\[\d+\] \[ERROR\]\[TestFormat:\d+\]\[sts-1\]\[AKU_REP_01\] Replication failed\. err="handshake failed"$`),
	}
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, re := range want {
		if !re.Match(lines[i]) {
			t.Errorf("line %d = %q, want match %s", i, lines[i], re)
		}
	}
}
