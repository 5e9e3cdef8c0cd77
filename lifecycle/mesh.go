package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// node is one connected server with its replication objects as last read.
type node struct {
	m      Member
	srv    Server
	states States
}

func (n *node) String() string { return n.m.Name }

// mesh is this pod's view of the servers it could reach.
type mesh struct {
	self    *node
	peers   map[int]*node // reachable peers by ordinal
	members []Member      // every ordinal, reachable or not
	log     *slog.Logger
}

// connect dials every member at once, so no absent peer costs more than its
// own connect timeout. The local server must answer (with waitSelf, once it
// is up); peers may not.
func connect(ctx context.Context, d Dialer, self Member, members []Member, waitSelf bool, log *slog.Logger) (*mesh, error) {
	m := &mesh{peers: map[int]*node{}, members: members, log: log}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		selfErr error
	)
	for _, mem := range members {
		if mem.Absent && mem.Ordinal != self.Ordinal {
			log.Debug("Peer does not exist.", "pod", mem.Name)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var srv Server
			var err error
			if mem.Ordinal == self.Ordinal && waitSelf {
				srv, err = dialSelf(ctx, d, mem, log)
			} else {
				srv, err = d.Dial(ctx, mem)
			}
			mu.Lock()
			defer mu.Unlock()
			if mem.Ordinal == self.Ordinal {
				if err != nil {
					selfErr = err
					return
				}
				m.self = &node{m: mem, srv: srv}
				return
			}
			if err != nil {
				log.Info("Peer is not reachable.", "pod", mem.Name, "err", err)
				return
			}
			m.peers[mem.Ordinal] = &node{m: mem, srv: srv}
		}()
	}
	wg.Wait()
	if selfErr != nil || m.self == nil {
		m.close()
		return nil, fmt.Errorf("%w: %s: %w", ErrSelfUnreachable, self.Name, selfErr)
	}
	return m, nil
}

// selfRetryInterval is the pause between attempts to reach the local server.
const selfRetryInterval = time.Second

// dialSelf connects to the local server, waiting while it does not accept
// connections yet: a postStart hook runs as the container starts, usually
// before the server is up. The caller's deadline (AKU_START_TIMEOUT, the
// preStop budget) bounds the wait; any other failure (a wrong password, a
// refused login) ends it at once.
func dialSelf(ctx context.Context, d Dialer, self Member, log *slog.Logger) (Server, error) {
	waiting := false
	for {
		srv, err := d.Dial(ctx, self)
		if err == nil || !errors.Is(err, ErrUnreachable) {
			return srv, err
		}
		if !waiting {
			log.Info("Waiting for the local Altibase server to accept connections.", "err", err)
			waiting = true
		}
		t := time.NewTimer(selfRetryInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (gave up waiting: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

func (m *mesh) close() {
	if m.self != nil {
		m.self.srv.Close()
	}
	for _, p := range m.peers {
		p.srv.Close()
	}
}

// all is the local node followed by the reachable peers in ordinal order.
func (m *mesh) all() []*node {
	out := []*node{m.self}
	return append(out, m.peerList()...)
}

func (m *mesh) peerList() []*node {
	var out []*node
	for _, j := range sortedKeys(m.peers) {
		out = append(out, m.peers[j])
	}
	return out
}

// drop forgets a peer that went away in the middle of the work.
func (m *mesh) drop(n *node, err error) {
	m.log.Warn("Peer went away; continuing without it.", "pod", n.m.Name, "err", err)
	n.srv.Close()
	delete(m.peers, n.m.Ordinal)
}

// refresh reads the replication objects of the given nodes, one goroutine
// per server.
func (m *mesh) refresh(ctx context.Context, nodes []*node) error {
	return m.each(ctx, nodes, func(ctx context.Context, n *node) error {
		list, err := n.srv.Replications(ctx)
		if err != nil {
			return fmt.Errorf("read replications on %s: %w", n, err)
		}
		n.states = StatesOf(list)
		return nil
	})
}

// each runs fn once per node, concurrently across servers; statements on one
// server stay sequential because each fn owns its node. A peer that became
// unreachable is dropped with a warning; any other error fails the step.
func (m *mesh) each(ctx context.Context, nodes []*node, fn func(context.Context, *node) error) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(ctx, n)
		}()
	}
	wg.Wait()
	var failed []error
	for i, err := range errs {
		if err == nil {
			continue
		}
		n := nodes[i]
		if n != m.self && errors.Is(err, ErrUnreachable) {
			m.drop(n, err)
			continue
		}
		failed = append(failed, err)
	}
	return errors.Join(failed...)
}

// start starts one sender; one that already runs is what we wanted.
func start(ctx context.Context, n *node, name string, log *slog.Logger) error {
	log.Debug("Start replication.", "pod", n.m.Name, "replication", name)
	err := n.srv.Start(ctx, name)
	if errors.Is(err, ErrAlreadyStarted) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start %s on %s: %w", name, n, err)
	}
	return nil
}

// stop stops one sender if it runs.
func stop(ctx context.Context, n *node, name string) error {
	err := n.srv.Stop(ctx, name)
	if errors.Is(err, ErrNotStarted) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop %s on %s: %w", name, n, err)
	}
	return nil
}

// stopAndReset leaves an object stopped and, if reset is set, without a
// restart point. It acts only where the last read state says it must.
func stopAndReset(ctx context.Context, n *node, name string, reset bool) error {
	st, ok := n.states[name]
	if !ok {
		return nil
	}
	if st.IsStarted {
		if err := stop(ctx, n, name); err != nil {
			return err
		}
	}
	if reset && !st.Reset() {
		if err := n.srv.Reset(ctx, name); err != nil {
			return fmt.Errorf("reset %s on %s: %w", name, n, err)
		}
	}
	return nil
}
