package scenarios_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase/altibasetest"
)

// memoryFigures are the real binaries' sizes and peak RSS.
type memoryFigures struct {
	bins  []binaryFigures
	floor int64 // KiB: what the maxrss helper itself lends a child (its run of /bin/true)
	err   error // the helper could not be built or run
}

type binaryFigures struct {
	label    string
	size     int64 // the binary
	tree     int64 // the install tree it belongs to (0: not an install tree)
	rssStart int64 // KiB, max over the four starts
	rssEnd   int64 // KiB
	err      error
}

// measureMemory runs bin/aku (AKU_BENCH_BIN, else a fresh build) and, if
// present, the install tree's (AKU_BENCH_DIST, else dist/aku) through
// start on pods 0-3 and end on pod-3.
func measureMemory(b *testing.B, rows int) memoryFigures {
	var m memoryFigures
	helper := filepath.Join(b.TempDir(), "maxrss")
	if out, err := exec.Command("go", "build", "-o", helper, "./testdata/maxrss").CombinedOutput(); err != nil {
		m.err = fmt.Errorf("build the maxrss helper: %v: %s", err, out)
		return m
	}
	if m.floor, m.err = maxRSS(helper, exec.Command("/bin/true")); m.err != nil {
		return m
	}
	bin := os.Getenv("AKU_BENCH_BIN")
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "aku")
		cmd := exec.Command("go", "build", "-o", bin, "github.com/aku-k8s/aku/cmd/aku")
		if out, err := cmd.CombinedOutput(); err != nil {
			m.bins = append(m.bins, binaryFigures{label: "bin/aku", err: fmt.Errorf("go build: %v: %s", err, out)})
			bin = ""
		}
	}
	if bin != "" {
		m.bins = append(m.bins, measureBinary(b, helper, "bin/aku (`make build`)", bin, "", rows))
	}
	dist := os.Getenv("AKU_BENCH_DIST")
	if dist == "" {
		dist = filepath.Join("..", "..", "..", "dist", "aku")
	}
	if _, err := os.Stat(filepath.Join(dist, "bin", "aku")); err == nil {
		m.bins = append(m.bins, measureBinary(b, helper, "dist/aku/bin/aku (`make dist`, as found)", filepath.Join(dist, "bin", "aku"), dist, rows))
	}
	return m
}

func measureBinary(b *testing.B, helper, label, bin, tree string, rows int) binaryFigures {
	f := binaryFigures{label: label}
	st, err := os.Stat(bin)
	if err != nil {
		f.err = err
		return f
	}
	f.size = st.Size()
	if tree != "" {
		f.tree, f.err = treeSize(tree)
		if f.err != nil {
			return f
		}
	}
	servers, port, replPort, err := memoryServers(b)
	if err != nil {
		f.err = err
		return f
	}
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	for i, s := range servers {
		if err := execOn(s, "CREATE TABLE T1 (ID INTEGER, V VARCHAR(40), PRIMARY KEY (ID))"); err != nil {
			f.err = fmt.Errorf("pod-%d: %w", i, err)
			return f
		}
	}
	db, err := sql.Open("odbc", servers[0].ConnString(true))
	if err != nil {
		f.err = err
		return f
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(context.Background())
	if err != nil {
		db.Close()
		f.err = err
		return f
	}
	loadRows(b, &session{Conn: conn, db: db}, "T1", rows)

	dir := b.TempDir()
	conf := filepath.Join(dir, "aku.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(memoryConf, port, replPort)), 0o600); err != nil {
		f.err = err
		return f
	}
	run := func(pod int, action string, extra ...string) (int64, error) {
		cmd := exec.Command(bin, "-p", action)
		cmd.Env = append(cleanEnv(),
			"AKU_CONF="+conf,
			fmt.Sprintf("POD_NAME=altibase-sts-%d", pod),
			"AKU_MARKER_FILE="+filepath.Join(dir, fmt.Sprintf("aku_start_completed.%d", pod)),
			"AKU_ODBC_DRIVER="+altibasetest.PsqlODBCDriver)
		cmd.Env = append(cmd.Env, extra...)
		rss, err := maxRSS(helper, cmd)
		if err != nil {
			return 0, fmt.Errorf("aku -p %s on pod-%d: %w", action, pod, err)
		}
		return rss, nil
	}
	for pod := range 4 {
		rss, err := run(pod, "start")
		if err != nil {
			f.err = err
			return f
		}
		f.rssStart = max(f.rssStart, rss)
	}
	f.rssEnd, f.err = run(3, "end", "AKU_REPLICATION_RESET_AT_END=1")
	return f
}

// maxRSS runs cmd through the helper and returns its peak RSS in KiB.
func maxRSS(helper string, cmd *exec.Cmd) (int64, error) {
	f, err := os.CreateTemp("", "maxrss-*")
	if err != nil {
		return 0, err
	}
	f.Close()
	defer os.Remove(f.Name())
	cmd.Args = append([]string{helper, "-o", f.Name(), cmd.Path}, cmd.Args[1:]...)
	cmd.Path = helper
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%v\n%s", err, out.String())
	}
	text, err := os.ReadFile(f.Name())
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(text)), 10, 64)
}

// memoryConf is the aku.conf of the memory run: four pods on 127.0.5.1x.
const memoryConf = `AKU_STS_NAME                  = altibase-sts
AKU_SVC_NAME                  = altibase-svc
AKU_SERVER_COUNT              = 4
AKU_SYS_PASSWORD              = manager
AKU_PORT_NO                   = %d
AKU_REPLICATION_PORT_NO       = %d
AKU_QUERY_TIMEOUT             = 60
AKU_QUERY_RETRY_COUNT         = 2
AKU_QUERY_RETRY_DELAY_MSEC    = 50
AKU_ADDRESS_CHECK_COUNT       = 3
AKU_HOST_FORMAT               = 127.0.5.1{ordinal}
AKU_ODBC_DIALECT              = simulator
AKU_DISCOVERY                 = dns
REPLICATIONS = (
    REPLICATION_NAME_PREFIX = AKU_REP
    SYNC_PARALLEL_COUNT     = 2
    ( SYS.T1 )
)
`

// memoryServers starts four realistic-latency servers on 127.0.5.10-13,
// all on one service port and one replication port, as pods are.
func memoryServers(b *testing.B) ([]*altibasetest.Server, int, int, error) {
	var last error
	for range 5 {
		port, replPort := freePort(b, "127.0.5.10"), freePort(b, "127.0.5.10")
		if port == replPort {
			continue
		}
		var servers []*altibasetest.Server
		for i := range 4 {
			s := altibasetest.NewUnstartedServer(altibasetest.Options{
				Name: fmt.Sprintf("mem-%d", i), Host: fmt.Sprintf("127.0.5.1%d", i), Port: port, ReplicationPort: replPort,
				DataDir:    b.TempDir(),
				Properties: map[string]int64{"ADMIN_MODE": 1, "REMOTE_SYSDBA_ENABLE": 1},
				Profile:    altibasetest.Realistic(),
			})
			if last = s.Start(); last != nil {
				break
			}
			servers = append(servers, s)
		}
		if len(servers) == 4 {
			return servers, port, replPort, nil
		}
		for _, s := range servers {
			s.Close()
		}
	}
	return nil, 0, 0, fmt.Errorf("start the memory run's servers: %w", last)
}

func execOn(s *altibasetest.Server, stmt string) error {
	db, err := sql.Open("odbc", s.ConnString(true))
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// cleanEnv is the environment without aku's, Kubernetes' and unixODBC's
// variables, so that the child reads only what the run gives it.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AKU_") || strings.HasPrefix(name, "KUBERNETES_") ||
			name == "POD_NAME" || name == "POD_NAMESPACE" || name == "ODBCINI" || name == "ODBCSYSINI" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// treeSize adds the sizes of the regular files under dir (links count as
// nothing, as in an image layer they are a few bytes).
func treeSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}
