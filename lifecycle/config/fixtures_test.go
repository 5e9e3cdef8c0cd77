package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each testdata/invalid-*.conf starts with "# want: <the whole error>"; it
// is parsed under the name "aku.conf".
func TestInvalidFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/invalid-*.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".conf"), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bytes.Cut(data, []byte("\n"))
			want, ok := strings.CutPrefix(string(first), "# want: ")
			if !ok {
				t.Fatalf("%s lacks a '# want: ' first line", f)
			}
			c, err := Parse("aku.conf", bytes.NewReader(data))
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", want)
			}
			if c != nil {
				t.Errorf("Parse returned a config together with an error")
			}
			if got := err.Error(); got != want {
				t.Errorf("error:\n got %s\nwant %s", got, want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *config.Error", err)
			}
			if ce.File != "aku.conf" {
				t.Errorf("File = %q", ce.File)
			}
		})
	}
}

// Each testdata/valid-*.conf parses.
func TestValidFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/valid-*.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".conf"), func(t *testing.T) {
			t.Parallel()
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Groups) == 0 || c.ServerCount < 1 {
				t.Errorf("config without groups or servers: %+v", c)
			}
		})
	}
}
