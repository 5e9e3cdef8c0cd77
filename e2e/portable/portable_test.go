// Package portable_test proves the install tree `make dist` builds
// (dist/aku: bin/aku, the aku-start and aku-end links, lib/ with unixODBC's
// driver manager) is what docs/portable-binaries.md says: it runs in an x86-64
// Linux container with an older glibc than the build host's, loading that
// container's own ODBC driver.
//
// The container is a Debian 11 root filesystem (glibc 2.31, `make rootfs`)
// that has psqlODBC but no driver manager; the tree is copied into it and run
// there with chroot (in a private mount and PID namespace with its own /proc,
// as a container has) against two simulated Altibase servers on the host's
// loopback addresses. Needs root; `make test` builds both prerequisites
// first (`make dist`, `make rootfs`) and a missing one fails the test naming
// its target. -short skips the chroot test.
package portable_test

import (
	"bytes"
	"context"
	"database/sql"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/alexbrainman/odbc"

	"github.com/aku-k8s/aku/altibase/altibasetest"
	"github.com/aku-k8s/aku/e2e/framework"
)

const (
	// glibcFloor is the oldest glibc the tree must run with.
	glibcFloor = "2.17"
	// maxTreeBytes bounds what the init container copies into every pod.
	maxTreeBytes = 50 << 20
	// rootfsDriver is the root filesystem's own psqlODBC driver (bullseye's
	// odbc-postgresql), as AKU_ODBC_DRIVER names it inside the chroot.
	rootfsDriver = "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so"
)

// glibcSonames are the libraries a container's glibc provides: the only
// ones the tree may need from outside itself.
var glibcSonames = []string{
	"libc.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libm.so.6",
	"libresolv.so.2", "libutil.so.1", "libanl.so.1", "ld-linux-x86-64.so.2",
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// distTree is the install tree under test: $AKU_DIST, else dist/aku.
func distTree(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("AKU_DIST")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "dist", "aku")
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", "aku")); err != nil {
		t.Fatalf("no install tree: %v\nrun `make dist` first (`make test` does), or set AKU_DIST", err)
	}
	return dir
}

// rootfsDir is the cached Debian 11 root filesystem of `make rootfs`:
// $AKU_ROOTFS, else where build/rootfs.sh keeps it.
func rootfsDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("AKU_ROOTFS"); dir != "" {
		return dir
	}
	out, err := exec.Command("bash", filepath.Join(repoRoot(t), "build", "rootfs.sh"), "--path").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil {
		t.Fatalf("the Debian 11 root filesystem %s is not built: run `make rootfs` first (`make test` does), or set AKU_ROOTFS", dir)
	}
	return dir
}

// The tree's layout: exactly bin/aku, bin/aku-start -> aku, bin/aku-end ->
// aku and lib/; bin/aku finds lib/ through its RUNPATH, uses the standard
// loader (the container's), and needs nothing from outside the tree but
// glibc; all in at most 50 MiB.
func TestTreeLayout(t *testing.T) {
	tree := distTree(t)
	names := func(dir string) []string {
		entries, err := os.ReadDir(filepath.Join(tree, dir))
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, e := range entries {
			n = append(n, e.Name())
		}
		return n
	}
	if got := names("."); !slices.Equal(got, []string{"bin", "lib"}) {
		t.Errorf("top level: %v, want [bin lib]", got)
	}
	if got := names("bin"); !slices.Equal(got, []string{"aku", "aku-end", "aku-start"}) {
		t.Errorf("bin/: %v, want [aku aku-end aku-start]", got)
	}
	if fi, err := os.Lstat(filepath.Join(tree, "bin", "aku")); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		t.Errorf("bin/aku is not an executable file: %v %v", fi, err)
	}
	for _, link := range []string{"aku-start", "aku-end"} {
		if target, err := os.Readlink(filepath.Join(tree, "bin", link)); err != nil || target != "aku" {
			t.Errorf("bin/%s: link to %q (%v), want a relative link to aku", link, target, err)
		}
	}
	libs := names("lib")
	if !slices.Contains(libs, "libodbc.so.2") {
		t.Errorf("lib/: %v, lacks libodbc.so.2", libs)
	}

	f, err := elf.Open(filepath.Join(tree, "bin", "aku"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rp, _ := f.DynString(elf.DT_RUNPATH); !slices.Equal(rp, []string{"$ORIGIN/../lib"}) {
		rpath, _ := f.DynString(elf.DT_RPATH)
		t.Errorf("bin/aku: RUNPATH %q (RPATH %q), want [$ORIGIN/../lib]", rp, rpath)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, _ := io.ReadAll(p.Open())
			if interp := string(bytes.TrimRight(b, "\x00")); interp != "/lib64/ld-linux-x86-64.so.2" {
				t.Errorf("bin/aku: interpreter %q, want the standard /lib64/ld-linux-x86-64.so.2", interp)
			}
		}
	}
	// What each object needs must be glibc or in lib/.
	objects := []string{filepath.Join(tree, "bin", "aku")}
	for _, l := range libs {
		objects = append(objects, filepath.Join(tree, "lib", l))
	}
	for _, o := range objects {
		needed, err := neededOf(o)
		if err != nil {
			t.Errorf("%s: %v", o, err)
			continue
		}
		for _, n := range needed {
			if !slices.Contains(glibcSonames, n) && !slices.Contains(libs, n) {
				t.Errorf("%s needs %s, which is neither glibc nor in lib/", o, n)
			}
		}
		if o == objects[0] && !slices.Contains(needed, "libodbc.so.2") {
			t.Errorf("bin/aku does not need libodbc.so.2 (needs %v)", needed)
		}
	}

	var size int64
	err = filepath.WalkDir(tree, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			size += fi.Size()
		} else if !d.IsDir() && d.Type()&fs.ModeSymlink == 0 {
			t.Errorf("%s: neither a file, a directory nor a link", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tree %s: %d bytes (%.1f MiB)", tree, size, float64(size)/(1<<20))
	if size > maxTreeBytes {
		t.Errorf("tree holds %d bytes, more than %d (50 MiB)", size, maxTreeBytes)
	}
}

func neededOf(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.DynString(elf.DT_NEEDED)
}

// No ELF object in the tree needs a glibc symbol version above the floor
// (build/elfcheck, debug/elf).
func TestTreeGlibcFloor(t *testing.T) {
	tree := distTree(t)
	cmd := exec.Command("go", "run", "github.com/aku-k8s/aku/build/elfcheck", "-floor", glibcFloor, tree)
	out, err := cmd.CombinedOutput()
	t.Logf("elfcheck -floor %s:\n%s", glibcFloor, out)
	if err != nil {
		t.Fatalf("the tree needs a glibc newer than %s: %v", glibcFloor, err)
	}
}

// rootfs runs commands in the Debian 11 root filesystem.
type rootfs struct {
	t    *testing.T
	root string // on the host
}

// run runs argv in the root filesystem with only env (and a PATH), as root,
// in private mount and PID namespaces with a fresh /proc (glibc resolves
// $ORIGIN through /proc/self/exe; a container always has /proc). Nothing it
// mounts outlives it, and it is killed if the test dies.
func (r *rootfs) run(env []string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := append([]string{"--mount", "--pid", "--fork", "--kill-child",
		"--mount-proc=" + filepath.Join(r.root, "proc"), "chroot", r.root}, argv...)
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	r.t.Logf("chroot %s: %s (%v)\n%s", filepath.Base(r.root), strings.Join(argv, " "), err, out.String())
	return out.String(), err
}

// copyTree copies the install tree as an init container would: files with
// their modes, links as links.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(to, fi.Mode().Perm())
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		default:
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(to, b, fi.Mode().Perm())
		}
	})
}

func glibcVersion(s string) ([]int, error) {
	var v []int
	for _, p := range strings.Split(s, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("glibc version %q", s)
		}
		v = append(v, n)
	}
	return v, nil
}

func freePortOn(t *testing.T, host string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func podIP(i int) string { return fmt.Sprintf("127.0.4.%d", 10+i) }

// The proof: copied into a Debian 11 root filesystem (glibc 2.31, no driver
// manager of its own), the tree runs `aku -v`, then `aku-start` (the link)
// of pod-0 and a join of pod-1 against two simulated Altibase servers,
// loading that root filesystem's own psqlODBC driver; pod-1 receives pod-0's
// rows and both replications run.
func TestTreeRunsInOlderRootFilesystem(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: chroots and starts servers")
	}
	if os.Geteuid() != 0 {
		t.Fatal("needs root (chroot and mount namespaces); `make test` runs as root in CI")
	}
	tree := distTree(t)
	r := &rootfs{t: t, root: rootfsDir(t)}
	for _, tool := range []string{"unshare", "chroot"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s (util-linux, coreutils) is missing: %v", tool, err)
		}
	}
	if err := altibasetest.DriverInstalled(); err != nil {
		t.Fatal(err) // the host's psqlODBC creates the tables: make deps
	}

	// The root filesystem is what the test says it is: an older glibc than
	// a Debian 12 build needs (GLIBC_2.34), no unixODBC driver manager, the
	// driver.
	out, err := r.run(nil, "getconf", "GNU_LIBC_VERSION")
	if err != nil {
		t.Fatalf("getconf in the root filesystem: %v", err)
	}
	v, err := glibcVersion(strings.TrimPrefix(strings.TrimSpace(out), "glibc "))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Compare(v, []int{2, 34}) >= 0 {
		t.Fatalf("the root filesystem has glibc %v: not older than the 2.34 a Debian 12 build needs, it proves nothing", v)
	}
	for _, dir := range []string{"lib", "usr/lib", "lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "usr/local/lib"} {
		if m, _ := filepath.Glob(filepath.Join(r.root, dir, "libodbc.so*")); len(m) > 0 {
			t.Fatalf("the root filesystem has a driver manager of its own (%v): it would not prove that aku brings one", m)
		}
	}
	if _, err := os.Stat(filepath.Join(r.root, rootfsDriver)); err != nil {
		t.Fatalf("the root filesystem lacks its psqlODBC driver: %v (rebuild it: make rootfs)", err)
	}

	// The tree, copied into the root filesystem.
	work, err := os.MkdirTemp(filepath.Join(r.root, "tmp"), "aku-portable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	if err := os.Chmod(work, 0o755); err != nil {
		t.Fatal(err)
	}
	in := "/" + strings.TrimPrefix(strings.TrimPrefix(work, r.root), "/") // work, as seen inside
	if err := copyTree(tree, filepath.Join(work, "aku")); err != nil {
		t.Fatal(err)
	}
	bin := in + "/aku/bin/"

	out, err = r.run(nil, bin+"aku", "-v")
	if err != nil || !strings.HasPrefix(out, "aku version ") {
		t.Fatalf("aku -v in the root filesystem: %v", err)
	}

	// Two simulated Altibase servers on the host's loopback, which the
	// chroot shares.
	port, replPort := freePortOn(t, podIP(0)), freePortOn(t, podIP(0))
	var servers []*altibasetest.Server
	for i := 0; i < 2; i++ {
		s := altibasetest.NewServer(t, altibasetest.Options{Name: fmt.Sprintf("pod-%d", i), Host: podIP(i), Port: port,
			ReplicationPort: replPort, Properties: map[string]int64{"ADMIN_MODE": 1, "REMOTE_SYSDBA_ENABLE": 1}})
		exec1(t, s, true, "CREATE TABLE T1 (ID INTEGER, V VARCHAR(20), PRIMARY KEY (ID))")
		servers = append(servers, s)
	}
	conf := fmt.Sprintf(`# aku.conf of e2e/portable: two pods on loopback, the root filesystem's own driver
AKU_STS_NAME = altibase-sts
AKU_SVC_NAME = altibase-svc
AKU_SERVER_COUNT = 2
AKU_SYS_PASSWORD = manager
AKU_PORT_NO = %d
AKU_REPLICATION_PORT_NO = %d
AKU_QUERY_TIMEOUT = 60
AKU_QUERY_RETRY_DELAY_MSEC = 50
AKU_ADDRESS_CHECK_COUNT = 3
AKU_FLUSH_TIMEOUT_AT_START = 30
AKU_HOST_FORMAT = 127.0.4.1{ordinal}
AKU_ODBC_DIALECT = simulator
AKU_ODBC_DRIVER = %s
AKU_DISCOVERY = dns
REPLICATIONS = ( REPLICATION_NAME_PREFIX = AKU_REP  SYNC_PARALLEL_COUNT = 2 ( SYS.T1 ) )
`, port, replPort, rootfsDriver)
	if err := os.WriteFile(filepath.Join(work, "aku.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(pod int) []string {
		return []string{
			"AKU_CONF=" + in + "/aku.conf",
			fmt.Sprintf("POD_NAME=altibase-sts-%d", pod),
			fmt.Sprintf("AKU_MARKER_FILE=%s/aku_start_completed.%d", in, pod),
		}
	}

	// pod-0 through the aku-start link (the postStart hook's command).
	out, err = r.run(env(0), bin+"aku-start")
	if err != nil || !strings.Contains(out, "AKU run successfully.") {
		t.Fatalf("aku-start of pod-0 in the root filesystem: %v", err)
	}
	for k := 0; k < 100; k++ {
		exec1(t, servers[0], false, fmt.Sprintf("INSERT INTO T1 VALUES (%d, 'row %d')", k, k))
	}
	// pod-1 joins: its replication with pod-0, and pod-0's rows by SYNC.
	out, err = r.run(env(1), bin+"aku", "-p", "start")
	if err != nil || !strings.Contains(out, "AKU run successfully.") {
		t.Fatalf("aku -p start of pod-1 in the root filesystem: %v", err)
	}
	for i, s := range servers {
		if n := framework.RowCount(t, s, "T1"); n != 100 {
			t.Errorf("pod-%d holds %d rows, want 100", i, n)
		}
		if st := framework.ReplicationState(t, s, "AKU_REP_01"); !st.IsStarted {
			t.Errorf("pod-%d: AKU_REP_01 not started: %+v", i, st)
		}
		if _, err := os.Stat(filepath.Join(work, fmt.Sprintf("aku_start_completed.%d", i))); err != nil {
			t.Errorf("pod-%d: no marker file: %v", i, err)
		}
	}
}

func exec1(t *testing.T, s *altibasetest.Server, sysdba bool, stmt string) {
	t.Helper()
	db, err := sql.Open("odbc", s.ConnString(sysdba))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}
