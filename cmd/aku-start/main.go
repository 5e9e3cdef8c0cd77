// Command aku-start is "aku -p start", for a postStart hook.
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
	code := cli.HookMain(ctx, "start", os.Args[1:])
	stop()
	os.Exit(code)
}
