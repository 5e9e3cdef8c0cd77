package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aku-k8s/aku/cmd/internal/altibaselc"
	"github.com/aku-k8s/aku/k8s"
	"github.com/aku-k8s/aku/lifecycle"
	"github.com/aku-k8s/aku/lifecycle/config"
)

// ErrIncomplete: aku status found the mesh incomplete (exit 1).
var ErrIncomplete = errors.New("the replication mesh is incomplete")

// statusInterval is how often --watch reads the mesh again.
const statusInterval = 2 * time.Second

type statusOptions struct {
	config, output string
	watch          bool
}

// reportFlags is the flag set of a subcommand that reports: --config FILE
// and -o/--output text|json (given once).
func reportFlags(name string, config, output *string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(config, "config", "", "")
	o := &oneOf{name: "output format", allowed: []string{"text", "json"}, value: output}
	fs.Var(o, "o", "")
	fs.Var(o, "output", "")
	return fs
}

func parseStatusArgs(args []string) (statusOptions, error) {
	o := statusOptions{output: "text"}
	fs := reportFlags("aku status", &o.config, &o.output)
	fs.BoolVar(&o.watch, "watch", false, "")
	if err := fs.Parse(args); err != nil {
		return o, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return o, &usageError{fmt.Sprintf("status: unexpected argument %q", fs.Arg(0))}
	}
	return o, nil
}

// runStatus is `aku status`: the replication matrix of the whole mesh,
// read with ordinary SYS sessions; exit 0 only when it is complete.
func runStatus(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	o, err := parseStatusArgs(args)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(o.config, env)
	if err != nil {
		return err
	}
	for {
		r, err := readMesh(ctx, cfg)
		if err != nil {
			return err
		}
		if o.watch {
			fmt.Fprintf(stdout, "--- %s\n", time.Now().UTC().Format(time.RFC3339))
		}
		if err := writeReport(stdout, o.output, r); err != nil {
			return err
		}
		if !o.watch {
			if !r.Complete {
				return fmt.Errorf("%w: %s", ErrIncomplete, strings.TrimPrefix(r.Verdict, "incomplete: "))
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(statusInterval):
		}
	}
}

// readMesh reads every server of aku.conf (its hosts, AKU_HOST_FORMAT) at
// once, each within the login timeout.
func readMesh(ctx context.Context, cfg *config.Config) (lifecycle.MeshReport, error) {
	opts := altibaselc.ClientOptions(cfg, slog.New(slog.DiscardHandler))
	opts.RetryCount = 0 // a status is a snapshot: no waiting for servers
	dns := &k8s.DNS{StsName: cfg.STSName, SvcName: cfg.SVCName, HostFormat: cfg.HostFormat, ServerCount: cfg.ServerCount}
	members, err := dns.Members(ctx)
	if err != nil {
		return lifecycle.MeshReport{}, err
	}
	views := make([]lifecycle.ServerView, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			views[i] = altibaselc.ReadServer(ctx, m, cfg.PortNo, opts)
		}()
	}
	wg.Wait()
	return lifecycle.Report(lifecycleOptions(cfg).Groups, views), nil
}

func writeReport(w io.Writer, format string, r lifecycle.MeshReport) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "POD\tHOST\tSESSION\tJOINED\tNOTE")
	for _, s := range r.Servers {
		note := s.Error
		if s.Busy {
			note = "only SYSDBA is admitted (ADMIN_MODE = 1) and its session is in use; " + note
		} else if s.Session == "SYSDBA" {
			note = "read as SYSDBA: ADMIN_MODE = 1 admits no other session"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Pod, s.Host, orDash(s.Session), yesNo(s.Joined), note)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "GROUP\tREPLICATION\tFROM\tTO\tSTARTED\tXSN\tSENDER\tGAP\tPAIR\tPROBLEM")
	for _, p := range r.Pairs {
		for _, d := range []lifecycle.DirectionStatus{p.AB, p.BA} {
			xsn := fmt.Sprint(d.XSN)
			switch {
			case !d.Exists:
				xsn = "-"
			case d.XSN == -1:
				xsn = "-1 (reset)"
			}
			gap := "-"
			if d.Gap >= 0 {
				gap = fmt.Sprint(d.Gap)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Group, d.Replication, d.From, d.To,
				yesNo(d.Started), xsn, d.Sender, gap, p.State, d.Problem)
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, r.Verdict)
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
