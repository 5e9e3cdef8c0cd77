// Package akulog is a log/slog handler that prints the original aku's log
// lines:
//
//	[AKU][2024/03/18 14:01:59.604647][1234] [INFO][Start:903][altibase-sts-1][AKU_REP_01] message key=value
//
// The attributes "pod" and "replication" fill the two bracketed fields ("-"
// when absent); other attributes follow the message as key=value pairs. The
// thread-id field of the original carries the process id.
package akulog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Handler writes records in the original aku format.
type Handler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Leveler
	attrs []slog.Attr
	group string
	pid   int
}

// New returns a handler writing to w at or above level.
func New(w io.Writer, level slog.Leveler) *Handler {
	return &Handler{mu: &sync.Mutex{}, w: w, level: level, pid: os.Getpid()}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), h.qualify(as)...)
	return &c
}

// WithGroup implements slog.Handler (groups prefix later keys).
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}

func (h *Handler) qualify(as []slog.Attr) []slog.Attr {
	if h.group == "" {
		return as
	}
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = slog.Attr{Key: h.group + "." + a.Key, Value: a.Value}
	}
	return out
}

// Handle implements slog.Handler.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	pod, rep := "-", "-"
	var rest []slog.Attr
	collect := func(a slog.Attr) bool {
		switch a.Key {
		case "pod":
			pod = a.Value.String()
		case "replication":
			rep = a.Value.String()
		default:
			if !a.Equal(slog.Attr{}) {
				rest = append(rest, a)
			}
		}
		return true
	}
	for _, a := range h.attrs {
		collect(a)
	}
	var own []slog.Attr
	r.Attrs(func(a slog.Attr) bool { own = append(own, a); return true })
	for _, a := range h.qualify(own) {
		collect(a)
	}
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[AKU][%s][%d] [%s][%s][%s][%s] %s",
		t.Format("2006/01/02 15:04:05.000000"), h.pid, levelName(r.Level), caller(r.PC), pod, rep, r.Message)
	for _, a := range rest {
		b.WriteByte(' ')
		b.WriteString(a.Key)
		b.WriteByte('=')
		b.WriteString(quote(a.Value.Resolve().String()))
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}

// caller renders the logging function as the original's "func:line".
func caller(pc uintptr) string {
	if pc == 0 {
		return "-"
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	name := f.Function
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return name + ":" + strconv.Itoa(f.Line)
}

func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"=") {
		return strconv.Quote(s)
	}
	return s
}
