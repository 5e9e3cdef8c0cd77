package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

const synopsis = `Usage: aku [-h | --help] [-v | --version] [-i | --info [--show-password]]
           [-p | --pod {start | end | clean}] [--config FILE] [--log-format text|json]
       aku install DIR
       aku status [--config FILE] [-o text|json] [--watch]
       aku plan {start | end | clean} [--config FILE] [-o text|json]
`

const usage = synopsis + `
aku, the Altibase Kubernetes Utility, keeps a full mesh of Altibase
replications among the pods of a StatefulSet.

  -h, --help            show this help
  -v, --version         show aku's version, commit and Go version
  -i, --info            show the servers, replications and replication items of aku.conf
      --show-password   with -i, print the SYS password instead of ********
  -p, --pod ACTION      start: create, sync and start this pod's replications (postStart)
                        end:   flush, stop and reset them (preStop)
                        clean: drop them
      --config FILE     aku.conf to read (default $AKU_CONF, else $ALTIBASE_HOME/conf/aku.conf)
      --log-format F    log format of -p: text (default) or json

  status                the replication matrix of the whole mesh: every pair's objects
                        (started, XSN, sender, gap) read with ordinary SYS sessions (never
                        the SYSDBA slot a hook needs), and a verdict; exit 0 only when every
                        pair of joined pods replicates both ways. -o json; --watch refreshes.
  plan ACTION           what -p ACTION would do on this pod now, changing nothing: the
                        decisions with their evidence (path, XSNs, reset policy and intent,
                        master failure) and every statement each server would run, step
                        by step. Reads with ordinary SYS sessions; discovers as the hooks
                        do. -o json; exit 1 when the run would fail.
  install DIR           copy this aku's install tree (bin/, lib/) into DIR, atomically,
                        and check that it runs there (what the init container runs)

Started as aku-start or aku-end (links to aku), it is "aku -p start" or
"aku -p end", for a postStart and a preStop hook.

Exit status: 0 success, 1 the action failed, 2 bad command line, configuration or
environment (nothing was done).
`

// options are aku's flags.
type options struct {
	help, version, info, showPassword bool
	pod                               string
	config                            string
	logFormat                         string
}

// oneOf is a flag.Value that accepts one of a few words, once.
type oneOf struct {
	name    string
	allowed []string
	value   *string
	set     bool
}

func (v *oneOf) String() string {
	if v == nil || v.value == nil {
		return ""
	}
	return *v.value
}

func (v *oneOf) Set(s string) error {
	if v.set {
		return fmt.Errorf("%s given twice", v.name)
	}
	for _, a := range v.allowed {
		if s == a {
			*v.value, v.set = s, true
			return nil
		}
	}
	return fmt.Errorf("unknown %s %q (want %s)", v.name, s, strings.Join(v.allowed, ", "))
}

// parseArgs reads aku's flags: short and long forms, "-p start",
// "--pod start" and "--pod=start".
func parseArgs(args []string) (options, error) {
	o := options{logFormat: "text"}
	fs := flag.NewFlagSet("aku", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for _, n := range []string{"h", "help"} {
		fs.BoolVar(&o.help, n, false, "")
	}
	for _, n := range []string{"v", "version"} {
		fs.BoolVar(&o.version, n, false, "")
	}
	for _, n := range []string{"i", "info"} {
		fs.BoolVar(&o.info, n, false, "")
	}
	pod := &oneOf{name: "action", allowed: []string{"start", "end", "clean"}, value: &o.pod}
	fs.Var(pod, "p", "")
	fs.Var(pod, "pod", "")
	fs.BoolVar(&o.showPassword, "show-password", false, "")
	fs.StringVar(&o.config, "config", "", "")
	fs.Var(&oneOf{name: "log format", allowed: []string{"text", "json"}, value: &o.logFormat}, "log-format", "")

	if err := fs.Parse(args); err != nil {
		return o, &usageError{msg: err.Error()}
	}
	if rest := fs.Args(); len(rest) > 0 {
		msg := fmt.Sprintf("unexpected argument %q", rest[0])
		switch rest[0] {
		case "start", "end", "clean":
			msg += fmt.Sprintf(" (did you mean -p %s?)", rest[0])
		}
		return o, &usageError{msg: msg}
	}
	if o.help || o.version {
		return o, nil
	}
	switch {
	case o.info && o.pod != "":
		return o, &usageError{msg: "-i and -p do not go together"}
	case !o.info && o.pod == "":
		return o, &usageError{msg: "no action: give -i, -p ACTION, -v or -h"}
	case o.showPassword && !o.info:
		return o, &usageError{msg: "--show-password applies only to -i"}
	}
	return o, nil
}
