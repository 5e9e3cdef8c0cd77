package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrInstall marks a failed `aku install`.
var ErrInstall = errors.New("install failed")

// stagingPrefix names the temporary directory an install builds its copy
// in, inside the target (so the final renames stay on one filesystem).
const stagingPrefix = ".aku-install-"

// installCheckTimeout bounds the run of the installed `aku -v`.
const installCheckTimeout = 30 * time.Second

// treeOf is the install tree the running binary belongs to: the parent of
// its bin/ directory (os.Executable, symlinks resolved). A test replaces it.
var treeOf = func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	exe, err = filepath.EvalSymlinks(exe)
	if err != nil {
		return "", err
	}
	return filepath.Dir(filepath.Dir(exe)), nil
}

// Dispatch runs the multi-call binary by the name it was started as:
// aku-start is `aku -p start` and aku-end `aku -p end` (the Kubernetes
// hooks), anything else is aku.
func Dispatch(ctx context.Context, argv []string) int {
	name := ""
	if len(argv) > 0 {
		name = filepath.Base(argv[0])
		argv = argv[1:]
	}
	switch name {
	case "aku-start":
		return HookMain(ctx, "start", argv)
	case "aku-end":
		return HookMain(ctx, "end", argv)
	}
	return Main(ctx, argv)
}

// runInstall is `aku install DIR`.
func runInstall(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] == "" || strings.HasPrefix(args[0], "-") {
		return &usageError{"install takes one argument: the directory to install into"}
	}
	src, err := treeOf()
	if err != nil {
		return fmt.Errorf("%w: locate the running aku: %w", ErrInstall, err)
	}
	if err := Install(ctx, src, args[0]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "aku %s installed in %s\n", version, args[0])
	return nil
}

// Install copies the install tree src (bin/ and lib/) into dst, which must
// be an existing directory (an init container's shared volume). Each
// top-level directory is copied under a temporary name inside dst, then
// swapped into place with one atomic rename, so a reader sees the old tree
// or the new one, never a half-copied file; running it again replaces the
// tree the same way. Files are mode 0755. Then the installed aku must run
// (`aku -v`): a target mounted read-only or noexec fails here, clearly,
// rather than in the hook later. Needs no shell and no other program.
func Install(ctx context.Context, src, dst string) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInstall}, args...)...)
	}
	if _, err := os.Stat(filepath.Join(src, "bin", "aku")); err != nil {
		return fail("%s is not an aku install tree (no bin/aku): %w", src, err)
	}
	st, err := os.Stat(dst)
	if err != nil {
		return fail("target %s: %w", dst, err)
	}
	if !st.IsDir() {
		return fail("target %s is not a directory", dst)
	}
	removeStaging(dst) // what a killed earlier install left
	staging, err := os.MkdirTemp(dst, stagingPrefix)
	if err != nil {
		if errors.Is(err, syscall.EROFS) {
			return fail("target %s is read-only: %w", dst, err)
		}
		return fail("cannot write in %s: %w", dst, err)
	}
	defer os.RemoveAll(staging)
	entries, err := os.ReadDir(src)
	if err != nil {
		return fail("read %s: %w", src, err)
	}
	var tops []string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := copyTree(filepath.Join(src, e.Name()), filepath.Join(staging, e.Name())); err != nil {
			return fail("copy %s into %s: %w", e.Name(), dst, err)
		}
		tops = append(tops, e.Name())
	}
	for _, top := range tops {
		if err := swapIn(filepath.Join(staging, top), filepath.Join(dst, top)); err != nil {
			return fail("put %s in place in %s: %w", top, dst, err)
		}
	}
	return checkInstalled(ctx, dst)
}

// removeStaging removes temporary directories of earlier installs.
func removeStaging(dst string) {
	old, _ := filepath.Glob(filepath.Join(dst, stagingPrefix+"*"))
	for _, o := range old {
		os.RemoveAll(o)
	}
}

// swapIn moves the directory next into place at path. An existing path is
// exchanged with it atomically (renameat2 RENAME_EXCHANGE), where the
// filesystem allows; the old tree ends up at next, which the caller
// removes with the staging directory.
func swapIn(next, path string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(next, path)
	}
	err := unix.Renameat2(unix.AT_FDCWD, next, unix.AT_FDCWD, path, unix.RENAME_EXCHANGE)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) {
		return err
	}
	// No exchange on this filesystem: move the old tree aside, then the
	// new one in. A reader may find the path missing for a moment.
	aside := next + ".old"
	if err := os.Rename(path, aside); err != nil {
		return err
	}
	if err := os.Rename(next, path); err != nil {
		os.Rename(aside, path) // put the old tree back
		return err
	}
	return os.Rename(aside, next)
}

// copyTree copies a directory: directories and regular files (mode 0755),
// symbolic links as links (aku-start -> aku stays a link).
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		target := filepath.Join(to, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			return copyFile(p, target)
		}
		return fmt.Errorf("%s: not a file, directory or link", p)
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(to, 0o755) // whatever the umask
}

// checkInstalled runs the installed `aku -v`.
func checkInstalled(ctx context.Context, dst string) error {
	ctx, cancel := context.WithTimeout(ctx, installCheckTimeout)
	defer cancel()
	bin := filepath.Join(dst, "bin", "aku")
	out, err := exec.CommandContext(ctx, bin, "-v").CombinedOutput()
	if err == nil {
		return nil
	}
	hint := ""
	if errors.Is(err, fs.ErrPermission) {
		hint = " (is it mounted noexec?)"
	}
	msg := strings.TrimSpace(string(out))
	if msg != "" {
		msg = ": " + msg
	}
	return fmt.Errorf("%w: the installed %s does not run%s: %w%s", ErrInstall, bin, hint, err, msg)
}
