// Command pause is the sandbox (pause) container of the real-node e2e
// tests' pods, image aku.local/pause:e2e: PID 1 of the pod, holding its
// namespaces. It waits for SIGTERM or SIGINT and exits 0, and reaps the
// zombies re-parented to it (SIGCHLD, then wait4 until none is left), as
// registry.k8s.io/pause does. Built static (CGO_ENABLED=0) into a scratch
// image by `make node-images`: the tests need no registry.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-v" || os.Args[1] == "--version") {
		fmt.Println("aku e2e pause")
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "pause: warning: not PID 1")
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s == syscall.SIGCHLD {
			reap()
			continue
		}
		fmt.Fprintf(os.Stderr, "pause: %v, exiting\n", s)
		os.Exit(0)
	}
}

// reap collects every child that has exited; signals coalesce, so one
// SIGCHLD may stand for several of them.
func reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
