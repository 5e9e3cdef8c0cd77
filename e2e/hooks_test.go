package e2e_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/alexbrainman/odbc"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/aku-k8s/aku/altibase/altibasetest"
	"github.com/aku-k8s/aku/e2e/framework"
)

// buildHooks builds the shipped multi-call binary into a temporary
// directory, with aku-start and aku-end as links to it (as dist/aku/bin).
func buildHooks(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "aku"), "github.com/aku-k8s/aku/cmd/aku")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build aku: %v\n%s", err, out)
	}
	for _, hook := range []string{"aku-start", "aku-end"} {
		if err := os.Symlink("aku", filepath.Join(dir, hook)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func podIP(i int) string { return fmt.Sprintf("127.0.3.%d", 10+i) }

func freePortOn(t *testing.T, host string) int {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type hookEnv struct {
	t          *testing.T
	bin, conf  string
	kubeconfig string
	markers    string
}

// run runs a hook binary as pod i would, returning its output.
func (h *hookEnv) run(hook string, i int) (string, error) {
	cmd := exec.Command(filepath.Join(h.bin, hook))
	cmd.Env = append(os.Environ(),
		"AKU_CONF="+h.conf,
		fmt.Sprintf("POD_NAME=%s-%d", sts, i),
		"POD_NAMESPACE=db",
		"AKU_KUBECONFIG="+h.kubeconfig,
		"AKU_REPLICATION_RESET_AT_END=auto",
		"AKU_MARKER_FILE="+filepath.Join(h.markers, fmt.Sprintf("marker-%d", i)),
		"AKU_ODBC_DRIVER="+altibasetest.PsqlODBCDriver,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	h.t.Logf("%s on pod %d:\n%s", hook, i, out.String())
	return out.String(), err
}

// The shipped hooks, run as the pods of a real StatefulSet (created and
// scaled by the real controller manager) with only the manifests' Role,
// against simulated Altibase servers: each pod joins in turn, a scale-down
// resets, a restart keeps its state and comes back through the resume path.
func TestHooksOnARealStatefulSet(t *testing.T) {
	altibasetest.RequireDriver(t)
	cp := framework.Start(t, framework.Options{ControllerManager: true})
	bin := buildHooks(t)
	port := freePortOn(t, podIP(0))
	replPort := freePortOn(t, podIP(0))
	var servers []*altibasetest.Server
	for i := 0; i < 3; i++ {
		s := altibasetest.NewServer(t, altibasetest.Options{Name: fmt.Sprintf("pod-%d", i), Host: podIP(i), Port: port,
			ReplicationPort: replPort, Properties: map[string]int64{"ADMIN_MODE": 1, "REMOTE_SYSDBA_ENABLE": 1}})
		db, err := sql.Open("odbc", s.ConnString(true))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("CREATE TABLE T1 (ID INTEGER, V VARCHAR(20), PRIMARY KEY (ID))"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		servers = append(servers, s)
	}
	conf := filepath.Join(t.TempDir(), "aku.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`AKU_STS_NAME = altibase-sts
AKU_SVC_NAME = altibase-svc
AKU_SERVER_COUNT = 3
AKU_SYS_PASSWORD = manager
AKU_PORT_NO = %d
AKU_REPLICATION_PORT_NO = %d
AKU_QUERY_TIMEOUT = 60
AKU_QUERY_RETRY_DELAY_MSEC = 50
AKU_HOST_FORMAT = 127.0.3.1{ordinal}
AKU_ODBC_DIALECT = simulator
AKU_MASTER_READY_TIMEOUT = 30
REPLICATIONS = ( REPLICATION_NAME_PREFIX = AKU_REP  SYNC_PARALLEL_COUNT = 2 ( SYS.T1 ) )
`, port, replPort)), 0o600); err != nil {
		t.Fatal(err)
	}
	deploy(t, cp, "db", 0)
	admin := cp.Admin()
	h := &hookEnv{t: t, bin: bin, conf: conf, kubeconfig: cp.ServiceAccountKubeconfig("db", "aku"), markers: t.TempDir()}

	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("%s-%d", sts, i)
		framework.WaitPod(t, admin, "db", name, nil)
		framework.MarkPodRunning(t, admin, "db", name, podIP(i))
		out, err := h.run("aku-start", i)
		if err != nil {
			t.Fatalf("aku-start on %s: %v", name, err)
		}
		for _, want := range []string{"Discovery through the Kubernetes API.", "AKU run successfully."} {
			if !strings.Contains(out, want) {
				t.Errorf("aku-start on %s: output lacks %q", name, want)
			}
		}
		framework.MarkPodReady(t, admin, "db", name, podIP(i))
		if i == 0 {
			db, _ := sql.Open("odbc", servers[0].ConnString(false))
			for k := 0; k < 300; k++ {
				if _, err := db.Exec(fmt.Sprintf("INSERT INTO T1 VALUES (%d, 'x')", k)); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
		}
	}
	for i, s := range servers {
		if n := framework.RowCount(t, s, "T1"); n != 300 {
			t.Errorf("pod %d holds %d rows, want 300", i, n)
		}
	}

	// A restart of pod-1 (the StatefulSet keeps 3 replicas): reset skipped,
	// and it comes back through the resume path.
	if out, err := h.run("aku-end", 1); err != nil || !strings.Contains(out, "Replication reset skipped.") {
		t.Fatalf("aku-end on a restarting pod: %v", err)
	}
	if st := framework.ReplicationState(t, servers[0], "AKU_REP_01"); st.XSN == -1 {
		t.Errorf("pod-0's AKU_REP_01 was reset by a restart: %+v", st)
	}
	if out, err := h.run("aku-start", 1); err != nil || strings.Contains(out, "Truncate tables") {
		t.Fatalf("aku-start after a restart: err=%v (a kept state must not be truncated)", err)
	}

	// Scale 3 to 2: pod-2's preStop sees the scale-down and resets.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.AppsV1().StatefulSets("db").Patch(ctx, sts, types.MergePatchType, []byte(`{"spec":{"replicas":2}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.WaitPod(t, admin, "db", sts+"-2", func(p *corev1.Pod) bool { return p.DeletionTimestamp != nil })
	if out, err := h.run("aku-end", 2); err != nil || !strings.Contains(out, "Replication reset has ended.") {
		t.Fatalf("aku-end on scale-down: %v", err)
	}
	for i, name := range map[int]string{0: "AKU_REP_02", 1: "AKU_REP_12"} {
		if st := framework.ReplicationState(t, servers[i], name); st.XSN != -1 || st.IsStarted {
			t.Errorf("pod-%d %s after the scale-down = %+v, want stopped and reset", i, name, st)
		}
	}
	// The phases are Events on the pods.
	evs, err := admin.CoreV1().Events("db").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range evs.Items {
		seen[e.InvolvedObject.Name+"/"+e.Reason] = true
	}
	for _, want := range []string{sts + "-1/AkuSyncFinished", sts + "-2/AkuStarted", sts + "-1/AkuResetSkipped", sts + "-2/AkuReset"} {
		if !seen[want] {
			t.Errorf("no event %s (have %v)", want, seen)
		}
	}
}
