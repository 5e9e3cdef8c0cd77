package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
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
	peers   map[int]*node // reachable peers by position
	lost    map[int]bool  // peers that went away during the run
	members []Member      // every position, reachable or not
	log     *slog.Logger
}

// Presence is decided by evidence. A member the discovery knows does not
// exist is not dialled. A server that refuses or times out the connection
// (after the client's configured retries) is absent. A server that answered
// is present whatever it answered: a refused login fails the run at once,
// and a taken SYSDBA slot is waited for. Treating "answered with an error"
// as "gone" would leave that peer out of the mesh with nobody noticing.

// Pauses between attempts while waiting; tests shorten them with
// Runner.Sleep.
const (
	selfRetryInterval = time.Second            // the local server is not up yet
	busyRetryMin      = 300 * time.Millisecond // a SYSDBA slot is taken ...
	busyRetryJitter   = 700 * time.Millisecond // ... plus up to this, so contenders part
	noticeEvery       = 5 * time.Second        // how often a wait is logged again
)

// connect opens the sessions a run works with. The local server comes
// first, waited for (with waitSelf) while it does not accept connections
// yet: a postStart hook runs as the container starts. Then every other
// server that may exist is dialled, all at once, so no absent peer costs
// more than its own connect attempt.
//
// A server's SYSDBA slot admits one session, and every run needs the slot
// of every live server, so runs of several pods at once (all pods deleted
// together, a Parallel StatefulSet) contend. Contended slots are taken in
// position order: when a slot is taken, the run keeps the sessions of lower
// positions, releases those of higher ones, and waits for the lowest taken
// slot alone before dialling the rest again. A run that holds a slot then
// never waits for a lower one, so runs cannot deadlock, and the run holding
// the lowest slots finishes while the others wait, instead of every run
// grabbing and releasing in turn for as long as their timing stays in step
// (measured on a real kubelet: three preStop hooks at once livelocked for
// 80 s). The caller's deadline bounds every wait.
func (r *Runner) connect(ctx context.Context, self Member, members []Member, waitSelf bool) (*mesh, error) {
	log := r.log()
	var n notices
	held := map[int]Server{}
	release := func(above int) {
		for o, srv := range held {
			if o > above {
				srv.Close()
				delete(held, o)
			}
		}
	}
	// The local server first: while it is down, nothing else is dialled.
	for {
		srv, err := r.Dialer.Dial(ctx, self)
		if err == nil {
			held[self.Position] = srv
			break
		}
		if errors.Is(err, ErrBusy) {
			break // waited for below, in its position's turn
		}
		if !waitSelf || !errors.Is(err, ErrUnreachable) {
			return nil, selfError(log, self, err)
		}
		n.say(log, "self-down", "Waiting for the local Altibase server to accept connections.", "err", err)
		err = fmt.Errorf("%w: %s: %w", ErrSelfUnreachable, self.Name, err)
		if werr := r.pause(ctx, false); werr != nil {
			return nil, fmt.Errorf("%w (gave up waiting: %w)", err, werr)
		}
	}
	// The servers still wanted: self and every peer that may exist and has
	// not failed to answer.
	want := map[int]Member{self.Position: self}
	for _, mem := range members {
		if mem.Position == self.Position {
			continue
		}
		if mem.Absent {
			log.Debug("Peer does not exist.", "pod", mem.Name)
			continue
		}
		want[mem.Position] = mem
	}
	contended := false
	for {
		var dial []Member
		for _, o := range sortedKeys(want) {
			if _, ok := held[o]; !ok {
				dial = append(dial, want[o])
			}
		}
		if len(dial) == 0 {
			m := &mesh{self: &node{m: self, srv: held[self.Position]}, peers: map[int]*node{}, lost: map[int]bool{}, members: members, log: log}
			for o, srv := range held {
				if o != self.Position {
					m.peers[o] = &node{m: want[o], srv: srv}
				}
			}
			return m, nil
		}
		if contended {
			dial = dial[:1] // the lowest slot still missing, alone
		}
		res := dialAll(ctx, r.Dialer, dial)
		var busy []Member
		var refused []error
		for _, mem := range dial {
			err := res[mem.Position].err
			switch {
			case err == nil:
				held[mem.Position] = res[mem.Position].srv
			case errors.Is(err, ErrBusy):
				busy = append(busy, mem)
			case mem.Position == self.Position:
				refused = append(refused, selfError(log, self, err))
			case errors.Is(err, ErrUnreachable):
				log.Info("Peer is not reachable.", "pod", mem.Name, "err", err)
				delete(want, mem.Position)
			default:
				log.Error("Peer cannot be used.", "pod", mem.Name, "err", err)
				refused = append(refused, fmt.Errorf("%s: %w", mem.Name, err))
			}
		}
		if len(refused) > 0 {
			release(-1)
			return nil, errors.Join(refused...)
		}
		contended = len(busy) > 0
		if !contended {
			continue
		}
		release(busy[0].Position)
		names := make([]string, len(busy))
		for i, b := range busy {
			names[i] = b.Name
		}
		n.say(log, "busy", "A SYSDBA session is in use; waiting for it, holding only lower pods' sessions.", "pods", names)
		if werr := r.pause(ctx, true); werr != nil {
			release(-1)
			if busy[0].Position == self.Position {
				return nil, fmt.Errorf("%s: %w (gave up waiting: %w)", self.Name, ErrBusy, werr)
			}
			return nil, fmt.Errorf("%w on %s (gave up waiting: %w)", ErrBusy, strings.Join(names, ", "), werr)
		}
	}
}

// selfError is the run's error for a dial of the local server that failed
// other than busy: a refused login, or the server not reachable.
func selfError(log *slog.Logger, self Member, err error) error {
	if errors.Is(err, ErrLoginRefused) {
		log.Error("The local Altibase server refused aku's login.", "pod", self.Name, "err", err)
		return fmt.Errorf("%s refused the login: %w", self.Name, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrSelfUnreachable, self.Name, err)
}

type dialed struct {
	srv Server
	err error
}

// dialAll dials the members at once.
func dialAll(ctx context.Context, d Dialer, members []Member) map[int]dialed {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		out = map[int]dialed{}
	)
	for _, mem := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv, err := d.Dial(ctx, mem)
			mu.Lock()
			out[mem.Position] = dialed{srv, err}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// pause waits before the next attempt to connect: a jittered pause while
// a SYSDBA slot is taken, a fixed one while the local server is not up.
func (r *Runner) pause(ctx context.Context, busy bool) error {
	d := selfRetryInterval
	if busy {
		d = busyRetryMin + rand.N(busyRetryJitter)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.sleep(ctx, d)
}

// notices logs a wait when it begins and again every noticeEvery, so a
// long wait says what it waits for without flooding the log.
type notices map[string]time.Time

func (n *notices) say(log *slog.Logger, key, msg string, args ...any) {
	if *n == nil {
		*n = notices{}
	}
	if last, ok := (*n)[key]; ok && time.Since(last) < noticeEvery {
		return
	}
	(*n)[key] = time.Now()
	log.Info(msg, args...)
}

// closePeers releases the peers' sessions, keeping the local one.
func (m *mesh) closePeers() {
	for j, p := range m.peers {
		p.srv.Close()
		delete(m.peers, j)
	}
}

// close releases every session; closing again (or a nil mesh) does nothing.
func (m *mesh) close() {
	if m == nil {
		return
	}
	if m.self != nil {
		m.self.srv.Close()
		m.self = nil
	}
	m.closePeers()
}

// all is the local node followed by the reachable peers in position order.
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
	delete(m.peers, n.m.Position)
	m.lost[n.m.Position] = true
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
