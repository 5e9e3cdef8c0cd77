package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aku-k8s/aku/altibase/altibasetest"
)

// options are the command's flags.
type options struct {
	name        string
	listen      string
	replListen  string
	dataDir     string
	sysPassword string
	properties  propertyFlag
	profile     string
	logLevel    string
	initSQL     string
}

// propertyFlag collects repeated --property NAME=VALUE flags.
type propertyFlag map[string]int64

func (p propertyFlag) String() string { return fmt.Sprint(map[string]int64(p)) }

func (p propertyFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil {
		return fmt.Errorf("property %s: %w", name, err)
	}
	p[strings.ToUpper(strings.TrimSpace(name))] = v
	return nil
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{properties: propertyFlag{}}
	fs := flag.NewFlagSet("altibase-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.name, "name", "altibase", "server label in logs")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:20300", "service (SQL) listen address host:port")
	fs.StringVar(&o.replListen, "replication-listen", "", "replication listen address host:port (default: the service host, a free port)")
	fs.StringVar(&o.dataDir, "data", "", "data directory for durable state (default: in memory)")
	fs.StringVar(&o.sysPassword, "sys-password", os.Getenv("ALTIBASE_SIM_SYS_PASSWORD"), "SYS password (env ALTIBASE_SIM_SYS_PASSWORD; default manager)")
	fs.Var(o.properties, "property", "server property NAME=VALUE (repeatable), e.g. ADMIN_MODE=1")
	fs.StringVar(&o.profile, "profile", "fast", "latency profile: fast or realistic")
	fs.StringVar(&o.logLevel, "log-level", "info", "info, or debug to log every connection and statement")
	fs.StringVar(&o.initSQL, "init-sql", "", "file of ;-terminated statements run as SYS before serving, only when --data holds no database yet (a database image's first-boot schema)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

// serverOptions validates the flags and turns them into server options.
func (o *options) serverOptions(logger *log.Logger) (altibasetest.Options, error) {
	so := altibasetest.Options{Name: o.name, DataDir: o.dataDir, SysPassword: o.sysPassword, Properties: o.properties}
	host, port, err := splitAddr(o.listen)
	if err != nil {
		return so, fmt.Errorf("--listen: %w", err)
	}
	so.Host, so.Port = host, port
	if o.replListen != "" {
		rhost, rport, err := splitAddr(o.replListen)
		if err != nil {
			return so, fmt.Errorf("--replication-listen: %w", err)
		}
		if rhost != host {
			return so, fmt.Errorf("--replication-listen host %s differs from --listen host %s", rhost, host)
		}
		so.ReplicationPort = rport
	}
	if o.initSQL != "" {
		fresh, err := freshData(o.dataDir)
		if err != nil {
			return so, fmt.Errorf("--data: %w", err)
		}
		if fresh {
			if so.InitSQL, err = readInitSQL(o.initSQL); err != nil {
				return so, fmt.Errorf("--init-sql: %w", err)
			}
		}
	}
	switch o.profile {
	case "fast":
	case "realistic":
		so.Profile = altibasetest.Realistic()
	default:
		return so, fmt.Errorf("--profile %q: want fast or realistic", o.profile)
	}
	switch o.logLevel {
	case "info":
	case "debug":
		so.Logf = logger.Printf
	default:
		return so, fmt.Errorf("--log-level %q: want info or debug", o.logLevel)
	}
	return so, nil
}

// storeFile is the file the simulator keeps a durable database in.
const storeFile = "altibase.db"

// freshData reports whether dir holds no database yet (an in-memory server
// always starts empty).
func freshData(dir string) (bool, error) {
	if dir == "" {
		return true, nil
	}
	_, err := os.Stat(filepath.Join(dir, storeFile))
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	return false, err
}

// readInitSQL reads ;-terminated statements; lines starting with -- are
// comments.
func readInitSQL(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(t)
		cur.WriteByte(' ')
		if strings.HasSuffix(t, ";") {
			stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		return nil, fmt.Errorf("%s: statement without a final ';': %q", path, rest)
	}
	return stmts, nil
}

func splitAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return host, port, nil
}

// Run starts the server, prints one line when it is ready, and stops it
// gracefully when ctx is done.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
	so, err := o.serverOptions(logger)
	if err != nil {
		return err
	}
	s := altibasetest.NewUnstartedServer(so)
	if err := s.Start(); err != nil {
		if len(so.InitSQL) > 0 && o.dataDir != "" {
			// A first boot that failed keeps no half-made database: the
			// next boot is a first boot again and runs the schema.
			if rerr := os.Remove(filepath.Join(o.dataDir, storeFile)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				logger.Printf("altibase-sim %s: remove the failed first boot's store: %v", o.name, rerr)
			}
		}
		return err
	}
	fmt.Fprintf(stdout, "altibase-sim %s listening service=%s replication=%s\n", o.name, s.Addr(), s.ReplicationAddr())
	<-ctx.Done()
	logger.Printf("altibase-sim %s: stopping", o.name)
	if err := s.Close(); err != nil {
		return fmt.Errorf("stop server: %w", err)
	}
	logger.Printf("altibase-sim %s: stopped", o.name)
	return nil
}
