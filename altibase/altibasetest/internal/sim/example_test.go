package sim_test

import (
	"context"
	"fmt"
	"net"

	"github.com/aku-k8s/aku/altibase/altibasetest/internal/sim"
)

// Two nodes replicating T: create the objects on both, START on A, write,
// FLUSH, read on B.
func Example() {
	ctx := context.Background()
	a, _ := sim.Open(sim.Options{Name: "pod-0", ReplicationAddr: "127.0.0.1:0"})
	defer a.Close()
	b, _ := sim.Open(sim.Options{Name: "pod-1", ReplicationAddr: "127.0.0.1:0"})
	defer b.Close()
	sa, _ := a.Login(sim.Login{User: "SYS", Password: "manager", SYSDBA: true})
	defer sa.Close()
	sb, _ := b.Login(sim.Login{User: "SYS", Password: "manager", SYSDBA: true})
	defer sb.Close()
	run := func(s *sim.Session, sql string) *sim.Result {
		res, err := s.Exec(ctx, sql)
		if err != nil {
			fmt.Println(err)
		}
		return res
	}
	with := func(n *sim.Node) string {
		h, p, _ := net.SplitHostPort(n.ReplicationAddr())
		return fmt.Sprintf("WITH '%s', %s", h, p)
	}
	for _, s := range []*sim.Session{sa, sb} {
		run(s, "CREATE TABLE T (ID INTEGER PRIMARY KEY, V VARCHAR(40))")
	}
	run(sa, "CREATE REPLICATION R "+with(b)+" FROM SYS.T TO SYS.T")
	run(sb, "CREATE REPLICATION R "+with(a)+" FROM SYS.T TO SYS.T")
	run(sa, "ALTER REPLICATION R START")
	run(sa, "INSERT INTO T VALUES (1, 'one'), (2, 'two')")
	run(sa, "ALTER REPLICATION R FLUSH ALL")
	fmt.Println(run(sb, "SELECT * FROM T ORDER BY ID").Rows)
	run(sa, "ALTER REPLICATION R START") // already running
	// Output:
	// [[1 one] [2 two]]
	// ERR-6100A : The sender has already been started.
}
