package altibasetest

import (
	"context"
	"math/rand/v2"
	"net"
	"sync"

	"github.com/jeroenrinzema/psql-wire/pkg/types"
)

// listener tracks every accepted connection, so the server can count,
// cancel and drop them; psql-wire only sees the wrapped connections.
type listener struct {
	net.Listener
	srv  *Server
	eng  engine
	once sync.Once
}

func (l *listener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.srv.track(nc, l.eng), nil
}

// Close is idempotent: both the server and psql-wire close the listener.
func (l *listener) Close() error {
	var err error
	l.once.Do(func() { err = l.Listener.Close() })
	return err
}

// clientConn is one client connection and its engine session.
type clientConn struct {
	net.Conn
	srv    *Server
	eng    engine
	pid    int32
	secret int32
	once   sync.Once

	mu     sync.Mutex
	sess   engineSession
	cancel context.CancelFunc // of the running statement, nil when idle
	busy   bool               // a statement is between parse and ReadyForQuery
	// cancelled records a cancel request that came while the query was
	// busy but before its engine call began; that call starts cancelled.
	cancelled bool
	closed    bool
	tx        types.ServerStatus // touched only by the connection's goroutine
	// extended records that the client sent a statement through the
	// extended query protocol (psqlODBC with UseServerSidePrepare=1);
	// touched only by the connection's goroutine.
	extended bool
}

// connAddr is the remote address psql-wire stores in the connection's
// context; it leads the authentication handler back to the clientConn.
type connAddr struct {
	net.Addr
	c *clientConn
}

func (c *clientConn) RemoteAddr() net.Addr { return connAddr{c.Conn.RemoteAddr(), c} }

func (s *Server) track(nc net.Conn, eng engine) *clientConn {
	c := &clientConn{Conn: nc, srv: s, eng: eng, secret: rand.Int32(), tx: types.ServerIdle}
	s.mu.Lock()
	s.nextPID++
	c.pid = s.nextPID
	s.conns[c] = struct{}{}
	s.byPID[c.pid] = c
	s.mu.Unlock()
	s.logf("connection %d from %s", c.pid, nc.RemoteAddr())
	return c
}

func (s *Server) forget(c *clientConn) {
	s.mu.Lock()
	delete(s.conns, c)
	delete(s.byPID, c.pid)
	s.mu.Unlock()
}

// connsOf lists the connections accepted for engine eng.
func (s *Server) connsOf(eng engine) []*clientConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*clientConn
	for c := range s.conns {
		if c.eng == eng {
			out = append(out, c)
		}
	}
	return out
}

// cancelRequest handles a PostgreSQL CancelRequest: it cancels the running
// statement of the connection with that process id and secret key.
func (s *Server) cancelRequest(_ context.Context, pid, secret int32) error {
	s.mu.Lock()
	c := s.byPID[pid]
	s.mu.Unlock()
	if c == nil || c.secret != secret {
		s.logf("cancel request for unknown backend %d ignored", pid)
		return nil
	}
	s.logf("cancel request for connection %d", pid)
	c.mu.Lock()
	switch {
	case c.cancel != nil:
		c.cancel()
	case c.busy:
		c.cancelled = true
	}
	c.mu.Unlock()
	return nil
}

// setSession attaches the logged-in engine session; false if the
// connection was closed meanwhile (the session is then closed at once).
func (c *clientConn) setSession(sess engineSession) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		sess.Close()
		return false
	}
	c.sess = sess
	c.mu.Unlock()
	c.srv.sessions.Add(1)
	c.srv.total.Add(1)
	return true
}

// begin marks a statement as running and returns the session and the
// statement's context; ok is false if the connection is closed.
func (c *clientConn) begin(ctx context.Context) (engineSession, context.Context, context.CancelFunc, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.sess == nil {
		return nil, nil, nil, false
	}
	sctx, cancel := context.WithCancel(ctx)
	if c.cancelled {
		c.cancelled = false
		cancel()
	}
	c.cancel = cancel
	c.busy = true
	return c.sess, sctx, cancel, true
}

// end marks the engine call as finished; if the connection was closed while
// it ran, the session is closed now.
func (c *clientConn) end() {
	c.mu.Lock()
	c.cancel = nil
	closed := c.closed
	c.mu.Unlock()
	if closed {
		c.closeSession()
	}
}

// markBusy and markIdle bracket a query from its parse to ReadyForQuery.
func (c *clientConn) markBusy() {
	c.mu.Lock()
	c.busy = true
	c.mu.Unlock()
}

func (c *clientConn) markIdle() {
	c.mu.Lock()
	c.busy = false
	c.cancelled = false
	c.mu.Unlock()
}

// closeIfIdle closes the connection unless a statement is running.
func (c *clientConn) closeIfIdle() bool {
	c.mu.Lock()
	busy := c.busy
	c.mu.Unlock()
	if busy {
		return false
	}
	_ = c.Close()
	return true
}

// abort cancels the running statement and drops the connection; hard
// resets the TCP connection as a killed process would.
func (c *clientConn) abort(hard bool) {
	if tc, ok := c.Conn.(*net.TCPConn); ok && hard {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// Close drops the connection and ends its engine session (at once if no
// statement is running, else when the engine returns).
func (c *clientConn) Close() error {
	var err error
	c.once.Do(func() {
		err = c.Conn.Close()
		c.mu.Lock()
		c.closed = true
		running := c.cancel != nil
		if running {
			c.cancel()
		}
		c.mu.Unlock()
		if !running {
			c.closeSession()
		}
		c.srv.forget(c)
		c.srv.logf("connection %d closed", c.pid)
	})
	return err
}

func (c *clientConn) closeSession() {
	c.mu.Lock()
	sess := c.sess
	c.sess = nil
	c.mu.Unlock()
	if sess != nil {
		sess.Close()
		c.srv.sessions.Add(-1)
	}
}
