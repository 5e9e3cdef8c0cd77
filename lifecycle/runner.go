package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Runner runs start, end and clean for one pod.
type Runner struct {
	Opts      Options
	Discovery Discovery
	Dialer    Dialer
	Log       *slog.Logger
	// Intent classifies why the pod stops (end with ResetAuto); nil means
	// IntentUnknown, which never resets.
	Intent func(ctx context.Context) (Intent, string)
	// Sleep waits d or until ctx ends (time-based by default; tests shorten it).
	Sleep func(ctx context.Context, d time.Duration) error
	// Lock, when set, serialises start across pods (a Kubernetes Lease); the
	// release function gets a fresh bounded context.
	Lock func(ctx context.Context) (release func(context.Context) error, err error)
	// WaitReady, when set, waits until a member is Ready (Kubernetes
	// readiness); a slave waits for pod-0 before it syncs.
	WaitReady func(ctx context.Context, position int) error
	// Event, when set, reports a phase to the orchestrator (Pod Events).
	Event func(ctx context.Context, warning bool, reason, message string)
	// Checkpoint, when set, is called after each step of start with the
	// step's name; an error stops the run there, as a crash would. Tests use
	// it to inject crashes and to write rows inside a join's window.
	Checkpoint func(ctx context.Context, step string) error
}

func (r *Runner) checkpoint(ctx context.Context, step string) error {
	if r.Checkpoint == nil {
		return nil
	}
	if err := r.Checkpoint(ctx, step); err != nil {
		return fmt.Errorf("stopped after step %s: %w", step, err)
	}
	return nil
}

func (r *Runner) event(ctx context.Context, warning bool, reason, message string) {
	if r.Event != nil {
		r.Event(ctx, warning, reason, message)
	}
}

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

func (r *Runner) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// open discovers the pod and connects to every member; waitSelf waits for
// the local server to come up (start runs as the container starts).
func (r *Runner) open(ctx context.Context, waitSelf bool) (*mesh, error) {
	self, err := r.Discovery.Self(ctx)
	if err != nil {
		return nil, fmt.Errorf("discover this pod: %w", err)
	}
	members, err := r.Discovery.Members(ctx)
	if err != nil {
		return nil, fmt.Errorf("discover peers: %w", err)
	}
	return r.connect(ctx, self, members, waitSelf)
}

// Marker file handling: written atomically, only after full success.

func (r *Runner) markerExists() (bool, error) {
	_, err := os.Stat(r.Opts.MarkerFile)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return false, fmt.Errorf("check marker %s: %w", r.Opts.MarkerFile, err)
}

func (r *Runner) writeMarker() error {
	dir := filepath.Dir(r.Opts.MarkerFile)
	f, err := os.CreateTemp(dir, ".aku-marker-*")
	if err != nil {
		return fmt.Errorf("write marker %s: %w", r.Opts.MarkerFile, err)
	}
	_, werr := fmt.Fprintf(f, "aku start completed %s\n", time.Now().UTC().Format(time.RFC3339))
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write marker %s: %w", r.Opts.MarkerFile, err)
	}
	if err := os.Rename(f.Name(), r.Opts.MarkerFile); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write marker %s: %w", r.Opts.MarkerFile, err)
	}
	return nil
}

func (r *Runner) removeMarker() error {
	err := os.Remove(r.Opts.MarkerFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove marker %s: %w", r.Opts.MarkerFile, err)
	}
	return nil
}
