package bench

import (
	"cmp"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Panel is one side of a scenario (aku, or the original's sequence): its
// runs in the order they happened, drawn back to back on one time axis (the
// harness's own work between two runs, such as restarting a server, is left
// out), each in the lane of its pod.
type Panel struct {
	Title string
	Lanes int // pods 0..Lanes-1
	Runs  []Run
}

// Figure is one scenario: panels drawn one above the other on a shared
// time axis.
type Figure struct {
	Title  string
	Panels []Panel
}

// PhaseColor is each phase's colour on the timeline.
var PhaseColor = map[Phase]string{
	PhaseConnect:  "#9e9e9e",
	PhaseCreate:   "#795548",
	PhaseStop:     "#e53935",
	PhaseReset:    "#f48fb1",
	PhasePin:      "#fb8c00",
	PhaseTruncate: "#6d4c41",
	PhaseSync:     "#1e88e5",
	PhaseStart:    "#43a047",
	PhaseFlush:    "#8e24aa",
	PhaseOpen:     "#00897b",
	PhaseOther:    "#546e7a",
}

// Colours of a run's extent (its whole wall time, statements or not).
const (
	startRunColor = "#e3eaf3"
	endRunColor   = "#f6e7d5"
)

// Geometry, in pixels.
const (
	svgWidth    = 1000
	marginLeft  = 96
	marginRight = 24
	plotWidth   = svgWidth - marginLeft - marginRight
	laneHeight  = 20
	barHeight   = 12
	titleHeight = 26
	panelTitle  = 20
	panelGap    = 10
	axisHeight  = 28
	figureGap   = 22
	legendRow   = 20
)

// WriteSVG draws the figures, one below the other, with a legend: a
// hand-written SVG document (no libraries), deterministic for given runs.
func WriteSVG(w io.Writer, figs ...Figure) error {
	var b strings.Builder
	y := 10.0
	var body strings.Builder
	for _, f := range figs {
		y = drawFigure(&body, f, y) + figureGap
	}
	y = drawLegend(&body, y)
	height := math.Ceil(y + 8)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" font-family="sans-serif" font-size="11">`+"\n",
		svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%.0f" fill="#ffffff"/>`+"\n", svgWidth, height)
	b.WriteString(body.String())
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// panelLength is the panel's runs laid back to back.
func panelLength(p Panel) time.Duration { return Sum(p.Runs) }

func drawFigure(b *strings.Builder, f Figure, y float64) float64 {
	fmt.Fprintf(b, `<text x="%d" y="%.1f" font-size="14" font-weight="bold">%s</text>`+"\n", 8, y+16, esc(f.Title))
	y += titleHeight
	var longest time.Duration
	for _, p := range f.Panels {
		longest = max(longest, panelLength(p))
	}
	secs := longest.Seconds()
	if secs <= 0 {
		secs = 1
	}
	scale := plotWidth / secs
	top := y
	for _, p := range f.Panels {
		y = drawPanel(b, p, y, scale)
	}
	// The shared axis: a grid line and a label per tick.
	step := tickStep(secs)
	for t := 0.0; t <= secs+1e-9; t += step {
		x := marginLeft + t*scale
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#cccccc" stroke-width="0.5"/>`+"\n", x, top, x, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555555">%s s</text>`+"\n", x, y+14, trimFloat(t))
	}
	return y + axisHeight
}

func drawPanel(b *strings.Builder, p Panel, y, scale float64) float64 {
	fmt.Fprintf(b, `<text x="%d" y="%.1f" font-weight="bold">%s — %.1f s</text>`+"\n", 8, y+14, esc(p.Title), panelLength(p).Seconds())
	y += panelTitle
	for l := 0; l < p.Lanes; l++ {
		ly := y + float64(l)*laneHeight
		if l%2 == 0 {
			fmt.Fprintf(b, `<rect x="%d" y="%.1f" width="%d" height="%d" fill="#f7f7f7"/>`+"\n", marginLeft, ly, plotWidth, laneHeight)
		}
		fmt.Fprintf(b, `<text x="%d" y="%.1f" fill="#333333">pod-%d</text>`+"\n", 8, ly+14, l)
	}
	offset := 0.0
	for _, r := range p.Runs {
		if r.Pod < 0 || r.Pod >= p.Lanes {
			offset += r.Total().Seconds()
			continue
		}
		ly := y + float64(r.Pod)*laneHeight + (laneHeight-barHeight)/2
		x0 := marginLeft + offset*scale
		color := startRunColor
		if r.Action == "end" {
			color = endRunColor
		}
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s" stroke="#888888" stroke-width="0.5"><title>pod-%d %s: %.2f s</title></rect>`+"\n",
			x0, ly-2, math.Max(r.Total().Seconds()*scale, 1), barHeight+4, color, r.Pod, r.Action, r.Total().Seconds())
		// Long phases first, so short statements stay visible on top.
		spans := append([]Span(nil), r.Spans...)
		sortByLength(spans)
		for _, s := range spans {
			a := s.Begin.Sub(r.Begin).Seconds()
			d := s.End.Sub(s.Begin).Seconds()
			if a < 0 {
				d += a
				a = 0
			}
			if d < 0 {
				continue
			}
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"><title>%s on pod-%d%s: %.3f s</title></rect>`+"\n",
				x0+a*scale, ly, math.Max(d*scale, 0.8), barHeight, PhaseColor[s.Phase],
				esc(s.Op), s.Server, esc(objectSuffix(s.Object)), d)
		}
		offset += r.Total().Seconds()
	}
	return y + float64(p.Lanes)*laneHeight + panelGap
}

func drawLegend(b *strings.Builder, y float64) float64 {
	x := float64(marginLeft)
	item := func(color, label string, outline bool) {
		w := 26 + 7*float64(len(label)) // box, gap, and a generous 7 px a character at 11 px
		if x+w > svgWidth-marginRight {
			x = marginLeft
			y += legendRow
		}
		stroke := ""
		if outline {
			stroke = ` stroke="#888888" stroke-width="0.5"`
		}
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"%s/>`+"\n", x, y, color, stroke)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", x+16, y+10, esc(label))
		x += w
	}
	for _, p := range Phases {
		item(PhaseColor[p], string(p), false)
	}
	item(startRunColor, "a start, whole run", true)
	item(endRunColor, "an end, whole run", true)
	return y + legendRow
}

func sortByLength(spans []Span) {
	slices.SortStableFunc(spans, func(a, b Span) int {
		return cmp.Compare(b.End.Sub(b.Begin), a.End.Sub(a.Begin))
	})
}

func objectSuffix(o string) string {
	if o == "" {
		return ""
	}
	return " (" + o + ")"
}

// tickStep picks 1, 2, 5, 10, 20, 30 or 60 s so that the axis has at most
// 16 ticks.
func tickStep(secs float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 20, 30, 60} {
		if secs/s <= 16 {
			return s
		}
	}
	return 120
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", f), "0"), ".")
}

func esc(s string) string { return html.EscapeString(s) }
