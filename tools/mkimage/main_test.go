package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func fakeTree(t *testing.T) string {
	t.Helper()
	tree := t.TempDir()
	os.MkdirAll(filepath.Join(tree, "bin"), 0o755)
	os.MkdirAll(filepath.Join(tree, "lib"), 0o755)
	os.WriteFile(filepath.Join(tree, "bin", "aku"), []byte("#!/bin/true\n"), 0o755)
	os.WriteFile(filepath.Join(tree, "lib", "libodbc.so.2"), []byte("elf"), 0o755)
	os.Symlink("aku", filepath.Join(tree, "bin", "aku-start"))
	return tree
}

func untar(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, h.Name)
		if h.Typeflag == tar.TypeDir {
			os.MkdirAll(p, 0o755)
			continue
		}
		b, _ := io.ReadAll(tr)
		os.WriteFile(p, b, 0o644)
	}
}

// The archive is both an OCI layout (ctr images import) and a docker save
// archive (docker load), with the tree at /opt/aku, the entrypoint, the
// user and the labels; and it is reproducible.
func TestImageArchive(t *testing.T) {
	tree := fakeTree(t)
	out := filepath.Join(t.TempDir(), "img.tar")
	o := options{tree: tree, out: out, tag: "example.org/aku:v1.2.3", version: "v1.2.3", commit: "abc1234",
		source: "https://example.org/aku", created: time.Unix(1700000000, 0).UTC()}
	if err := run(o); err != nil {
		t.Fatal(err)
	}
	// Docker's view.
	ref, _ := name.NewTag(o.tag)
	img, err := tarball.ImageFromPath(out, &ref)
	if err != nil {
		t.Fatalf("docker view: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.Entrypoint[0] != "/opt/aku/bin/aku" || cf.Config.User != user || cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("config %+v", cf.Config)
	}
	for k, want := range map[string]string{"org.opencontainers.image.version": "v1.2.3",
		"org.opencontainers.image.revision": "abc1234", "org.opencontainers.image.source": "https://example.org/aku"} {
		if cf.Config.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, cf.Config.Labels[k], want)
		}
	}
	layers, _ := img.Layers()
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	rc, _ := layers[0].Uncompressed()
	defer rc.Close()
	got := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = h
	}
	if h := got["opt/aku/bin/aku"]; h == nil || h.Mode != 0o755 || h.Uid != 0 {
		t.Errorf("opt/aku/bin/aku = %+v", h)
	}
	if h := got["opt/aku/bin/aku-start"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "aku" {
		t.Errorf("opt/aku/bin/aku-start = %+v, want a link to aku", h)
	}
	if got["opt/aku/lib/libodbc.so.2"] == nil {
		t.Error("lib missing")
	}
	// The OCI layout's view.
	dir := t.TempDir()
	untar(t, out, dir)
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("OCI view: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 1 || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "v1.2.3" {
		t.Fatalf("index %+v, %v", im, err)
	}
	// Reproducible.
	again := filepath.Join(t.TempDir(), "img.tar")
	o.out = again
	if err := run(o); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("two builds of the same tree differ")
	}
}

func TestRefusesAMissingTree(t *testing.T) {
	if err := run(options{tree: t.TempDir(), out: filepath.Join(t.TempDir(), "x.tar"), tag: "aku:x"}); err == nil {
		t.Fatal("no error for a tree without bin/aku")
	}
}
