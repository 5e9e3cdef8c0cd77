// Command altibase-sim runs one simulated Altibase server (see package
// altibasetest) until SIGTERM or SIGINT, then stops it gracefully.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "altibase-sim:", err)
		os.Exit(1)
	}
}
