// Command aku is the Altibase Kubernetes Utility; see README.md. It is a
// multi-call binary: started as aku-start or aku-end (links to it), it is
// the postStart or preStop hook.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/aku-k8s/aku/cmd/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Dispatch(ctx, os.Args)
	stop()
	os.Exit(code)
}
