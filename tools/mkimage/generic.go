package main

// The generic mode (--rootfs, --add): any image from a root filesystem
// directory and host files, for the images the real-node e2e tests import
// into containerd (`make node-images`): a scratch pause image, and a Debian
// root filesystem plus the Altibase simulator.
//
//	go run . --rootfs DIR --add ./sim:/usr/local/bin/altibase-sim:0755 \
//	    --entrypoint '["/usr/local/bin/altibase-entrypoint"]' --env PATH=/usr/bin:/bin \
//	    --tag aku.local/altibase-sim:e2e --out altibase-sim.tar --created 1700000000
//
// Layers are reproducible like the aku image's: entries in lexical order,
// times set to --created, no user or group names (ids only).

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// generic reports whether o asks for the generic mode.
func (o options) generic() bool { return o.rootfs != "" || len(o.adds) > 0 }

// akuOnly and genericOnly name the flags of one mode, refused in the other.
var (
	akuOnly     = []string{"tree", "runtime", "version", "commit", "source"}
	genericOnly = []string{"rootfs", "add", "entrypoint", "cmd", "env", "workdir", "user"}
)

// checkFlags refuses a mix of the two modes' flags (set: the flags given).
func checkFlags(generic bool, set map[string]bool) error {
	other := genericOnly
	if generic {
		other = akuOnly
	}
	for _, f := range other {
		if set[f] {
			if generic {
				return fmt.Errorf("--%s is for the aku image, not with --rootfs or --add", f)
			}
			return fmt.Errorf("--%s needs --rootfs or --add", f)
		}
	}
	return nil
}

// addSpec is one --add SRC:DEST[:MODE].
type addSpec struct {
	src, dest string // dest relative to /, cleaned
	mode      int64  // -1: the source file's
}

func parseAdd(s string) (addSpec, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return addSpec{}, fmt.Errorf("--add %q: want SRC:DEST[:MODE]", s)
	}
	a := addSpec{src: parts[0], mode: -1}
	if !strings.HasPrefix(parts[1], "/") || path.Clean(parts[1]) == "/" {
		return addSpec{}, fmt.Errorf("--add %q: DEST must be an absolute file path", s)
	}
	a.dest = strings.TrimPrefix(path.Clean(parts[1]), "/")
	if len(parts) == 3 {
		m, err := strconv.ParseUint(parts[2], 8, 32)
		if err != nil || m > 0o7777 {
			return addSpec{}, fmt.Errorf("--add %q: MODE must be octal, at most 7777", s)
		}
		a.mode = int64(m)
	}
	return a, nil
}

// argv is --entrypoint or --cmd: one JSON array, or the repeated flag's words.
func argv(flagName string, words []string) ([]string, error) {
	if len(words) == 1 && strings.HasPrefix(strings.TrimSpace(words[0]), "[") {
		var a []string
		if err := json.Unmarshal([]byte(words[0]), &a); err != nil {
			return nil, fmt.Errorf("--%s: %w", flagName, err)
		}
		return a, nil
	}
	return words, nil
}

func runGeneric(o options) error {
	if len(o.runtime) > 0 {
		return errors.New("--runtime is for the aku image, not with --rootfs or --add")
	}
	ref, err := name.NewTag(o.tag)
	if err != nil {
		return fmt.Errorf("--tag: %w", err)
	}
	var adds []addSpec
	for _, s := range o.adds {
		a, err := parseAdd(s)
		if err != nil {
			return err
		}
		adds = append(adds, a)
	}
	entrypoint, err := argv("entrypoint", o.entrypoint)
	if err != nil {
		return err
	}
	cmd, err := argv("cmd", o.cmd)
	if err != nil {
		return err
	}
	for _, e := range o.env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("--env %q: want NAME=VALUE", e)
		}
	}
	if o.workdir != "" && !strings.HasPrefix(o.workdir, "/") {
		return fmt.Errorf("--workdir %q: not an absolute path", o.workdir)
	}

	// The layers are written to temporary files (a root filesystem is
	// large) and compressed from there.
	tmp, err := os.MkdirTemp("", "mkimage-layers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	appendLayer := func(file, createdBy string, write func(*tar.Writer) error) error {
		if err := writeTarFile(file, write); err != nil {
			return err
		}
		layer, err := tarball.LayerFromFile(file, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return err
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
			Created: v1.Time{Time: o.created}, CreatedBy: createdBy,
		}})
		return err
	}
	if o.rootfs != "" {
		if fi, err := os.Stat(o.rootfs); err != nil || !fi.IsDir() {
			return fmt.Errorf("--rootfs %s: not a directory", o.rootfs)
		}
		if err := appendLayer(filepath.Join(tmp, "rootfs.tar"), "mkimage: root filesystem",
			func(tw *tar.Writer) error { return rootfsTar(tw, o.rootfs, o.created) }); err != nil {
			return err
		}
	}
	if len(adds) > 0 {
		var dests []string
		for _, a := range adds {
			dests = append(dests, "/"+a.dest)
		}
		if err := appendLayer(filepath.Join(tmp, "add.tar"), "mkimage: "+strings.Join(dests, " "),
			func(tw *tar.Writer) error { return addTar(tw, adds, o.rootfs, o.created) }); err != nil {
			return err
		}
	}

	workdir := o.workdir
	if workdir == "" {
		workdir = "/"
	}
	return writeConfigured(o.out, ref, img, o.created, v1.Config{Entrypoint: entrypoint, Cmd: cmd,
		Env: o.env, User: o.runAs, WorkingDir: workdir})
}

// writeTarFile writes a tar file with write's entries.
func writeTarFile(file string, write func(*tar.Writer) error) (err error) {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	tw := tar.NewWriter(f)
	if err := write(tw); err != nil {
		return err
	}
	return tw.Close()
}

// tarMode is a file's mode as tar spells it: permissions plus the setuid,
// setgid and sticky bits.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// rootfsTar writes every entry under root (not root itself) as it is on
// disk: modes, owners (ids), symbolic and hard links, FIFOs; times set to
// mtime. Device files and sockets are left out (the container runtime
// provides /dev), and so is what is mounted below root (as tar
// --one-file-system does).
func rootfsTar(tw *tar.Writer, root string, mtime time.Time) error {
	rootInfo, err := os.Lstat(root)
	if err != nil {
		return err
	}
	rootDev := rootInfo.Sys().(*syscall.Stat_t).Dev
	type inode struct{ dev, ino uint64 }
	seen := map[inode]string{}
	// WalkDir visits each directory's entries in lexical order, a directory
	// before its contents.
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), Mode: tarMode(fi.Mode()), ModTime: mtime,
			Uid: int(st.Uid), Gid: int(st.Gid)}
		m := fi.Mode()
		switch {
		case m.IsDir():
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
			if uint64(st.Dev) != uint64(rootDev) {
				// A mount point: the directory, not what is mounted on it.
				if err := tw.WriteHeader(h); err != nil {
					return err
				}
				return fs.SkipDir
			}
		case m&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			h.Typeflag, h.Linkname = tar.TypeSymlink, link
		case m.IsRegular():
			id := inode{uint64(st.Dev), st.Ino}
			if first, ok := seen[id]; ok && st.Nlink > 1 {
				h.Typeflag, h.Linkname = tar.TypeLink, first
				break
			}
			if st.Nlink > 1 {
				seen[id] = h.Name
			}
			h.Typeflag, h.Size = tar.TypeReg, fi.Size()
		case m&fs.ModeNamedPipe != 0:
			h.Typeflag = tar.TypeFifo
		default: // devices, sockets
			return nil
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg {
			return copyFile(tw, p, h.Size)
		}
		return nil
	})
}

// copyFile writes the file's contents, refusing one that changed size
// while it was being archived.
func copyFile(w io.Writer, p string, size int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, io.LimitReader(f, size))
	if err == nil && n != size {
		err = fmt.Errorf("%s: changed while being archived", p)
	}
	return err
}

// addTar writes the --add files (links followed, owned by root) and their
// parent directories. A parent the root filesystem has takes its mode and
// owner from there, so that the layer changes nothing but the files; one
// that is a symbolic link there is refused (the layer's directory would
// replace the link, as /bin -> usr/bin).
func addTar(tw *tar.Writer, adds []addSpec, rootfs string, mtime time.Time) error {
	type entry struct {
		h   *tar.Header
		src string
	}
	entries := map[string]entry{}
	for _, a := range adds {
		if e, dup := entries[a.dest]; dup {
			if e.h.Typeflag == tar.TypeDir {
				return fmt.Errorf("--add: /%s is both a file and a directory", a.dest)
			}
			return fmt.Errorf("--add: /%s given twice", a.dest)
		}
		fi, err := os.Stat(a.src)
		if err != nil {
			return fmt.Errorf("--add: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("--add %s: not a regular file", a.src)
		}
		mode := a.mode
		if mode < 0 {
			mode = tarMode(fi.Mode())
		}
		entries[a.dest] = entry{src: a.src, h: &tar.Header{Typeflag: tar.TypeReg, Name: a.dest,
			Mode: mode, Size: fi.Size(), ModTime: mtime}}
		for d := path.Dir(a.dest); d != "."; d = path.Dir(d) {
			if e, ok := entries[d]; ok {
				if e.h.Typeflag != tar.TypeDir {
					return fmt.Errorf("--add: /%s is both a file and a directory", d)
				}
				continue
			}
			h := &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: mtime}
			if rootfs != "" {
				fi, err := os.Lstat(filepath.Join(rootfs, filepath.FromSlash(d)))
				switch {
				case errors.Is(err, fs.ErrNotExist):
				case err != nil:
					return err
				case fi.Mode()&fs.ModeSymlink != 0:
					link, _ := os.Readlink(filepath.Join(rootfs, filepath.FromSlash(d)))
					return fmt.Errorf("--add /%s: /%s is a symbolic link (to %s) in the root filesystem; give the path it leads to", a.dest, d, link)
				case !fi.IsDir():
					return fmt.Errorf("--add /%s: /%s is not a directory in the root filesystem", a.dest, d)
				default:
					st := fi.Sys().(*syscall.Stat_t)
					h.Mode, h.Uid, h.Gid = tarMode(fi.Mode()), int(st.Uid), int(st.Gid)
				}
			}
			entries[d] = entry{h: h}
		}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	// A parent's name is a prefix of its children's: it sorts first.
	sort.Strings(names)
	for _, n := range names {
		e := entries[n]
		if err := tw.WriteHeader(e.h); err != nil {
			return err
		}
		if e.src != "" {
			if err := copyFile(tw, e.src, e.h.Size); err != nil {
				return err
			}
		}
	}
	return nil
}
