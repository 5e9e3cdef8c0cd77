package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

var created = time.Unix(1700000000, 0).UTC()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fakeRootfs is a small root filesystem with what a Debian one has: a
// merged /usr (bin -> usr/bin), setuid and sticky modes, a hard link, a
// FIFO and, as root, other owners and a device file.
func fakeRootfs(t *testing.T) string {
	t.Helper()
	r := t.TempDir()
	for _, d := range []string{"etc", "usr/bin", "usr/local/bin", "tmp", "run", "dev"} {
		must(t, os.MkdirAll(filepath.Join(r, d), 0o755))
	}
	must(t, os.Chmod(filepath.Join(r, "tmp"), 0o777|os.ModeSticky))
	must(t, os.Symlink("usr/bin", filepath.Join(r, "bin")))
	must(t, os.WriteFile(filepath.Join(r, "etc", "shadow"), []byte("root:*:\n"), 0o640))
	must(t, os.WriteFile(filepath.Join(r, "usr", "bin", "su"), []byte("su"), 0o755))
	must(t, os.Chmod(filepath.Join(r, "usr", "bin", "su"), 0o755|os.ModeSetuid))
	must(t, os.WriteFile(filepath.Join(r, "usr", "bin", "perl"), []byte("perl binary"), 0o755))
	must(t, os.Link(filepath.Join(r, "usr", "bin", "perl"), filepath.Join(r, "usr", "bin", "perl5.32")))
	must(t, syscall.Mkfifo(filepath.Join(r, "run", "initctl"), 0o600))
	if os.Geteuid() == 0 {
		must(t, os.Chown(filepath.Join(r, "etc", "shadow"), 0, 42))
		must(t, os.Chown(filepath.Join(r, "usr", "local", "bin"), 0, 50))
		must(t, os.Chmod(filepath.Join(r, "usr", "local", "bin"), 0o775|os.ModeSetgid))
		must(t, syscall.Mknod(filepath.Join(r, "dev", "null"), syscall.S_IFCHR|0o666, 1<<8|3))
	}
	return r
}

type entry struct {
	h    *tar.Header
	data string
}

// layerEntries reads an image's layers: each a map of name to entry, and
// the names in their order.
func layerEntries(t *testing.T, img v1.Image) ([]map[string]entry, [][]string) {
	t.Helper()
	layers, err := img.Layers()
	must(t, err)
	var all []map[string]entry
	var order [][]string
	for _, l := range layers {
		rc, err := l.Uncompressed()
		must(t, err)
		m := map[string]entry{}
		var names []string
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			must(t, err)
			b, err := io.ReadAll(tr)
			must(t, err)
			m[h.Name] = entry{h, string(b)}
			names = append(names, h.Name)
		}
		rc.Close()
		all = append(all, m)
		order = append(order, names)
	}
	return all, order
}

// loadArchive checks both views of an archive, Docker's manifest.json and
// the OCI layout with the name containerd gives the image, and returns the
// image.
func loadArchive(t *testing.T, archive, tag, containerdName string) v1.Image {
	t.Helper()
	ref, err := name.NewTag(tag)
	must(t, err)
	img, err := tarball.ImageFromPath(archive, &ref)
	if err != nil {
		t.Fatalf("docker view: %v", err)
	}
	dir := t.TempDir()
	untar(t, archive, dir)
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("OCI view: %v", err)
	}
	im, err := idx.IndexManifest()
	must(t, err)
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["io.containerd.image.name"] != containerdName {
		t.Fatalf("index %+v, want one manifest named %s", im.Manifests, containerdName)
	}
	ociImg, err := idx.Image(im.Manifests[0].Digest)
	must(t, err)
	// The same config (the manifests differ: Docker's view makes its own).
	a, _ := img.ConfigName()
	b, _ := ociImg.ConfigName()
	if a != b {
		t.Errorf("docker view's config %s, OCI view's %s", a, b)
	}
	return img
}

// The root filesystem is one layer as it is on disk; the --add files are a
// second, with the parents the root filesystem has as it has them; the
// config is the flags'; and the archive is reproducible.
func TestGenericImage(t *testing.T) {
	root := fakeRootfs(t)
	src := t.TempDir()
	must(t, os.WriteFile(filepath.Join(src, "sim"), []byte("simulator"), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "entrypoint.sh"), []byte("#!/bin/bash\n"), 0o755))
	out := filepath.Join(t.TempDir(), "img.tar")
	o := options{out: out, tag: "aku.local/altibase-sim:e2e", created: created, rootfs: root,
		adds: []string{
			filepath.Join(src, "sim") + ":/usr/local/bin/altibase-sim:0755",
			filepath.Join(src, "entrypoint.sh") + ":/opt/sim/entrypoint",
		},
		entrypoint: []string{`["/opt/sim/entrypoint", "--x"]`},
		env:        []string{"PATH=/usr/local/bin:/usr/bin", "A=b=c"},
		workdir:    "/home", runAs: "0:0"}
	must(t, run(o))
	img := loadArchive(t, out, o.tag, "aku.local/altibase-sim:e2e")

	cf, err := img.ConfigFile()
	must(t, err)
	c := cf.Config
	if strings.Join(c.Entrypoint, " ") != "/opt/sim/entrypoint --x" || c.Cmd != nil ||
		strings.Join(c.Env, " ") != "PATH=/usr/local/bin:/usr/bin A=b=c" || c.WorkingDir != "/home" || c.User != "0:0" {
		t.Errorf("config %+v", c)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" || !cf.Created.Time.Equal(created) {
		t.Errorf("config file %+v", cf)
	}

	layers, order := layerEntries(t, img)
	if len(layers) != 2 {
		t.Fatalf("%d layers, want 2", len(layers))
	}
	fs := layers[0]
	for _, l := range layers {
		for n, e := range l {
			if !e.h.ModTime.Equal(created) || e.h.Uname != "" || e.h.Gname != "" {
				t.Errorf("%s: time %v, names %q %q", n, e.h.ModTime, e.h.Uname, e.h.Gname)
			}
		}
	}
	want := []string{"bin", "dev/", "etc/", "etc/shadow", "run/", "run/initctl", "tmp/", "usr/", "usr/bin/",
		"usr/bin/perl", "usr/bin/perl5.32", "usr/bin/su", "usr/local/", "usr/local/bin/"}
	if got := strings.Join(order[0], " "); got != strings.Join(want, " ") {
		t.Errorf("root filesystem layer:\n got %s\nwant %s", got, strings.Join(want, " "))
	}
	check := func(n string, typ byte, mode int64, uid, gid int) *tar.Header {
		t.Helper()
		e, ok := fs[n]
		if !ok {
			t.Errorf("%s missing", n)
			return &tar.Header{}
		}
		if e.h.Typeflag != typ || e.h.Mode != mode || e.h.Uid != uid || e.h.Gid != gid {
			t.Errorf("%s: type %c mode %o owner %d:%d, want %c %o %d:%d", n, e.h.Typeflag, e.h.Mode,
				e.h.Uid, e.h.Gid, typ, mode, uid, gid)
		}
		return e.h
	}
	uid, gid := os.Geteuid(), os.Getegid()
	if h := check("bin", tar.TypeSymlink, 0o777, uid, gid); h.Linkname != "usr/bin" {
		t.Errorf("bin -> %q", h.Linkname)
	}
	check("tmp/", tar.TypeDir, 0o1777, uid, gid)
	check("usr/bin/su", tar.TypeReg, 0o4755, uid, gid)
	check("run/initctl", tar.TypeFifo, 0o600, uid, gid)
	check("usr/bin/perl", tar.TypeReg, 0o755, uid, gid)
	if h := check("usr/bin/perl5.32", tar.TypeLink, 0o755, uid, gid); h.Linkname != "usr/bin/perl" {
		t.Errorf("perl5.32 links to %q", h.Linkname)
	}
	if fs["usr/bin/perl"].data != "perl binary" || fs["etc/shadow"].data != "root:*:\n" {
		t.Error("file contents differ")
	}
	if uid == 0 {
		check("etc/shadow", tar.TypeReg, 0o640, 0, 42)
		check("usr/local/bin/", tar.TypeDir, 0o2775, 0, 50)
		if _, ok := fs["dev/null"]; ok {
			t.Error("device file dev/null archived")
		}
	}

	add := layers[1]
	if got := strings.Join(order[1], " "); got != "opt/ opt/sim/ opt/sim/entrypoint usr/ usr/local/ usr/local/bin/ usr/local/bin/altibase-sim" {
		t.Errorf("add layer: %s", got)
	}
	if h := add["usr/local/bin/altibase-sim"].h; h.Mode != 0o755 || h.Uid != 0 || add["usr/local/bin/altibase-sim"].data != "simulator" {
		t.Errorf("altibase-sim %+v", h)
	}
	if h := add["opt/sim/entrypoint"].h; h.Mode != 0o755 || h.Uid != 0 {
		t.Errorf("entrypoint %+v (want the source's mode)", h)
	}
	if h := add["opt/"].h; h.Mode != 0o755 || h.Uid != 0 || h.Typeflag != tar.TypeDir {
		t.Errorf("opt/ %+v", h)
	}
	// The parents the root filesystem has are as it has them.
	for _, d := range []string{"usr/", "usr/local/", "usr/local/bin/"} {
		a, b := add[d].h, fs[d].h
		if a == nil || b == nil || a.Mode != b.Mode || a.Uid != b.Uid || a.Gid != b.Gid {
			t.Errorf("%s in the add layer %+v, in the root filesystem %+v", d, a, b)
		}
	}

	// Reproducible.
	o.out = filepath.Join(t.TempDir(), "again.tar")
	must(t, run(o))
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(o.out)
	if !bytes.Equal(a, b) {
		t.Error("two builds of the same root filesystem differ")
	}
}

// Without --rootfs, --add alone makes a scratch image: one layer, just the
// files; the entrypoint as one word per flag is the JSON array's.
func TestScratchImage(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "pause")
	must(t, os.WriteFile(bin, []byte("\x7fELF"), 0o700))
	out := filepath.Join(t.TempDir(), "pause.tar")
	must(t, run(options{out: out, tag: "aku.local/pause:e2e", created: created,
		adds: []string{bin + ":/pause:0755"}, entrypoint: []string{"/pause", "-v"}}))
	img := loadArchive(t, out, "aku.local/pause:e2e", "aku.local/pause:e2e")
	cf, err := img.ConfigFile()
	must(t, err)
	if strings.Join(cf.Config.Entrypoint, " ") != "/pause -v" || cf.Config.User != "" || cf.Config.WorkingDir != "/" {
		t.Errorf("config %+v", cf.Config)
	}
	layers, order := layerEntries(t, img)
	if len(layers) != 1 || len(order[0]) != 1 || order[0][0] != "pause" {
		t.Fatalf("layers %v, want one with just pause", order)
	}
	if h := layers[0]["pause"].h; h.Mode != 0o755 || h.Uid != 0 {
		t.Errorf("pause %+v", h)
	}
}

// A Docker Hub name is recorded for containerd as it spells it.
func TestGenericDockerHubName(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "x")
	must(t, os.WriteFile(bin, nil, 0o755))
	out := filepath.Join(t.TempDir(), "x.tar")
	must(t, run(options{out: out, tag: "pause:e2e", created: created, adds: []string{bin + ":/x"}}))
	loadArchive(t, out, "pause:e2e", "docker.io/library/pause:e2e")
}

func TestGenericRefuses(t *testing.T) {
	root := fakeRootfs(t)
	file := filepath.Join(t.TempDir(), "f")
	must(t, os.WriteFile(file, []byte("x"), 0o755))
	for name, tc := range map[string]struct {
		o    options
		want string
	}{
		// The add layer's usr/bin/ directory would replace the link bin -> usr/bin.
		"dest under a link":    {options{rootfs: root, adds: []string{file + ":/bin/x"}}, "symbolic link"},
		"no dest":              {options{adds: []string{file}}, "SRC:DEST"},
		"relative dest":        {options{adds: []string{file + ":x"}}, "absolute"},
		"dest /":               {options{adds: []string{file + ":/"}}, "absolute"},
		"bad mode":             {options{adds: []string{file + ":/x:0999"}}, "octal"},
		"too many colons":      {options{adds: []string{file + ":/x:0755:y"}}, "SRC:DEST"},
		"missing source":       {options{adds: []string{file + ".missing:/x"}}, "no such file"},
		"directory source":     {options{adds: []string{filepath.Dir(file) + ":/x"}}, "not a regular file"},
		"twice":                {options{adds: []string{file + ":/x", file + ":/x"}}, "twice"},
		"file and directory":   {options{adds: []string{file + ":/x", file + ":/x/y"}}, "both"},
		"directory and file":   {options{adds: []string{file + ":/x/y", file + ":/x"}}, "both"},
		"missing rootfs":       {options{rootfs: root + "/missing"}, "not a directory"},
		"bad env":              {options{adds: []string{file + ":/x"}, env: []string{"=x"}}, "NAME=VALUE"},
		"bad entrypoint":       {options{adds: []string{file + ":/x"}, entrypoint: []string{`["/x"`}}, "entrypoint"},
		"relative workdir":     {options{adds: []string{file + ":/x"}, workdir: "home"}, "workdir"},
		"runtime":              {options{adds: []string{file + ":/x"}, runtime: []string{"/lib/libc.so.6"}}, "--runtime"},
		"aku mode with config": {options{tree: fakeTree(t), entrypoint: []string{"/x"}}, "need --rootfs or --add"},
	} {
		t.Run(name, func(t *testing.T) {
			tc.o.out = filepath.Join(t.TempDir(), "x.tar")
			if tc.o.tag == "" {
				tc.o.tag = "aku.local/x:y"
			}
			err := run(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if _, err := os.Stat(tc.o.out); err == nil {
				t.Error("an archive was written")
			}
		})
	}
}

// The two modes' flags do not mix.
func TestCheckFlags(t *testing.T) {
	for _, tc := range []struct {
		generic bool
		set     []string
		ok      bool
	}{
		{false, []string{"tree", "runtime", "tag", "out", "created", "version"}, true},
		{true, []string{"rootfs", "add", "entrypoint", "cmd", "env", "workdir", "user", "tag", "out", "created"}, true},
		{true, []string{"add", "tree"}, false},
		{true, []string{"rootfs", "version"}, false},
		{false, []string{"entrypoint"}, false},
		{false, []string{"user"}, false},
	} {
		set := map[string]bool{}
		for _, f := range tc.set {
			set[f] = true
		}
		if err := checkFlags(tc.generic, set); (err == nil) != tc.ok {
			t.Errorf("generic %v, flags %v: error %v", tc.generic, tc.set, err)
		}
	}
}
