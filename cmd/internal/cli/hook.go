package cli

import (
	"context"
	"io"
	"os"
)

// HookMain is Main for the Kubernetes hooks (aku-start as postStart,
// aku-end as preStop): `aku -p <action> args...`, with its output also
// written to PID 1's standard output. The kubelet shows a hook's own output
// only in a FailedPostStartHook/FailedPreStopHook event; PID 1's output is
// what `kubectl logs` shows. Outside a pod (no KUBERNETES_SERVICE_HOST),
// or where PID 1's stdout cannot be opened (not permitted, or it is this
// process's own stdout), the hook prints only to its own.
func HookMain(ctx context.Context, action string, args []string) int {
	out := io.Writer(os.Stdout)
	if pid1 := openPID1Stdout(); pid1 != nil {
		defer pid1.Close()
		out = io.MultiWriter(os.Stdout, pid1)
	}
	return mainWith(ctx, append([]string{"-p", action}, args...), out, os.Stderr)
}

func openPID1Stdout() *os.File {
	if os.Getpid() == 1 || os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
		return nil
	}
	f, err := os.OpenFile("/proc/1/fd/1", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil
	}
	own, err1 := os.Stdout.Stat()
	other, err2 := f.Stat()
	if err1 == nil && err2 == nil && os.SameFile(own, other) {
		f.Close()
		return nil
	}
	return f
}
