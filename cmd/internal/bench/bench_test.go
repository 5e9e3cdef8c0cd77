package bench

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func span(p Phase, op string, server, from, to int) Span {
	return Span{Server: server, Phase: p, Op: op, Begin: at(from), End: at(to)}
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in                []float64
		n                 int
		median, min, max_ float64
	}{
		{[]float64{3, 1, 2}, 3, 2, 1, 3},
		{[]float64{4, 1, 3, 2}, 4, 2.5, 1, 4},
		{[]float64{5}, 1, 5, 5, 5},
		{[]float64{math.NaN(), 2, 4}, 2, 3, 2, 4},
	} {
		s := Summarize(tc.in)
		if s.N != tc.n || s.Median != tc.median || s.Min != tc.min || s.Max != tc.max_ {
			t.Errorf("Summarize(%v) = %+v", tc.in, s)
		}
	}
	if s := Summarize(nil); s.N != 0 || !math.IsNaN(s.Median) || s.Seconds(2) != "–" || s.Ratio() != "–" {
		t.Errorf("Summarize(nil) = %+v", s)
	}
	if got := Summarize([]float64{1.234, 1.1, 1.5}).Seconds(2); got != "1.23 (1.10–1.50)" {
		t.Errorf("Seconds = %q", got)
	}
	if got := Summarize([]float64{0.5, 0.25, 0.75}).Ratio(); got != "**0.50×** (0.25–0.75)" {
		t.Errorf("Ratio = %q", got)
	}
}

func TestRatios(t *testing.T) {
	r := Ratios([]float64{1, 2, 3}, []float64{2, 0, 6})
	if len(r) != 3 || r[0] != 0.5 || !math.IsNaN(r[1]) || r[2] != 0.5 {
		t.Errorf("Ratios = %v", r)
	}
}

// Phase time is the union of the phase's spans, clipped to the run:
// concurrent statements on several servers count once.
func TestRunPhaseTime(t *testing.T) {
	r := Run{Pod: 3, Action: "start", Begin: at(0), End: at(5000), Spans: []Span{
		span(PhaseConnect, "CONNECT", 3, 0, 10),
		span(PhaseConnect, "CONNECT", 0, 5, 40),
		span(PhasePin, "STOP", 1, 100, 900),
		span(PhasePin, "STOP", 2, 150, 950), // overlaps the other STOP
		span(PhaseSync, "SYNC", 0, 1000, 4000),
		span(PhaseStart, "START", 3, 4000, 4100),
		span(PhaseStart, "START", 3, 4200, 6000), // clipped at the run's end
	}}
	for _, tc := range []struct {
		p    Phase
		want time.Duration
		n    int
	}{
		{PhaseConnect, 40 * time.Millisecond, 2},
		{PhasePin, 850 * time.Millisecond, 2},
		{PhaseSync, 3 * time.Second, 1},
		{PhaseStart, 900 * time.Millisecond, 2},
		{PhaseFlush, 0, 0},
	} {
		if got := r.PhaseTime(tc.p); got != tc.want {
			t.Errorf("PhaseTime(%s) = %v, want %v", tc.p, got, tc.want)
		}
		if got := r.Count(tc.p); got != tc.n {
			t.Errorf("Count(%s) = %d, want %d", tc.p, got, tc.n)
		}
	}
	if got, want := r.Busy(), (40+850+3000+900)*time.Millisecond; got != want {
		t.Errorf("Busy = %v, want %v", got, want)
	}
	if got := Sum([]Run{r, r}); got != 10*time.Second {
		t.Errorf("Sum = %v", got)
	}
}

func TestTable(t *testing.T) {
	got := Table([]string{"a", "b"}, "lr", [][]string{{"x", "1"}, {"y", "2"}})
	want := "| a | b |\n|---|---:|\n| x | 1 |\n| y | 2 |\n"
	if got != want {
		t.Errorf("Table:\n%s\nwant\n%s", got, want)
	}
}

func figures() []Figure {
	runs := []Run{
		{Pod: 0, Action: "start", Begin: at(0), End: at(100), Spans: []Span{span(PhaseConnect, "CONNECT", 0, 0, 20)}},
		{Pod: 1, Action: "start", Begin: at(500), End: at(4500), Spans: []Span{
			span(PhaseTruncate, "TRUNCATE", 1, 10+500, 20+500),
			{Server: 0, Phase: PhaseSync, Op: "SYNC", Object: "AKU_REP_01 <&>", Begin: at(600), End: at(3600)},
			span(PhaseStart, "START", 1, 3600, 4500),
		}},
		{Pod: 1, Action: "end", Begin: at(5000), End: at(6000), Spans: []Span{span(PhaseStop, "STOP", 1, 5000, 6000)}},
	}
	return []Figure{{Title: "Scale-up & restart", Panels: []Panel{
		{Title: "aku", Lanes: 2, Runs: runs},
		{Title: "original's sequence", Lanes: 2, Runs: runs[:2]},
	}}}
}

// The timeline is a well-formed SVG document, the same for the same runs,
// with one bar per statement and one per run.
func TestWriteSVG(t *testing.T) {
	var a, b strings.Builder
	if err := WriteSVG(&a, figures()...); err != nil {
		t.Fatal(err)
	}
	if err := WriteSVG(&b, figures()...); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("two drawings of the same runs differ")
	}
	dec := xml.NewDecoder(strings.NewReader(a.String()))
	titles := 0
	var text []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, a.String())
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local == "title" {
				titles++
			}
		case xml.CharData:
			text = append(text, string(tok))
		}
	}
	// aku: 3 runs + 5 statements; original: 2 runs + 4 statements.
	if titles != 14 {
		t.Errorf("%d bars with a title, want 14", titles)
	}
	all := strings.Join(text, "|")
	for _, want := range []string{"Scale-up & restart", "aku — 5.1 s", "original's sequence — 4.1 s",
		"SYNC on pod-0 (AKU_REP_01 <&>): 3.000 s", "pod-1 end: 1.00 s", "SYNC"} {
		if !strings.Contains(all, want) {
			t.Errorf("the drawing lacks %q", want)
		}
	}
}
