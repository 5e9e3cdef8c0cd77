package scenarios_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/cmd/internal/altibaselc"
	"github.com/aku-k8s/aku/lifecycle"
)

// status reads every pod as aku status does and builds the report.
func (c *cluster) status() lifecycle.MeshReport {
	c.t.Helper()
	views := make([]lifecycle.ServerView, c.n)
	for i := range views {
		m := lifecycle.Member{Position: i, Name: fmt.Sprintf("altibase-sts-%d", i), Host: c.host(i)}
		views[i] = altibaselc.ReadServer(bounded(c.t), m, c.port, altibase.Options{
			Dialect: altibase.DialectSimulator, Password: "manager", LoginTimeout: 5 * time.Second,
		})
	}
	return lifecycle.Report(c.groups, views)
}

// aku status over the real ODBC stack: ordinary SYS sessions, so a DBA's
// (or a hook's) SYSDBA session is never in its way nor taken by it; a hole
// is named; a pod still in ADMIN_MODE = 1 is read as SYSDBA and says so.
func TestStatusReadsTheMeshWithoutTheSYSDBASlot(t *testing.T) {
	c := newCluster(t, 4, oneGroup())
	upTo(c, 3)
	dbas := []*session{c.open(0, true), c.open(1, true), c.open(2, true)} // every SYSDBA slot of the joined pods taken
	r := c.status()
	for i, s := range r.Servers[:3] {
		if s.Error != "" || s.Session != "SYS" || !s.Joined {
			t.Errorf("pod-%d: %+v", i, s)
		}
	}
	if r.Complete || !strings.Contains(r.Verdict, "altibase-sts-3 has not joined") {
		t.Errorf("verdict %q, want pod-3 (ADMIN_MODE = 1, never started) not joined", r.Verdict)
	}
	if s := r.Servers[3]; s.Session != "SYSDBA" || s.Joined {
		t.Errorf("pod-3: %+v, want read as SYSDBA and not joined", s)
	}
	for _, p := range r.Pairs {
		if p.A < 3 && p.B < 3 && p.State != lifecycle.PairReplicating {
			t.Errorf("pair %d-%d: %s (%+v / %+v)", p.A, p.B, p.State, p.AB, p.BA)
		}
	}
	for _, d := range dbas {
		d.Close()
	}
	// A hole: pod-1's sender toward pod-2 stopped behind aku's back.
	p1 := c.client(1)
	if err := p1.Stop(bounded(t), "AKU_REP_12"); err != nil {
		t.Fatal(err)
	}
	p1.Close()
	r = c.status()
	if r.Complete || !strings.Contains(r.Verdict, "AKU_REP_12 on altibase-sts-1 not started") {
		t.Errorf("verdict %q, want the stopped direction named", r.Verdict)
	}
}
