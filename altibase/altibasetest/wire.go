package altibasetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	psqlerr "github.com/jeroenrinzema/psql-wire/errors"
	"github.com/jeroenrinzema/psql-wire/pkg/buffer"
	"github.com/jeroenrinzema/psql-wire/pkg/types"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/altibase/altibasetest/internal/sim"
)

type connKey struct{}

func connFrom(ctx context.Context) *clientConn {
	c, _ := ctx.Value(connKey{}).(*clientConn)
	return c
}

func (s *Server) newWire() (*wire.Server, error) {
	ws, err := wire.NewServer(s.parse,
		wire.Logger(slog.New(logfHandler{s})),
		wire.SessionAuthStrategy(s.auth),
		wire.BackendKeyData(func(ctx context.Context) (int32, int32) {
			if c := connFrom(ctx); c != nil {
				return c.pid, c.secret
			}
			return 0, 0
		}),
		wire.CancelRequest(s.cancelRequest),
		wire.TxStatus(func(ctx context.Context) types.ServerStatus {
			c := connFrom(ctx)
			if c == nil {
				return types.ServerIdle
			}
			c.markIdle()
			return c.tx
		}),
		wire.GlobalParameters(wire.Parameters{
			"standard_conforming_strings": "on",
			"DateStyle":                   "ISO, MDY",
			"integer_datetimes":           "on",
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("altibasetest: configure wire server: %w", err)
	}
	return ws, nil
}

// auth is a clear-text password exchange whose check is the engine's Login,
// so a refused login reaches the client as an ErrorResponse carrying the
// Altibase code.
func (s *Server) auth(ctx context.Context, w *buffer.Writer, r *buffer.Reader) (context.Context, error) {
	addr, ok := wire.RemoteAddress(ctx).(connAddr)
	if !ok {
		return ctx, errors.New("altibasetest: connection not tracked")
	}
	c := addr.c
	w.Start(types.ServerAuth)
	w.AddInt32(3) // AuthenticationCleartextPassword
	if err := w.End(); err != nil {
		return ctx, err
	}
	t, _, err := r.ReadTypedMsg()
	if err != nil {
		return ctx, err
	}
	if t != types.ClientPassword {
		return ctx, fmt.Errorf("altibasetest: expected a password message, got %q", byte(t))
	}
	password, err := r.GetString()
	if err != nil {
		return ctx, err
	}
	params := wire.ClientParameters(ctx)
	login := sim.Login{
		User:     strings.ToUpper(params[wire.ParamUsername]),
		Password: password,
		SYSDBA:   strings.EqualFold(params[wire.ParamDatabase], "SYSDBA"),
		Remote:   !isLoopback(addr.Addr),
	}
	sess, err := c.eng.Login(login)
	if err != nil {
		s.logf("connection %d: login %s sysdba=%v remote=%v refused: %v", c.pid, login.User, login.SYSDBA, login.Remote, err)
		werr := wireError(err, psqlerr.LevelFatal)
		if e := wire.WriteUnterminatedError(w, werr); e != nil {
			return ctx, e
		}
		return ctx, werr
	}
	if !c.setSession(sess) {
		return ctx, net.ErrClosed
	}
	s.logf("connection %d: login %s sysdba=%v remote=%v", c.pid, login.User, login.SYSDBA, login.Remote)
	w.Start(types.ServerAuth)
	w.AddInt32(0) // AuthenticationOk
	if err := w.End(); err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, connKey{}, c), nil
}

func isLoopback(a net.Addr) bool {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.IsLoopback()
	}
	return false
}

// wireError turns an error into a PostgreSQL error: an engine error keeps
// its SQLSTATE and carries its code in the message ("ERR-6100D : ...").
func wireError(err error, severity psqlerr.Severity) error {
	var se *sim.Error
	switch {
	case errors.As(err, &se):
		state := se.SQLState
		if len(state) != 5 {
			state = "HY000"
		}
		err = psqlerr.WithCode(errors.New(altibase.ServerMessage(se.Code, se.Message)), codes.Code(state))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		err = psqlerr.WithCode(errors.New("canceling statement due to user request"), codes.QueryCanceled)
	default:
		var pe *pgError
		if errors.As(err, &pe) {
			err = psqlerr.WithCode(errors.New(pe.msg), pe.code)
		} else {
			err = psqlerr.WithCode(err, codes.Internal)
		}
	}
	return psqlerr.WithSeverity(err, severity)
}

// pgError is an error the wire layer raises itself, with a PostgreSQL code.
type pgError struct {
	code codes.Code
	msg  string
}

func (e *pgError) Error() string { return e.msg }

// logfHandler sends psql-wire's log records to Options.Logf.
type logfHandler struct{ s *Server }

// Enabled drops psql-wire's per-message debug records.
func (h logfHandler) Enabled(_ context.Context, l slog.Level) bool {
	return h.s.opts.Logf != nil && l >= slog.LevelInfo
}

func (h logfHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("wire: ")
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.s.logf("%s", b.String())
	return nil
}

func (h logfHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logfHandler) WithGroup(string) slog.Handler      { return h }
