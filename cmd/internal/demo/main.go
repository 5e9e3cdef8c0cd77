// Command demo is `make demo`: three simulated Altibase pods on loopback
// addresses, scaled up with `aku -p start` one after the other while an
// application writes rows, then pod 2 scaled away with `aku -p end`. It
// prints aku's own output, each pod's replication state and row counts, and
// exits 0 only if every pod converged to the same rows.
//
// It runs the built binaries (bin/aku, bin/altibase-sim) as separate
// processes, the way pods run them.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/alexbrainman/odbc"

	"github.com/aku-k8s/aku/altibase/altibasetest"
)

const (
	pods     = 3
	port     = 20300
	replPort = 20301
	password = "manager"
)

func host(i int) string { return fmt.Sprintf("127.0.2.1%d", i) }

func main() {
	bin := flag.String("bin", "bin", "directory holding aku and altibase-sim")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type demo struct {
	bin, dir, conf string
	sims           []*exec.Cmd
	out            io.Writer
}

func run(ctx context.Context, bin string) error {
	if err := altibasetest.DriverInstalled(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "aku-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d := &demo{bin: bin, dir: dir, out: os.Stdout}
	defer d.stopSims()

	d.section("Starting %d simulated Altibase servers (ADMIN_MODE=1, as pods boot)", pods)
	for i := 0; i < pods; i++ {
		if err := d.startSim(ctx, i); err != nil {
			return err
		}
		if err := d.exec(i, true, "CREATE TABLE T1 (ID INTEGER, V VARCHAR(40), PRIMARY KEY (ID))"); err != nil {
			return err
		}
	}
	conf := filepath.Join(dir, "aku.conf")
	if err := os.WriteFile(conf, []byte(akuConf), 0o600); err != nil {
		return err
	}
	d.conf = conf

	var writers []*writer
	for i := 0; i < pods; i++ {
		if i == pods-1 {
			d.section("aku plan start on altibase-sts-%d: what the start will do, changing nothing", i)
			d.plan(ctx, i, "start")
		}
		d.section("aku -p start on altibase-sts-%d", i)
		if err := d.aku(ctx, conf, i, "start"); err != nil {
			return err
		}
		w, err := d.newWriter(i)
		if err != nil {
			return err
		}
		writers = append(writers, w)
		if i == 0 {
			w.burst(500) // data the next pods must receive by SYNC
		}
		w.start() // keeps writing while the next pods join
		time.Sleep(300 * time.Millisecond)
	}
	for _, w := range writers {
		w.stop()
	}
	d.section("Mesh of %d pods, after the application's writes", pods)
	if err := d.waitConverged(ctx, []int{0, 1, 2}); err != nil {
		return err
	}
	d.report([]int{0, 1, 2}, writers)

	d.section("aku plan end on altibase-sts-2")
	d.plan(ctx, 2, "end")
	d.section("aku -p end on altibase-sts-2 (scale 3 to 2)")
	if err := d.aku(ctx, conf, 2, "end"); err != nil {
		return err
	}
	writers[0].burst(100)
	if err := d.waitConverged(ctx, []int{0, 1}); err != nil {
		return err
	}
	d.section("After the scale-down")
	d.report([]int{0, 1, 2}, writers)
	d.section("Demo finished: every live pod holds the same rows")
	return nil
}

func (d *demo) section(format string, args ...any) {
	fmt.Fprintf(d.out, "\n=== "+format+" ===\n", args...)
}

// startSim runs bin/altibase-sim for pod i and waits for its ready line.
func (d *demo) startSim(ctx context.Context, i int) error {
	cmd := exec.CommandContext(ctx, filepath.Join(d.bin, "altibase-sim"),
		"--name", fmt.Sprintf("altibase-sts-%d", i),
		"--listen", fmt.Sprintf("%s:%d", host(i), port),
		"--replication-listen", fmt.Sprintf("%s:%d", host(i), replPort),
		"--data", filepath.Join(d.dir, fmt.Sprintf("data-%d", i)),
		"--sys-password", password,
		"--property", "ADMIN_MODE=1", "--property", "REMOTE_SYSDBA_ENABLE=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start altibase-sim (run make build first): %w", err)
	}
	d.sims = append(d.sims, cmd)
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case ready <- sc.Text():
			default:
			}
		}
	}()
	select {
	case line := <-ready:
		fmt.Fprintln(d.out, line)
		return nil
	case <-time.After(15 * time.Second):
		return fmt.Errorf("altibase-sim %d did not report ready", i)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *demo) stopSims() {
	for _, c := range d.sims {
		if c.Process != nil {
			c.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, c := range d.sims {
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			c.Process.Kill()
		}
	}
}

// aku runs bin/aku -p action as pod i would, printing its output.
func (d *demo) aku(ctx context.Context, conf string, i int, action string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(d.bin, "aku"), "-p", action)
	cmd.Env = append(os.Environ(),
		"AKU_CONF="+conf,
		fmt.Sprintf("POD_NAME=altibase-sts-%d", i),
		"AKU_MARKER_FILE="+filepath.Join(d.dir, fmt.Sprintf("aku_start_completed.%d", i)),
		"AKU_ODBC_DRIVER="+altibasetest.PsqlODBCDriver,
	)
	cmd.Stdout, cmd.Stderr = d.out, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("aku -p %s on pod %d: %w", action, i, err)
	}
	fmt.Fprintf(d.out, "(aku -p %s took %s)\n", action, time.Since(start).Round(time.Millisecond))
	return nil
}

func (d *demo) exec(i int, sysdba bool, stmt string) error {
	db, err := sql.Open("odbc", altibasetest.ConnString(host(i), port, "SYS", password, sysdba))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(stmt)
	return err
}

// writer is the application: it inserts rows on one pod.
type writer struct {
	pod  int
	db   *sql.DB
	mu   sync.Mutex
	next int
	ok   int
	quit chan struct{}
	done chan struct{}
}

func (d *demo) newWriter(i int) (*writer, error) {
	db, err := sql.Open("odbc", altibasetest.ConnString(host(i), port, "SYS", password, false))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &writer{pod: i, db: db, next: i * 1_000_000}, nil
}

func (w *writer) insert() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.next++
	if _, err := w.db.Exec(fmt.Sprintf("INSERT INTO T1 (ID, V) VALUES (%d, 'written on pod %d')", w.next, w.pod)); err == nil {
		w.ok++
	}
}

func (w *writer) burst(n int) {
	for i := 0; i < n; i++ {
		w.insert()
	}
}

func (w *writer) start() {
	w.quit, w.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.quit:
				return
			default:
				w.insert()
				time.Sleep(2 * time.Millisecond)
			}
		}
	}()
}

func (w *writer) stop() {
	if w.quit != nil {
		close(w.quit)
		<-w.done
		w.quit = nil
	}
}

func (d *demo) count(i int) (int, error) {
	db, err := sql.Open("odbc", altibasetest.ConnString(host(i), port, "SYS", password, true))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT COUNT(*) FROM T1").Scan(&n)
	return n, err
}

func (d *demo) waitConverged(ctx context.Context, live []int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var counts []int
		same := true
		for _, i := range live {
			n, err := d.count(i)
			if err != nil && !strings.Contains(err.Error(), "ERR-41041") {
				return err
			}
			counts = append(counts, n)
			same = same && err == nil && n == counts[0]
		}
		if same {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pods %v did not converge: row counts %v", live, counts)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// report prints each pod's replication objects and row count.
// plan runs the real `aku plan ACTION` as pod i.
func (d *demo) plan(ctx context.Context, i int, action string) {
	fmt.Fprintf(d.out, "$ aku plan %s\n", action)
	cmd := exec.CommandContext(ctx, filepath.Join(d.bin, "aku"), "plan", action)
	cmd.Env = append(os.Environ(),
		"AKU_CONF="+d.conf,
		fmt.Sprintf("POD_NAME=altibase-sts-%d", i),
		"AKU_MARKER_FILE="+filepath.Join(d.dir, fmt.Sprintf("aku_start_completed.%d", i)),
		"AKU_ODBC_DRIVER="+altibasetest.PsqlODBCDriver,
	)
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(d.out, "(aku plan: %v)\n", err)
	}
}

func (d *demo) report(all []int, writers []*writer) {
	total := 0
	for _, w := range writers {
		total += w.ok
	}
	fmt.Fprintf(d.out, "rows acknowledged to the application: %d\n", total)
	for _, i := range all {
		n, err := d.count(i)
		if err != nil {
			fmt.Fprintf(d.out, "altibase-sts-%d: %v\n", i, err)
			continue
		}
		fmt.Fprintf(d.out, "altibase-sts-%d  rows=%d\n", i, n)
	}
	fmt.Fprintln(d.out, "\n$ aku status")
	d.status()
}

// status runs the real `aku status` (ordinary SYS sessions: it takes no
// pod's SYSDBA slot). Its exit status is 1 while the mesh is incomplete,
// as after the scale-down, where pod-2 no longer takes part.
func (d *demo) status() {
	cmd := exec.Command(filepath.Join(d.bin, "aku"), "status")
	cmd.Env = append(os.Environ(), "AKU_CONF="+d.conf, "AKU_ODBC_DRIVER="+altibasetest.PsqlODBCDriver)
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(d.out, "(aku status: %v)\n", err)
	}
}

const akuConf = `# aku.conf of the demo: three pods on loopback addresses
AKU_STS_NAME                  = altibase-sts
AKU_SVC_NAME                  = altibase-svc
AKU_SERVER_COUNT              = 3
AKU_SYS_PASSWORD              = manager
AKU_PORT_NO                   = 20300
AKU_REPLICATION_PORT_NO       = 20301
AKU_QUERY_TIMEOUT             = 60
AKU_QUERY_RETRY_COUNT         = 5
AKU_QUERY_RETRY_DELAY_MSEC    = 100
AKU_ADDRESS_CHECK_COUNT       = 3
AKU_FLUSH_AT_START            = 1
AKU_FLUSH_TIMEOUT_AT_START    = 30
AKU_DELAY_START_COMPLETE_TIME = 0
AKU_FLUSH_AT_END              = 1
AKU_REPLICATION_RESET_AT_END  = 1
# extensions: pods are loopback addresses, the server is the simulator
AKU_HOST_FORMAT               = 127.0.2.1{ordinal}
AKU_ODBC_DIALECT              = simulator
REPLICATIONS = (
    REPLICATION_NAME_PREFIX = AKU_REP
    SYNC_PARALLEL_COUNT     = 2
    (
        SYS.T1
    )
)
`
