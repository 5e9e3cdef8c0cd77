package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/aku-k8s/aku/lifecycle/config"
)

// writeInfo prints the -i report in the original aku's layout, quirks
// included (the first rule's extra space, "Serve[ID:n]"). The Server block
// describes pod 0, as the manual's example; then every pod's replication
// list (all groups, group by group) and every group's items. The password
// prints as ******** unless showPassword.
func writeInfo(w io.Writer, c *config.Config, showPassword bool) error {
	pw := config.Masked
	if showPassword {
		pw = c.SysPassword.Reveal()
	}
	const rule = " #########################\n"
	var b strings.Builder
	b.WriteString(" " + rule)
	b.WriteString(" [ Server ]\n")
	fmt.Fprintf(&b, "  Server ID        : %d\n", 0)
	fmt.Fprintf(&b, "  Host             : %s\n", c.Host(0))
	fmt.Fprintf(&b, "  User             : %s\n", config.User)
	fmt.Fprintf(&b, "  Password         : %s\n", pw)
	fmt.Fprintf(&b, "  Port             : %d\n", c.PortNo)
	fmt.Fprintf(&b, "  Replication Port : %d\n", c.ReplicationPortNo)
	fmt.Fprintf(&b, "  Max Server Count : %d\n", c.ServerCount)
	b.WriteString(rule)
	b.WriteString(" [ Replications ]\n")
	for pod, reps := range c.AllReplications() {
		fmt.Fprintf(&b, " #### Serve[ID:%d] Replication list ####\n", pod)
		for _, r := range reps {
			fmt.Fprintf(&b, "  Replication Name : %s\n", r.Name)
		}
	}
	b.WriteString(rule)
	b.WriteString(" [ Replication Items ]\n")
	for gi, g := range c.Groups {
		if gi > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  #### Replication [Prefix:%s] item list ####\n", g.Prefix)
		for ti, t := range g.Items {
			if ti > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "  User Name        : %s\n", t.User)
			fmt.Fprintf(&b, "  Table Name       : %s\n", t.Table)
			if t.Partition != "" {
				fmt.Fprintf(&b, "  Partition Name   : %s\n", t.Partition)
			}
		}
	}
	b.WriteString(rule)
	_, err := io.WriteString(w, b.String())
	return err
}
