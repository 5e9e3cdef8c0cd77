// Package bench turns timed runs of aku and of the original's sequence
// (package original) into the figures of `make bench`: medians and paired
// ratios over several runs, where the time goes (the statements' phases),
// a Markdown table and an SVG timeline. It measures nothing itself; the
// benchmark in cmd/internal/scenarios records the runs.
package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Phase is what a statement was for, as the timeline colours it.
type Phase string

// Phases, in the order a join goes through them.
const (
	PhaseConnect  Phase = "connect"  // sessions and catalog reads
	PhaseCreate   Phase = "create"   // CREATE REPLICATION
	PhaseStop     Phase = "stop"     // STOP
	PhaseReset    Phase = "reset"    // RESET
	PhasePin      Phase = "pin"      // aku's pin: START on the members, DROP and CREATE here, FLUSH toward pod-0, STOP (alongside the SYNC)
	PhaseTruncate Phase = "truncate" // TRUNCATE (with REPLICATION_DDL_ENABLE)
	PhaseSync     Phase = "SYNC"     // SYNC from pod-0
	PhaseStart    Phase = "start"    // START (aku: START RETRY and a V$REPSENDER poll)
	PhaseFlush    Phase = "flush"    // FLUSH
	PhaseOpen     Phase = "open"     // ADMIN_MODE = 0
	PhaseOther    Phase = "other"    // other properties, DROP
)

// Phases lists every phase in display order.
var Phases = []Phase{PhaseConnect, PhaseCreate, PhaseStop, PhaseReset, PhasePin, PhaseTruncate,
	PhaseSync, PhaseStart, PhaseFlush, PhaseOpen, PhaseOther}

// Span is one statement (or connect) as it ran.
type Span struct {
	Server     int    // ordinal of the server it ran on
	Phase      Phase  //
	Op         string // STOP, START, SYNC, ...
	Object     string // replication name, if any
	Begin, End time.Time
}

// Run is one `-p start` or `-p end` of one pod.
type Run struct {
	Pod        int    // whose hook ran
	Action     string // "start" or "end"
	Begin, End time.Time
	Spans      []Span
}

// Total is the run's wall time.
func (r Run) Total() time.Duration { return r.End.Sub(r.Begin) }

// PhaseTime is the wall time during which at least one statement of phase
// p ran (the union of their spans, clipped to the run).
func (r Run) PhaseTime(p Phase) time.Duration {
	return r.union(func(s Span) bool { return s.Phase == p })
}

// Busy is the wall time during which any statement ran; Total minus Busy is
// the client's own time (process, Go code, waits between statements).
func (r Run) Busy() time.Duration { return r.union(func(Span) bool { return true }) }

// Count is the number of statements of phase p.
func (r Run) Count(p Phase) int {
	n := 0
	for _, s := range r.Spans {
		if s.Phase == p {
			n++
		}
	}
	return n
}

func (r Run) union(keep func(Span) bool) time.Duration {
	type iv struct{ a, b time.Time }
	var ivs []iv
	for _, s := range r.Spans {
		if !keep(s) {
			continue
		}
		a, b := s.Begin, s.End
		if a.Before(r.Begin) {
			a = r.Begin
		}
		if !r.End.IsZero() && b.After(r.End) {
			b = r.End
		}
		if b.After(a) {
			ivs = append(ivs, iv{a, b})
		}
	}
	slices.SortFunc(ivs, func(x, y iv) int { return x.a.Compare(y.a) })
	var total time.Duration
	var cur iv
	for i, v := range ivs {
		switch {
		case i == 0:
			cur = v
		case !v.a.After(cur.b):
			if v.b.After(cur.b) {
				cur.b = v.b
			}
		default:
			total += cur.b.Sub(cur.a)
			cur = v
		}
	}
	if len(ivs) > 0 {
		total += cur.b.Sub(cur.a)
	}
	return total
}

// Sum adds the runs' totals.
func Sum(runs []Run) time.Duration {
	var d time.Duration
	for _, r := range runs {
		d += r.Total()
	}
	return d
}

// Stats summarises one figure over several runs.
type Stats struct {
	N                int
	Median, Min, Max float64
}

// Summarize computes median (the mean of the middle two for an even count),
// minimum and maximum; NaNs are left out.
func Summarize(xs []float64) Stats {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Stats{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	slices.Sort(v)
	n := len(v)
	med := v[n/2]
	if n%2 == 0 {
		med = (v[n/2-1] + v[n/2]) / 2
	}
	return Stats{N: n, Median: med, Min: v[0], Max: v[n-1]}
}

// Seconds formats as "3.21 (3.05–3.40)" with the given decimals.
func (s Stats) Seconds(decimals int) string {
	if s.N == 0 {
		return "–"
	}
	if s.N == 1 || s.Min == s.Max {
		return fmt.Sprintf("%.*f", decimals, s.Median)
	}
	return fmt.Sprintf("%.*f (%.*f–%.*f)", decimals, s.Median, decimals, s.Min, decimals, s.Max)
}

// Ratio formats a ratio's statistics as "0.42× (0.40–0.47)".
func (s Stats) Ratio() string {
	if s.N == 0 {
		return "–"
	}
	if s.N == 1 || s.Min == s.Max {
		return fmt.Sprintf("%.2f×", s.Median)
	}
	return fmt.Sprintf("**%.2f×** (%.2f–%.2f)", s.Median, s.Min, s.Max)
}

// Ratios divides a by b pairwise (NaN where b is 0).
func Ratios(a, b []float64) []float64 {
	n := min(len(a), len(b))
	out := make([]float64, n)
	for i := range n {
		if b[i] == 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = a[i] / b[i]
	}
	return out
}

// Table renders a Markdown table; align holds one of "l", "r" per column
// (missing: left).
func Table(header []string, align string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for i := range header {
		if i < len(align) && align[i] == 'r' {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return b.String()
}
