package lifecycle

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// fakeCluster models replication state (not data) of several servers, with a
// shared trace of the statements the lifecycle issued, in order per server.
type fakeCluster struct {
	mu      sync.Mutex
	servers map[int]*fakeServer
	trace   []string
	down    map[int]bool
	// busy[i] > 0: the next busy[i] dials of pod i find its SYSDBA slot
	// taken (ErrBusy); -1: taken for good.
	busy map[int]int
	// refused[i]: pod i refuses the login (ErrLoginRefused).
	refused map[int]bool
	// sessions[i] counts the open sessions to pod i.
	sessions map[int]int
	// exclusive: a server admits one session at a time, as a SYSDBA slot
	// does; a dial while one is open finds it busy.
	exclusive bool
	// dialDelay: how long a dial takes before the server answers.
	dialDelay time.Duration
}

type fakeObj struct {
	xsn     int64
	started bool
	peer    int
}

type fakeServer struct {
	c       *fakeCluster
	ord     int
	objs    map[string]*fakeObj
	props   map[string]int64
	admin   bool
	log     int64 // log position
	failOn  string
	failErr error
	// stalled senders: FLUSH ... WAIT times out, FLUSH without WAIT fails
	// the test's expectations by returning ErrFlushTimeout too.
	stalled map[string]bool
	// deaf: START of these names returns success but starts nothing (a
	// server or adapter that lies).
	deaf map[string]bool
	// slowFlush: FLUSH ... WAIT of these names times out, a FLUSH without
	// WAIT succeeds (a sender waiting for a restarting peer); peerSessions
	// records how many sessions other pods had open during the latter.
	slowFlush    map[string]bool
	peerSessions []int
}

func newFakeCluster(n int) *fakeCluster {
	c := &fakeCluster{servers: map[int]*fakeServer{}, down: map[int]bool{},
		busy: map[int]int{}, refused: map[int]bool{}, sessions: map[int]int{}}
	for i := 0; i < n; i++ {
		c.servers[i] = &fakeServer{c: c, ord: i, objs: map[string]*fakeObj{}, props: map[string]int64{}, admin: true, log: 100}
	}
	return c
}

func (c *fakeCluster) record(ord int, format string, args ...any) {
	c.trace = append(c.trace, fmt.Sprintf("pod%d: ", ord)+fmt.Sprintf(format, args...))
}

// traceOf returns the statements run on one pod.
func (c *fakeCluster) traceOf(ord int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	prefix := fmt.Sprintf("pod%d: ", ord)
	for _, t := range c.trace {
		if strings.HasPrefix(t, prefix) {
			out = append(out, strings.TrimPrefix(t, prefix))
		}
	}
	return out
}

func (c *fakeCluster) Dial(ctx context.Context, m Member) (Server, error) {
	srv, err := c.dial(m)
	if c.dialDelay > 0 {
		// The answer (a session or busy) takes this long to arrive.
		t := time.NewTimer(c.dialDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			if srv != nil {
				srv.Close()
			}
			return nil, fmt.Errorf("dial %s: %w", m.Name, ctx.Err())
		case <-t.C:
		}
	}
	return srv, err
}

func (c *fakeCluster) dial(m Member) (Server, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down[m.Position] || c.servers[m.Position] == nil {
		return nil, fmt.Errorf("dial %s: %w", m.Name, ErrUnreachable)
	}
	if c.refused[m.Position] {
		return nil, fmt.Errorf("dial %s: %w", m.Name, ErrLoginRefused)
	}
	if b := c.busy[m.Position]; b != 0 {
		if b > 0 {
			c.busy[m.Position]--
		}
		return nil, fmt.Errorf("dial %s: %w", m.Name, ErrBusy)
	}
	if c.exclusive && c.sessions[m.Position] > 0 {
		return nil, fmt.Errorf("dial %s: %w", m.Name, ErrBusy)
	}
	c.sessions[m.Position]++
	return &fakeSession{fakeServer: c.servers[m.Position]}, nil
}

// openSessions counts the sessions open on every pod.
func (c *fakeCluster) openSessions() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.sessions {
		n += s
	}
	return n
}

// fakeSession is one dialled session; Close releases it once.
type fakeSession struct {
	*fakeServer
	closed bool
}

func (s *fakeSession) Close() error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.c.sessions[s.ord]--
	}
	return nil
}

type fakeDiscovery struct {
	self int
	n    int
	gone map[int]bool
}

func member(i int) Member {
	return Member{Position: i, Name: fmt.Sprintf("sts-%d", i), Host: fmt.Sprintf("sts-%d.svc", i)}
}

func (d fakeDiscovery) Self(context.Context) (Member, error) { return member(d.self), nil }
func (d fakeDiscovery) Members(context.Context) ([]Member, error) {
	var out []Member
	for i := 0; i < d.n; i++ {
		m := member(i)
		m.Gone = d.gone[i]
		out = append(out, m)
	}
	return out, nil
}

func (s *fakeServer) do(format string, args ...any) error {
	s.c.record(s.ord, format, args...)
	stmt := fmt.Sprintf(format, args...)
	if s.failOn != "" && strings.HasPrefix(stmt, s.failOn) {
		return s.failErr
	}
	return nil
}

func (s *fakeServer) Replications(context.Context) ([]RepState, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if s.c.down[s.ord] {
		return nil, fmt.Errorf("pod%d: link lost: %w", s.ord, ErrUnreachable)
	}
	var out []RepState
	for name, o := range s.objs {
		out = append(out, RepState{Name: name, XSN: o.xsn, IsStarted: o.started})
	}
	return out, nil
}

func (s *fakeServer) CreateReplication(_ context.Context, r Replication) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if err := s.do("CREATE %s", r.Name); err != nil {
		return err
	}
	var peer int
	fmt.Sscanf(r.RemoteHost, "sts-%d.svc", &peer)
	s.objs[r.Name] = &fakeObj{xsn: -1, peer: peer}
	return nil
}

func (s *fakeServer) Start(_ context.Context, name string) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if err := s.do("START %s", name); err != nil {
		return err
	}
	o := s.objs[name]
	if o == nil {
		return ErrUndefined
	}
	if o.started {
		return ErrAlreadyStarted
	}
	if s.deaf[name] {
		return nil
	}
	peer := s.c.servers[o.peer]
	if s.c.down[o.peer] || peer == nil || peer.objs[name] == nil {
		return fmt.Errorf("handshake %s failed", name)
	}
	o.started = true
	if o.xsn == -1 {
		o.xsn = s.log
	}
	return nil
}

func (s *fakeServer) Stop(_ context.Context, name string) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if err := s.do("STOP %s", name); err != nil {
		return err
	}
	o := s.objs[name]
	if o == nil || !o.started {
		return ErrNotStarted
	}
	o.started = false
	return nil
}

func (s *fakeServer) Reset(_ context.Context, name string) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if err := s.do("RESET %s", name); err != nil {
		return err
	}
	o := s.objs[name]
	if o.started {
		return ErrAlreadyStarted
	}
	o.xsn = -1
	return nil
}

func (s *fakeServer) Drop(_ context.Context, name string) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if err := s.do("DROP %s", name); err != nil {
		return err
	}
	if s.objs[name].started {
		return fmt.Errorf("drop while started")
	}
	delete(s.objs, name)
	return nil
}

func (s *fakeServer) Sync(_ context.Context, name string, parallel int) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if err := s.do("SYNC %s PARALLEL %d", name, parallel); err != nil {
		return err
	}
	o := s.objs[name]
	if o.started {
		return ErrAlreadyStarted
	}
	o.started = true
	o.xsn = s.log
	return nil
}

func (s *fakeServer) Flush(_ context.Context, name string, mode FlushMode) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	kw := "FLUSH"
	if mode.All {
		kw += " ALL"
	}
	if mode.Wait > 0 {
		kw += fmt.Sprintf(" WAIT %d", int(mode.Wait.Seconds()))
	}
	if err := s.do("%s %s", kw, name); err != nil {
		return err
	}
	if o := s.objs[name]; o == nil || !o.started {
		return ErrNotStarted
	}
	if s.stalled[name] {
		return ErrFlushTimeout
	}
	if s.slowFlush[name] {
		if mode.Wait > 0 {
			return ErrFlushTimeout
		}
		n := 0
		for ord, k := range s.c.sessions {
			if ord != s.ord {
				n += k
			}
		}
		s.peerSessions = append(s.peerSessions, n)
	}
	return nil
}

func (s *fakeServer) Truncate(_ context.Context, items []Item) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	var names []string
	for _, it := range items {
		names = append(names, it.User+"."+it.Table)
	}
	if err := s.do("TRUNCATE %s", strings.Join(names, ",")); err != nil {
		return err
	}
	for name, o := range s.objs {
		if o.started {
			return fmt.Errorf("truncate while %s is started", name)
		}
	}
	return nil
}

func (s *fakeServer) SetAdminMode(_ context.Context, on bool) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.admin = on
	return s.do("ADMIN_MODE %v", on)
}

func (s *fakeServer) Property(_ context.Context, name string) (int64, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.props[name], nil
}

func (s *fakeServer) SetProperty(_ context.Context, name string, v int64) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.props[name] = v
	return s.do("SET %s = %d", name, v)
}
