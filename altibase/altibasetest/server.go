package altibasetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wire "github.com/jeroenrinzema/psql-wire"

	"github.com/aku-k8s/aku/altibase/altibasetest/internal/sim"
)

// Node is the simulator engine behind a Server, exposed for fault injection
// from Go tests.
type Node = sim.Node

// Profile is the engine's latency model (the zero value is fast).
type Profile = sim.Profile

// Error is an engine error (an Altibase code, SQLSTATE and message).
type Error = sim.Error

// Realistic is the latency profile measured on a real server.
func Realistic() Profile { return sim.Realistic() }

// Options configure a Server.
type Options struct {
	Name            string // label in logs
	Host            string // bind IP for both ports, default "127.0.0.1"
	Port            int    // service (SQL) port, 0 = free port
	ReplicationPort int    // replication port, 0 = free port
	DataDir         string // durable state ("" = in memory)
	SysPassword     string // SYS's password, default "manager"
	Properties      map[string]int64
	Profile         Profile
	// InitSQL runs as SYS (SYSDBA, so also at ADMIN_MODE=1), one statement at a time, once the engine is
	// open and before the service port accepts anyone: the schema a
	// database image creates at first boot. Start fails on the first
	// statement that fails, serving nothing.
	InitSQL []string
	// Logf, if set, receives a line per connection event and statement.
	Logf func(format string, args ...any)

	// openEngine replaces the engine (tests of the wire layer alone).
	openEngine func(sim.Options) (engine, error)
}

const (
	defaultHost     = "127.0.0.1"
	defaultPassword = "manager"
	// closeGrace bounds how long Close waits for running statements before
	// it cancels them and drops their connections.
	closeGrace = 5 * time.Second
	// drainBound bounds the wait for connection goroutines after their
	// connections were closed (a statement the engine does not cancel).
	drainBound = 5 * time.Second
)

// Server is one simulated Altibase server on the network: a service port
// speaking the PostgreSQL wire protocol and the engine's replication port.
type Server struct {
	opts Options

	mu       sync.Mutex
	running  bool
	eng      engine
	ws       *wire.Server
	ln       *listener
	served   chan struct{} // closed when the accept loop ends
	host     string
	port     int
	replPort int
	conns    map[*clientConn]struct{}
	byPID    map[int32]*clientConn
	nextPID  int32

	sessions atomic.Int64
	total    atomic.Int64
	hook     atomic.Pointer[StatementHook]
}

// NewUnstartedServer returns a server that is not yet listening; call Start.
func NewUnstartedServer(opts Options) *Server {
	if opts.Host == "" {
		opts.Host = defaultHost
	}
	if opts.SysPassword == "" {
		opts.SysPassword = defaultPassword
	}
	return &Server{
		opts:     opts,
		host:     opts.Host,
		port:     opts.Port,
		replPort: opts.ReplicationPort,
		conns:    make(map[*clientConn]struct{}),
		byPID:    make(map[int32]*clientConn),
		nextPID:  1000,
	}
}

// NewServer starts a server for a test and closes it when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := NewUnstartedServer(opts)
	if err := s.Start(); err != nil {
		t.Fatalf("altibasetest: start server %q: %v", opts.Name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Start binds the service port, opens the engine (which binds the
// replication port) and starts serving.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return errors.New("altibasetest: server already started")
	}
	nl, err := net.Listen("tcp", net.JoinHostPort(s.host, strconv.Itoa(s.port)))
	if err != nil {
		return fmt.Errorf("altibasetest: listen on service port: %w", err)
	}
	open := s.opts.openEngine
	if open == nil {
		open = openSim
	}
	eng, err := open(sim.Options{
		Name:            s.opts.Name,
		DataDir:         s.opts.DataDir,
		ReplicationAddr: net.JoinHostPort(s.host, strconv.Itoa(s.replPort)),
		SysPassword:     s.opts.SysPassword,
		Properties:      s.opts.Properties,
		Profile:         s.opts.Profile,
	})
	if err != nil {
		_ = nl.Close()
		return fmt.Errorf("altibasetest: open engine %q: %w", s.opts.Name, err)
	}
	if err := runInit(eng, s.opts.SysPassword, s.opts.InitSQL); err != nil {
		eng.Kill()
		_ = nl.Close()
		return fmt.Errorf("altibasetest: init SQL on %q: %w", s.opts.Name, err)
	}
	ws, err := s.newWire()
	if err != nil {
		eng.Kill()
		_ = nl.Close()
		return err
	}
	s.port = nl.Addr().(*net.TCPAddr).Port
	if _, p, err := net.SplitHostPort(eng.ReplicationAddr()); err == nil {
		s.replPort, _ = strconv.Atoi(p)
	}
	s.eng, s.ws, s.running = eng, ws, true
	s.ln = &listener{Listener: nl, srv: s, eng: eng}
	s.served = make(chan struct{})
	go func(ln *listener, done chan struct{}) {
		defer close(done)
		if err := ws.Serve(ln); err != nil {
			s.logf("serve: %v", err)
		}
	}(s.ln, s.served)
	s.logf("listening service=%s replication=%s", s.addrLocked(), eng.ReplicationAddr())
	return nil
}

// runInit executes stmts in one SYS session.
func runInit(eng engine, password string, stmts []string) error {
	if len(stmts) == 0 {
		return nil
	}
	sess, err := eng.Login(sim.Login{User: "SYS", Password: password, SYSDBA: true})
	if err != nil {
		return err
	}
	defer sess.Close()
	for _, q := range stmts {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := sess.Exec(ctx, q)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// Host is the bind address.
func (s *Server) Host() string { return s.host }

// Port is the bound service port (0 before the first Start).
func (s *Server) Port() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.port
}

// Addr is the service address, host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrLocked()
}

func (s *Server) addrLocked() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// ReplicationPort is the engine's bound replication port.
func (s *Server) ReplicationPort() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.replPort
}

// ReplicationAddr is the engine's replication address, host:port.
func (s *Server) ReplicationAddr() string {
	return net.JoinHostPort(s.host, strconv.Itoa(s.ReplicationPort()))
}

// SetBootProperty sets a property for the next Start, as an operator edits
// altibase.properties (REPLICATION_SENDER_AUTO_START, which ALTER SYSTEM
// cannot change, among others). The running engine is not affected.
func (s *Server) SetBootProperty(name string, v int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	props := maps.Clone(s.opts.Properties) // the caller's map stays as it was
	if props == nil {
		props = map[string]int64{}
	}
	props[strings.ToUpper(name)] = v
	s.opts.Properties = props
}

// Node is the running engine, for fault injection (nil when stopped or when
// a test replaced the engine).
func (s *Server) Node() *Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.eng.(simEngine); ok {
		return e.Node
	}
	return nil
}

// Sessions is the number of open engine sessions (one per logged-in
// connection). It drops back once clients disconnect; a count that stays up
// is a leaked connection.
func (s *Server) Sessions() int { return int(s.sessions.Load()) }

// TotalSessions is the number of sessions opened since the server was made.
func (s *Server) TotalSessions() int { return int(s.total.Load()) }

// Close stops the server gracefully: it stops accepting, drops idle
// connections, lets running statements finish (up to closeGrace, then
// cancels them), and closes the engine, which keeps DataDir as after a clean
// server stop. Closing a stopped server does nothing.
func (s *Server) Close() error {
	st, ok := s.stop()
	if !ok {
		return nil
	}
	_ = st.ln.Close()
	deadline := time.Now().Add(closeGrace)
	for {
		busy := 0
		for _, c := range st.conns() {
			if !c.closeIfIdle() {
				busy++
			}
		}
		if busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			s.logf("close: cancelling %d running statements after %v", busy, closeGrace)
			for _, c := range st.conns() {
				c.abort(false)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.drain(st)
	return st.eng.Close()
}

// Kill stops the server as kill -9 would: the engine dies first (nothing
// more becomes durable), then every connection drops.
func (s *Server) Kill() {
	st, ok := s.stop()
	if !ok {
		return
	}
	_ = st.ln.Close()
	st.eng.Kill()
	for _, c := range st.conns() {
		c.abort(true)
	}
	s.drain(st)
}

// Restart opens the engine again on the same DataDir and the same ports,
// closing the server first if it is running.
func (s *Server) Restart() error {
	if err := s.Close(); err != nil {
		s.logf("restart: close: %v", err)
	}
	return s.Start()
}

// stopped is what a stopping server still has to shut down.
type stopped struct {
	s      *Server
	eng    engine
	ws     *wire.Server
	ln     *listener
	served chan struct{}
}

func (st stopped) conns() []*clientConn { return st.s.connsOf(st.eng) }

func (s *Server) stop() (stopped, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return stopped{}, false
	}
	s.running = false
	st := stopped{s: s, eng: s.eng, ws: s.ws, ln: s.ln, served: s.served}
	s.eng, s.ws, s.ln = nil, nil, nil
	return st, true
}

// drain waits, bounded, for the accept loop and the connection goroutines.
func (s *Server) drain(st stopped) {
	done := make(chan struct{})
	go func() {
		_ = st.ws.Close()
		st.ws.Wait()
		<-st.served
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(drainBound):
		s.logf("close: connection goroutines still running after %v", drainBound)
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf("altibase-sim %s: "+format, append([]any{s.opts.Name}, args...)...)
	}
}
