package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"2.2.5", "2.17", -1},
		{"2.3", "2.2.5", 1},
		{"2.17", "2.17", 0},
		{"2.17.0", "2.17", 0},
		{"2.34", "2.17", 1},
		{"GLIBC_2.9", "2.10", -1},
	} {
		a, err := parseVersion(c.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := parseVersion(c.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := compare(a, b); got != c.want {
			t.Errorf("compare(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	for _, bad := range []string{"", "GLIBC_PRIVATE", "2.x", "2..3"} {
		if _, err := parseVersion(bad); err == nil {
			t.Errorf("parseVersion(%q) accepted", bad)
		}
	}
}

// A C program built by the host's compiler needs at least GLIBC_2.2.5
// (x86-64's first version): the check must see it against a floor below
// that, name the symbol, and pass it against a floor above.
func TestCheckHostProgram(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Fatal("no C compiler (cc) on PATH; `make deps` installs the build's packages")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "hello.c")
	if err := os.WriteFile(src, []byte("#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "tree", "bin", "hello")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	// Not ELF, and a link: both ignored.
	if err := os.WriteFile(filepath.Join(dir, "tree", "README"), []byte("text"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("hello", filepath.Join(dir, "tree", "bin", "hello-link")); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(dir, "tree")

	reports, err := Check([]string{tree}, Version{2, 2})
	if !errors.Is(err, ErrTooNew) {
		t.Fatalf("floor 2.2: err = %v, want ErrTooNew", err)
	}
	if len(reports) != 1 || reports[0].Path != bin || len(reports[0].Bad) == 0 {
		t.Fatalf("floor 2.2: reports %+v", reports)
	}
	if s := reports[0].String(); !strings.HasPrefix(s, "FAIL ") || !strings.Contains(s, "GLIBC_2.") || !strings.Contains(s, "libc.so.6") {
		t.Errorf("floor 2.2: report %q", s)
	}

	reports, err = Check([]string{tree}, Version{999})
	if err != nil || len(reports) != 1 || len(reports[0].Bad) != 0 || reports[0].Newest == nil {
		t.Fatalf("floor 999: reports %+v, err %v", reports, err)
	}
	if s := reports[0].String(); !strings.HasPrefix(s, "ok ") {
		t.Errorf("floor 999: report %q", s)
	}
}

func TestCheckFindsNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Check([]string{dir}, Version{2, 17}); err == nil || errors.Is(err, ErrTooNew) {
		t.Fatalf("a tree without ELF files: err = %v, want a failure", err)
	}
	if _, err := Check([]string{filepath.Join(dir, "missing")}, Version{2, 17}); err == nil {
		t.Fatal("a missing path passed")
	}
}
