// Command aku-end is "aku -p end", for a preStop hook.
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
	code := cli.HookMain(ctx, "end", os.Args[1:])
	stop()
	os.Exit(code)
}
