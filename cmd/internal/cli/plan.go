package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aku-k8s/aku/cmd/internal/altibaselc"
	"github.com/aku-k8s/aku/lifecycle"
)

// ErrPlanFails: aku plan found that the action would fail (exit 1); the
// plan printed says where.
var ErrPlanFails = errors.New("the planned run would fail")

// planTimeout bounds aku plan: discovery, the connections (a SYSDBA slot
// that a running hook holds is waited for up to this) and the reads.
const planTimeout = 30 * time.Second

type planOptions struct {
	config, output string
	action         lifecycle.Action
}

func parsePlanArgs(args []string) (planOptions, error) {
	o := planOptions{output: "text"}
	fs := reportFlags("aku plan", &o.config, &o.output)
	// The action may come before or after the flags.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return o, &usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case len(rest) == 0:
		return o, &usageError{"plan: missing action: start, end or clean"}
	case len(rest) > 1:
		return o, &usageError{fmt.Sprintf("plan: unexpected argument %q", rest[1])}
	}
	switch a := lifecycle.Action(rest[0]); a {
	case lifecycle.ActionStart, lifecycle.ActionEnd, lifecycle.ActionClean:
		o.action = a
	default:
		return o, &usageError{fmt.Sprintf("plan: unknown action %q: want start, end or clean", rest[0])}
	}
	return o, nil
}

// runPlan is `aku plan start|end|clean`: what that action would do on this
// pod now, from the mesh as it is, without changing anything. It discovers
// as the hooks do (the Kubernetes API or DNS), reads with ordinary SYS
// sessions where the servers admit them, posts no Event and takes no lock.
func runPlan(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	o, err := parsePlanArgs(args)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(o.config, env)
	if err != nil {
		return err
	}
	if err := checkEnvironment(cfg, env); err != nil {
		return err
	}
	// Only warnings go to stderr (unless AKU_LOG_LEVEL says more): stdout is
	// the plan.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(env, slog.LevelWarn)}))
	ctx, cancel := context.WithTimeout(ctx, planTimeout)
	defer cancel()
	// No action for build: a plan has no hook's deadline, only planTimeout.
	st, err := build(ctx, cfg, processEnv{Getenv: env, Hostname: hostname}, log, "")
	if err != nil {
		return err
	}
	r := st.Runner
	r.Event, r.Lock, r.Checkpoint = nil, nil, nil
	plainStart := false
	if d, ok := r.Dialer.(*altibaselc.Dialer); ok {
		d.Read = true
		plainStart = d.PlainStart
	}
	p, err := r.Plan(ctx, o.action)
	if err != nil {
		return err
	}
	render := func(op lifecycle.Op) []string { return altibaselc.Statements(op, plainStart) }
	if err := writePlan(stdout, o.output, p, render); err != nil {
		return err
	}
	if p.Error != "" {
		return fmt.Errorf("%w: %s", ErrPlanFails, p.Error)
	}
	return nil
}

// writePlan prints the plan as text, or as JSON with every op's
// statements.
func writePlan(w io.Writer, format string, p lifecycle.Plan, render func(lifecycle.Op) []string) error {
	if format != "json" {
		_, err := io.WriteString(w, p.Text(render))
		return err
	}
	if render != nil {
		p.Fill(render)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}
