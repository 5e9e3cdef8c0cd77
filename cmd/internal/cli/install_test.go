package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeTree makes an install tree whose bin/aku is a script that prints a
// version (a real binary is tested by cmd/aku's TestBinary and the dist
// tests).
func fakeTree(t *testing.T, version string) string {
	t.Helper()
	src := t.TempDir()
	for _, d := range []string{"bin", "lib"} {
		if err := os.Mkdir(filepath.Join(src, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	script := "#!/bin/sh\necho aku version " + version + "\n"
	if err := os.WriteFile(filepath.Join(src, "bin", "aku"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"aku-start", "aku-end"} {
		if err := os.Symlink("aku", filepath.Join(src, "bin", l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "lib", "libodbc.so.2"), []byte("lib "+version), 0o600); err != nil {
		t.Fatal(err)
	}
	return src
}

func TestInstallCopiesTheTreeAndIsIdempotent(t *testing.T) {
	dst := t.TempDir()
	for _, v := range []string{"v1", "v2", "v2"} {
		if err := Install(context.Background(), fakeTree(t, v), dst); err != nil {
			t.Fatalf("install %s: %v", v, err)
		}
		for _, f := range []string{"bin/aku", "lib/libodbc.so.2"} {
			st, err := os.Stat(filepath.Join(dst, f))
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o755 {
				t.Errorf("%s mode %v, want 0755", f, st.Mode().Perm())
			}
		}
		if link, err := os.Readlink(filepath.Join(dst, "bin", "aku-start")); err != nil || link != "aku" {
			t.Errorf("bin/aku-start = %q, %v; want a link to aku", link, err)
		}
		if b, _ := os.ReadFile(filepath.Join(dst, "lib", "libodbc.so.2")); string(b) != "lib "+v {
			t.Errorf("after installing %s: lib holds %q", v, b)
		}
		entries, _ := os.ReadDir(dst)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if strings.Join(names, ",") != "bin,lib" {
			t.Errorf("target holds %v, want bin and lib only", names)
		}
	}
}

func TestInstallRemovesWhatAKilledInstallLeft(t *testing.T) {
	dst := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dst, stagingPrefix+"123", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Install(context.Background(), fakeTree(t, "v1"), dst); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dst, stagingPrefix+"*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestInstallRefusesBadTargets(t *testing.T) {
	src := fakeTree(t, "v1")
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	for name, dst := range map[string]string{
		"missing":       filepath.Join(t.TempDir(), "nope"),
		"not-directory": file,
	} {
		err := Install(context.Background(), src, dst)
		if !errors.Is(err, ErrInstall) || !strings.Contains(err.Error(), dst) {
			t.Errorf("%s: err = %v, want ErrInstall naming %s", name, err, dst)
		}
	}
	if err := Install(context.Background(), t.TempDir(), t.TempDir()); !errors.Is(err, ErrInstall) {
		t.Errorf("from a directory without bin/aku: err = %v", err)
	}
}

// tmpfs mounts a tmpfs with the given flags (root only: the init container
// case of a read-only or noexec volume).
func tmpfs(t *testing.T, flags uintptr) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", flags, "size=4m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, 0) })
	return dir
}

func TestInstallReadOnlyTarget(t *testing.T) {
	dst := tmpfs(t, unix.MS_RDONLY)
	err := Install(context.Background(), fakeTree(t, "v1"), dst)
	if !errors.Is(err, ErrInstall) || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("err = %v, want a read-only target named", err)
	}
}

func TestInstallNoexecTarget(t *testing.T) {
	dst := tmpfs(t, unix.MS_NOEXEC)
	err := Install(context.Background(), fakeTree(t, "v1"), dst)
	if !errors.Is(err, ErrInstall) || !strings.Contains(err.Error(), "noexec") {
		t.Fatalf("err = %v, want the installed aku found not to run (noexec)", err)
	}
}

func TestRunInstall(t *testing.T) {
	src := fakeTree(t, "v1")
	old := treeOf
	treeOf = func() (string, error) { return src, nil }
	t.Cleanup(func() { treeOf = old })
	dst := t.TempDir()
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), []string{"install", dst}, noEnv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "installed in "+dst) {
		t.Errorf("output %q", out.String())
	}
	for _, args := range [][]string{{"install"}, {"install", "a", "b"}, {"install", "-x"}} {
		err := Run(context.Background(), args, noEnv, &out, &errOut)
		if ExitCode(err) != ExitUsage {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
	}
}

func noEnv(string) string { return "" }
