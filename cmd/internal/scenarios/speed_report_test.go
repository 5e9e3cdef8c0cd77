package scenarios_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/aku-k8s/aku/cmd/internal/bench"
)

// speedReport is BenchmarkSpeed's outcome.
type speedReport struct {
	runs, rows int
	aku, orig  []sideRuns
	mem        memoryFigures
	elapsed    time.Duration
}

// speedMetric is one row of the side-by-side table.
type speedMetric struct {
	key  string // name for b.ReportMetric
	name string
	get  func(sideRuns) time.Duration
	aku  []float64
	orig []float64
}

func (m speedMetric) ratio() bench.Stats { return bench.Summarize(bench.Ratios(m.aku, m.orig)) }

func outsideSync(r bench.Run) time.Duration { return r.Total() - r.PhaseTime(bench.PhaseSync) }

func (r speedReport) metrics() []speedMetric {
	ms := []speedMetric{
		{key: "start0", name: "start of pod-0 (master, new)", get: func(s sideRuns) time.Duration { return s.scaleUp[0].Total() }},
	}
	for k := 1; k < 4; k++ {
		ms = append(ms,
			speedMetric{key: fmt.Sprintf("join%d", k), name: fmt.Sprintf("join of pod-%d: total", k),
				get: func(s sideRuns) time.Duration { return s.scaleUp[k].Total() }},
			speedMetric{key: fmt.Sprintf("join%d-outside-sync", k), name: fmt.Sprintf("join of pod-%d: outside SYNC", k),
				get: func(s sideRuns) time.Duration { return outsideSync(s.scaleUp[k]) }},
		)
	}
	ms = append(ms,
		speedMetric{key: "scaleup", name: "**scale-up 1→4** (joins of pods 1-3)",
			get: func(s sideRuns) time.Duration { return bench.Sum(s.scaleUp[1:]) }},
		speedMetric{key: "end-restart", name: "end of a restarting pod (pod-3; aku keeps its state, the original resets)",
			get: func(s sideRuns) time.Duration { return s.rolling[0].Total() }},
		speedMetric{key: "start-restarted", name: "start of the restarted pod (pod-3; aku resumes, the original truncates and syncs)",
			get: func(s sideRuns) time.Duration { return s.rolling[1].Total() }},
		speedMetric{key: "rolling", name: "**rolling restart** of the 4 pods (ends and starts)",
			get: func(s sideRuns) time.Duration { return bench.Sum(s.rolling) }},
		speedMetric{key: "end-leave", name: "end of a leaving pod (pod-3, scale-down 4→3, reset)",
			get: func(s sideRuns) time.Duration { return s.scaleDown.Total() }},
	)
	for i := range ms {
		for _, s := range r.aku {
			ms[i].aku = append(ms[i].aku, ms[i].get(s).Seconds())
		}
		for _, s := range r.orig {
			ms[i].orig = append(ms[i].orig, ms[i].get(s).Seconds())
		}
	}
	return ms
}

// breakdown is one "where the time goes" table.
type breakdown struct {
	title string
	pick  func(sideRuns) bench.Run
}

var breakdowns = []breakdown{
	{"Join of pod-3 (pods 0-2 live)", func(s sideRuns) bench.Run { return s.scaleUp[3] }},
	{"End of a restarting pod-3", func(s sideRuns) bench.Run { return s.rolling[0] }},
	{"Start of the restarted pod-3", func(s sideRuns) bench.Run { return s.rolling[1] }},
	{"End of a leaving pod-3 (reset)", func(s sideRuns) bench.Run { return s.scaleDown }},
}

func (r speedReport) breakdownTable(bd breakdown) string {
	collect := func(rs []sideRuns, f func(bench.Run) float64) bench.Stats {
		var xs []float64
		for _, s := range rs {
			xs = append(xs, f(bd.pick(s)))
		}
		return bench.Summarize(xs)
	}
	cell := func(rs []sideRuns, p bench.Phase) string {
		t := collect(rs, func(run bench.Run) float64 { return run.PhaseTime(p).Seconds() })
		n := collect(rs, func(run bench.Run) float64 { return float64(run.Count(p)) })
		if n.Max == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f (%s)", t.Median, trimNum(n.Median))
	}
	var rows [][]string
	for _, p := range bench.Phases {
		a, o := cell(r.aku, p), cell(r.orig, p)
		if a == "–" && o == "–" {
			continue
		}
		rows = append(rows, []string{string(p), a, o})
	}
	client := func(rs []sideRuns) string {
		return fmt.Sprintf("%.2f", collect(rs, func(run bench.Run) float64 { return (run.Total() - run.Busy()).Seconds() }).Median)
	}
	total := func(rs []sideRuns) string {
		return fmt.Sprintf("**%.2f**", collect(rs, func(run bench.Run) float64 { return run.Total().Seconds() }).Median)
	}
	rows = append(rows,
		[]string{"no statement running (client, process)", client(r.aku), client(r.orig)},
		[]string{"**total**", total(r.aku), total(r.orig)})
	return bench.Table([]string{bd.title, "aku: s (statements)", "original: s (statements)"}, "lrr", rows)
}

func trimNum(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", f), "0"), ".")
}

// SideBySide is the table the README shows.
func (r speedReport) sideBySide() string {
	var rows [][]string
	for _, m := range r.metrics() {
		rows = append(rows, []string{m.name, bench.Summarize(m.aku).Seconds(2), bench.Summarize(m.orig).Seconds(2), m.ratio().Ratio()})
	}
	return bench.Table([]string{"seconds: median (min–max)", "aku", "original's sequence", "aku ÷ original"}, "lrrr", rows)
}

func (r speedReport) memoryTable() string {
	if r.mem.err != nil {
		return "Not measured: " + r.mem.err.Error() + "\n"
	}
	var rows [][]string
	for _, f := range r.mem.bins {
		if f.err != nil {
			rows = append(rows, []string{f.label, mib(f.size), "–", "–", "not measured: " + f.err.Error()})
			continue
		}
		tree := "–"
		if f.tree > 0 {
			tree = mib(f.tree)
		}
		rows = append(rows, []string{f.label, mib(f.size), tree,
			fmt.Sprintf("%.1f MiB", float64(f.rssStart)/1024), fmt.Sprintf("%.1f MiB", float64(f.rssEnd)/1024)})
	}
	return bench.Table([]string{"aku binary", "size", "install tree", "peak RSS, start (max of 4 pods)", "peak RSS, end"}, "lrrrr", rows)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func (r speedReport) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# aku speed, side by side with the original's sequence\n\n")
	fmt.Fprintf(&b, "Written by `make bench` (BenchmarkSpeed, cmd/internal/scenarios) on %s: %d runs, %s, GOMAXPROCS %d (%d CPUs), %s; %.1f minutes in all.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), r.runs, runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(),
		version(), r.elapsed.Minutes())
	fmt.Fprintf(&b, "Four simulated Altibase pods (altibasetest, on disk) under the latency measured on real servers "+
		"(`altibasetest.Realistic()`: START and STOP return on the server clock's whole-second tick, STOP after at least 0.1 s, "+
		"SYNC copies ~40,000 rows/s and takes at least 2 s, ending on a tick; a sender that lost its peer sleeps "+
		"REPLICATION_SENDER_SLEEP_TIMEOUT, 60 s, before it tries again); one replication group, one table of %d rows on pod-0; "+
		"no application writes. *aku* is lifecycle.Runner over the real ODBC client "+
		"(`AKU_REPLICATION_RESET_AT_END = auto`, told as the Kubernetes API tells the hooks whether the pod restarts or leaves, "+
		"and which pods do not exist: those it does not dial); *the original's sequence* is "+
		"package `original`, the manual's statements in the manual's order through the same client, each step fanned out "+
		"across servers (one session per server) as the 7.1.0.9.6 original does, with the manual's default aku.conf "+
		"(reset at end), dialling every pod as its DNS discovery does (a refused connect is retried twice, 50 ms apart, on both sides). Both run on the same cluster in the same process, alternating which goes first; the harness's own work "+
		"(bringing servers up, restarting them, checking rows) is not timed. Ratios are per run (aku's time over the original's "+
		"in the same run), then median, min and max.\n\n", r.rows)
	b.WriteString(r.sideBySide())
	b.WriteString("\n*Outside SYNC*: the join's wall time less the time pod-0's `SYNC` statement ran.\n\n")
	b.WriteString("Timeline of the last run's scale-up and rolling restart: [timeline.svg](timeline.svg).\n\n")
	b.WriteString("## Where the time goes\n\n")
	b.WriteString("Median wall time during which at least one statement of the phase ran (statements in brackets: the median count). " +
		"*connect* is the sessions and catalog reads; *pin* is aku's pin (START RETRY on each live non-master member; DROP of " +
		"the joining pod's end of those objects and FLUSH toward pod-0; the members' STOPs, which run while the SYNC does; " +
		"CREATE of the dropped ends after it); aku's *start* is START RETRY plus its V$REPSENDER poll, the original's a plain START.\n\n")
	for _, bd := range breakdowns {
		b.WriteString(r.breakdownTable(bd))
		b.WriteString("\n")
	}
	b.WriteString("## Memory and size\n\n")
	fmt.Fprintf(&b, "The real binary, run as `aku -p start` on pods 0-3 and `aku -p end` on pod-3 against four simulated servers "+
		"(realistic profile, simulator dialect: the ODBC driver it loads is psqlODBC, not Altibase's); peak RSS is the child's "+
		"ru_maxrss, taken through a small helper process (testdata/maxrss: a child started straight from the test process would "+
		"report the test process's own high-water mark), which lends its child at most %.1f MiB. The install tree is every "+
		"regular file under it (bin/aku and lib/).\n\n", float64(r.mem.floor)/1024)
	b.WriteString(r.memoryTable())
	return b.String()
}

func version() string {
	if v := os.Getenv("AKU_BENCH_VERSION"); v != "" {
		return "aku " + v
	}
	return "aku (version not given)"
}

func (r speedReport) timeline() []bench.Figure {
	last := func(rs []sideRuns) sideRuns { return rs[len(rs)-1] }
	a, o := last(r.aku), last(r.orig)
	return []bench.Figure{
		{Title: fmt.Sprintf("Scale-up: pod-0 starts, pods 1, 2, 3 join (%d rows)", r.rows), Panels: []bench.Panel{
			{Title: "aku", Lanes: 4, Runs: a.scaleUp},
			{Title: "original's sequence", Lanes: 4, Runs: o.scaleUp},
		}},
		{Title: "Rolling restart: pods 3, 2, 1, 0 each end, then start (server restarts left out)", Panels: []bench.Panel{
			{Title: "aku (keeps state, resumes)", Lanes: 4, Runs: a.rolling},
			{Title: "original's sequence (resets, truncates and syncs)", Lanes: 4, Runs: o.rolling},
		}},
	}
}

func (r speedReport) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.markdown()), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "timeline.svg"))
	if err != nil {
		return err
	}
	if err := bench.WriteSVG(f, r.timeline()...); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
