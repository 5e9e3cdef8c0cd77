package sim

import (
	"context"
	"time"
)

// maxBatchScan bounds how many log records one batch covers.
const maxBatchScan = 4096

// pingEvery is how often an idle sender checks its connection.
const pingEvery = 100 * time.Millisecond

// sender ships an object's change log to the peer's receiver. It runs until
// halted (STOP, Close, Kill); while the peer is unreachable it retries.
type sender struct {
	n      *Node
	r      *replication
	ctx    context.Context // cancelled by halt
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{} // stall/resume/truncate nudges

	// guarded by n.mu
	pc                  *peerConn
	status, netErr      int64
	senderAddr, peerAdr string
	readCount, sendCnt  int64
	sleepUntil          time.Time

	lastContact time.Time // owned by the run goroutine
}

// launchSenderLocked starts r's sender, on pc if already handshaken.
func (n *Node) launchSenderLocked(r *replication, pc *peerConn) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &sender{n: n, r: r, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		wake: make(chan struct{}, 1), netErr: 1}
	r.sender = s
	if pc != nil {
		s.connectedLocked(pc)
	}
	n.wg.Add(1)
	go s.run(pc)
}

// halt stops the sender and waits for it; the caller does not hold n.mu.
func (s *sender) halt() {
	s.cancel()
	s.n.mu.Lock()
	if s.pc != nil {
		_ = s.pc.c.Close()
	}
	s.n.mu.Unlock()
	<-s.done
}

func (s *sender) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sleepFor makes the sender drop its connection and sleep secs seconds
// (REPLICATION_SENDER_SLEEP_TIMEOUT after a TRUNCATE); caller holds n.mu.
func (s *sender) sleepFor(secs int64) {
	s.sleepUntil = time.Now().Add(time.Duration(secs) * time.Second)
	s.nudge()
}

// sleepAfterLossLocked starts the sleep that follows a lost connection or a
// failed connect (Profile.SenderSleepsAfterLoss); it reports whether it
// did. Caller holds n.mu.
func (s *sender) sleepAfterLossLocked() bool {
	if !s.n.opts.Profile.SenderSleepsAfterLoss {
		return false
	}
	s.sleepUntil = time.Now().Add(time.Duration(s.n.props[propSenderSleepTimeout]) * time.Second)
	return true
}

func (s *sender) connectedLocked(pc *peerConn) {
	s.pc, s.status, s.netErr = pc, 1, 0
	s.senderAddr, s.peerAdr = pc.c.LocalAddr().String(), pc.c.RemoteAddr().String()
	r := s.r
	if r.def.XSN < 0 {
		r.def.XSN = r.def.Pinned
		if r.def.XSN < 0 {
			r.def.XSN = s.n.lastSN
		}
		r.def.Pinned = -1
		_ = s.n.persistReplLocked(r)
	}
}

func (s *sender) disconnectLocked() {
	if s.pc != nil {
		_ = s.pc.c.Close()
		delete(s.n.conns, s.pc.c)
	}
	s.pc, s.status, s.netErr = nil, 0, 1
}

// wait blocks for d, a wake-up or ch; false once the sender is halted.
func (s *sender) wait(d time.Duration, ch <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
		return false
	case <-t.C:
	case <-s.wake:
	case <-ch:
	}
	return true
}

func (s *sender) run(pc *peerConn) {
	n := s.n
	defer n.wg.Done()
	defer close(s.done)
	defer func() {
		n.mu.Lock()
		s.disconnectLocked()
		n.mu.Unlock()
	}()
	for s.ctx.Err() == nil {
		n.mu.Lock()
		until := s.sleepUntil
		retry := time.Duration(n.props[propSenderRetryMsec]) * time.Millisecond
		n.mu.Unlock()
		if d := time.Until(until); d > 0 {
			n.mu.Lock()
			s.disconnectLocked()
			n.mu.Unlock()
			pc = nil
			s.wait(d, nil)
			continue
		}
		if pc == nil {
			var err error
			if pc, err = n.connect(s.ctx, s.r, false); err != nil {
				n.mu.Lock()
				s.status, s.netErr = 0, 1
				sleeps := s.sleepAfterLossLocked()
				n.mu.Unlock()
				if !sleeps {
					s.wait(retry, nil)
				}
				continue
			}
			n.mu.Lock()
			s.connectedLocked(pc)
			n.mu.Unlock()
		}
		if !s.shipOnce(pc) {
			n.mu.Lock()
			s.disconnectLocked()
			if s.ctx.Err() == nil {
				s.sleepAfterLossLocked()
			}
			n.mu.Unlock()
			pc = nil
		}
	}
}

// shipOnce sends one batch (or waits for new records); false if the
// connection failed.
func (s *sender) shipOnce(pc *peerConn) bool {
	n := s.n
	n.mu.Lock()
	// Checked under n.mu: a statement that follows SIM STALL SENDER cannot
	// slip into a batch collected just before.
	if n.faults.isStalled(s.r.def.Name) {
		n.mu.Unlock()
		s.wait(50*time.Millisecond, nil)
		return true
	}
	xsn := s.r.def.XSN
	items := s.r.def.Items
	i := n.logFromLocked(xsn)
	var recs [][]byte
	end := xsn
	for k := i; k < len(n.log) && k < i+maxBatchScan; k++ {
		rec := n.log[k]
		end = rec.SN
		for _, it := range items {
			if it.LocalUser+"."+it.LocalTable == rec.Table && (it.LocalPart == "" || it.LocalPart == rec.Part) {
				out := rec
				out.Table = it.RemoteUser + "." + it.RemoteTable
				recs = append(recs, encodeRec(&out))
				break
			}
		}
	}
	if end == xsn && n.lastSN > xsn && len(n.log) == i {
		end = n.lastSN // nothing logged past xsn that we still hold: skip ahead
	}
	ch := n.logCh
	n.mu.Unlock()
	if end == xsn {
		// Idle: ping now and then so a dead peer or a cut link shows
		// (STATUS 0, NET_ERROR_FLAG 1) even without traffic.
		if time.Since(s.lastContact) >= pingEvery {
			reply, err := pc.call(&wireMsg{Kind: msgPing})
			if err != nil || reply.Kind != msgAck {
				return false
			}
			s.lastContact = time.Now()
		}
		s.wait(pingEvery, ch)
		return true
	}
	reply, err := pc.call(&wireMsg{Kind: msgBatch, Recs: recs, EndSN: end})
	if err != nil || reply.Kind != msgAck {
		return false
	}
	s.lastContact = time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	s.r.def.XSN = reply.EndSN
	s.readCount += int64(end - xsn)
	s.sendCnt += int64(len(recs))
	b := &batch{}
	b.putJSON(bucketRepl, s.r.def.Name, s.r.def)
	n.trimLogLocked(b)
	_ = n.commit(b)
	n.notifyAckLocked()
	return true
}
