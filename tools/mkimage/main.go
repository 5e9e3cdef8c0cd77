// Command mkimage writes OCI image archives without a container engine.
//
// By default it writes the aku image: one layer holding the install tree (dist/aku) at
// /opt/aku, the entrypoint /opt/aku/bin/aku, a non-root user, and the
// version, commit and source labels. The archive is an OCI image layout
// (index.json, for `ctr images import`) that also carries Docker's
// manifest.json (for `docker load`), as `docker save` writes since Docker 25.
//
//	go run . --tree ../../dist/aku --out ../../dist/aku-image.tar \
//	    --tag aku:v1.2.3 --version v1.2.3 --commit abc1234 --source https://...
//
// The layer is reproducible: entries sorted, owned by root, times set to
// --created (the commit's time by default in the Makefile).
//
// With --rootfs or --add it writes any image (generic.go): a root filesystem
// directory as one layer, host files in a second, and the entrypoint,
// command, environment, working directory and user given.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where the tree lives in the image, and the user the init container runs
// as (the manifests' securityContext says the same).
const (
	prefix = "opt/aku"
	user   = "65532:65532"
)

type options struct {
	tree, out, tag, version, commit, source string
	created                                 time.Time
	// runtime lists host files (the C runtime: the loader, libc) put at the
	// same paths in a second layer, so that aku runs in the init container
	// (aku install, and its check that the installed aku runs). They are
	// not part of the install tree: in the Altibase container aku uses that
	// container's own glibc.
	runtime []string

	// The generic mode's (generic.go).
	rootfs               string
	adds                 []string // SRC:DEST[:MODE]
	entrypoint, cmd, env []string
	workdir, runAs       string
}

type listFlag []string

func (l *listFlag) String() string     { return fmt.Sprint(*l) }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	var o options
	var created int64
	flag.StringVar(&o.tree, "tree", "dist/aku", "install tree to put at /opt/aku")
	flag.StringVar(&o.out, "out", "dist/aku-image.tar", "archive to write")
	flag.StringVar(&o.tag, "tag", "aku:latest", "image reference recorded in the archive")
	flag.StringVar(&o.version, "version", "dev", "org.opencontainers.image.version")
	flag.StringVar(&o.commit, "commit", "unknown", "org.opencontainers.image.revision")
	flag.StringVar(&o.source, "source", "", "org.opencontainers.image.source")
	flag.Int64Var(&created, "created", 0, "creation time, Unix seconds (reproducible builds)")
	flag.Var((*listFlag)(&o.runtime), "runtime", "host file to add at the same path (repeatable): the loader and libc")
	flag.StringVar(&o.rootfs, "rootfs", "", "generic image: root filesystem directory, one layer (modes, owners, links as on disk)")
	flag.Var((*listFlag)(&o.adds), "add", "generic image: host file SRC at DEST, mode MODE (octal; default SRC's), in a layer of its own: SRC:DEST[:MODE] (repeatable)")
	flag.Var((*listFlag)(&o.entrypoint), "entrypoint", `generic image: entrypoint, a JSON array ('["/pause"]') or one word per flag`)
	flag.Var((*listFlag)(&o.cmd), "cmd", "generic image: default command, like --entrypoint")
	flag.Var((*listFlag)(&o.env), "env", "generic image: environment variable NAME=VALUE (repeatable)")
	flag.StringVar(&o.workdir, "workdir", "", "generic image: working directory (default /)")
	flag.StringVar(&o.runAs, "user", "", "generic image: user[:group] to run as (default root)")
	flag.Parse()
	o.created = time.Unix(created, 0).UTC()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := checkFlags(o.generic(), set); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.generic() {
		return runGeneric(o)
	}
	if len(o.entrypoint)+len(o.cmd)+len(o.env) > 0 || o.workdir != "" || o.runAs != "" {
		return errors.New("--entrypoint, --cmd, --env, --workdir and --user need --rootfs or --add")
	}
	if _, err := os.Stat(filepath.Join(o.tree, "bin", "aku")); err != nil {
		return fmt.Errorf("%s is not an install tree (run make dist): %w", o.tree, err)
	}
	ref, err := name.NewTag(o.tag)
	if err != nil {
		return fmt.Errorf("--tag: %w", err)
	}
	layerTar, err := treeTar(o.tree, o.created)
	if err != nil {
		return err
	}
	layer, err := layerFrom(layerTar)
	if err != nil {
		return err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if len(o.runtime) > 0 {
		rtTar, err := filesTar(o.runtime, o.created)
		if err != nil {
			return err
		}
		rt, err := layerFrom(rtTar)
		if err != nil {
			return err
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: rt, History: v1.History{
			Created: v1.Time{Time: o.created}, CreatedBy: "mkimage: C runtime for the init container",
		}})
		if err != nil {
			return err
		}
	}
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: o.created}, CreatedBy: "mkimage: install tree at /" + prefix,
	}})
	if err != nil {
		return err
	}
	return writeConfigured(o.out, ref, img, o.created, v1.Config{
		Entrypoint: []string{"/" + prefix + "/bin/aku"},
		Cmd:        []string{"install", "/aku"},
		User:       user,
		WorkingDir: "/",
		Labels: map[string]string{
			"org.opencontainers.image.title":    "aku",
			"org.opencontainers.image.version":  o.version,
			"org.opencontainers.image.revision": o.commit,
			"org.opencontainers.image.source":   o.source,
		},
	})
}

// writeConfigured sets the image's platform (linux/amd64), creation time
// and run configuration, and writes the archive.
func writeConfigured(out string, ref name.Tag, img v1.Image, created time.Time, config v1.Config) error {
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: created}
	cf.Config = config
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return err
	}
	return writeArchive(out, ref, img)
}

// filesTar is a layer holding each host file (links followed) at its own
// path, with its parent directories; sorted, root-owned, fixed times.
func filesTar(files []string, mtime time.Time) ([]byte, error) {
	files = append([]string(nil), files...)
	sort.Strings(files)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, f := range files {
		if !filepath.IsAbs(f) {
			return nil, fmt.Errorf("--runtime %s: not an absolute path", f)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--runtime: %w", err)
		}
		rel := strings.TrimPrefix(filepath.ToSlash(f), "/")
		var parents []string
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
		}
		for _, d := range parents {
			if dirs[d] {
				continue
			}
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: mtime}); err != nil {
				return nil, err
			}
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: 0o755, Size: int64(len(b)), ModTime: mtime}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// layerFrom is an OCI layer (gzipped by go-containerregistry) of a tar.
func layerFrom(tarBytes []byte) (v1.Layer, error) {
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// treeTar is the layer: every entry of the tree under opt/aku, sorted,
// root-owned, with fixed times; directories 0755, files as they are (the
// tree is 0755 already), links as links.
func treeTar(tree string, mtime time.Time) ([]byte, error) {
	var paths []string
	err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "opt/", Mode: 0o755, ModTime: mtime}); err != nil {
		return nil, err
	}
	for _, p := range paths {
		rel, err := filepath.Rel(tree, p)
		if err != nil {
			return nil, err
		}
		name := path.Join(prefix, filepath.ToSlash(rel))
		fi, err := os.Lstat(p)
		if err != nil {
			return nil, err
		}
		h := &tar.Header{Name: name, ModTime: mtime, Mode: int64(fi.Mode().Perm()), Format: tar.FormatPAX}
		switch {
		case fi.IsDir():
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, name+"/", 0o755
		case fi.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return nil, err
			}
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, link, 0o777
		case fi.Mode().IsRegular():
			h.Typeflag, h.Size = tar.TypeReg, fi.Size()
		default:
			return nil, fmt.Errorf("%s: not a file, directory or link", p)
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			f, err := os.Open(p)
			if err != nil {
				return nil, err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// dockerManifest is one entry of Docker's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// writeArchive writes the OCI layout of img, plus manifest.json, as one
// tar file (through a temporary name, so a failed run leaves no archive).
func writeArchive(out string, ref name.Tag, img v1.Image) error {
	dir, err := os.MkdirTemp("", "mkimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref.TagStr(),
		"io.containerd.image.name":          containerdName(ref),
	})); err != nil {
		return err
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	dm := dockerManifest{Config: blobPath(cfgName), RepoTags: []string{ref.String()}}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		dm.Layers = append(dm.Layers, blobPath(d))
	}
	mj, err := json.Marshal([]dockerManifest{dm})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), mj, 0o644); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := tarDir(dir, tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, out)
}

// containerdName is the reference as containerd spells it: docker.io, not
// index.docker.io, for Docker Hub names ("aku:x" is docker.io/library/aku:x).
func containerdName(ref name.Tag) string {
	reg := ref.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + ref.RepositoryStr() + ":" + ref.TagStr()
}

func blobPath(h v1.Hash) string { return path.Join("blobs", h.Algorithm, h.Hex) }

// tarDir writes dir's files into a tar archive at out, sorted.
func tarDir(dir, out string) (err error) {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	tw := tar.NewWriter(f)
	var paths []string
	if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != dir {
			paths = append(paths, p)
		}
		return err
	}); err != nil {
		return err
	}
	sort.Strings(paths)
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, ModTime: time.Unix(0, 0).UTC()}
		if fi.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
		} else {
			h.Typeflag, h.Size = tar.TypeReg, fi.Size()
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !fi.IsDir() {
			src, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, src)
			src.Close()
			if err != nil {
				return err
			}
		}
	}
	return tw.Close()
}
