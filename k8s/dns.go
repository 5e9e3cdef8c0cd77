package k8s

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/aku-k8s/aku/lifecycle"
)

// The pod and the configuration disagree: found by discovery before it
// changes anything, so callers may treat them as configuration errors.
var (
	// ErrNotInStatefulSet means the pod is not one of AKU_STS_NAME's: its
	// name does not follow <sts>-<ordinal>, or (Kubernetes discovery) the
	// StatefulSet does not control it.
	ErrNotInStatefulSet = errors.New("pod name is not <AKU_STS_NAME>-<ordinal>")
	// ErrBeyondServerCount means the pod's position in the StatefulSet is
	// not in 0..AKU_SERVER_COUNT-1 (with the API: below spec.ordinals.start
	// too).
	ErrBeyondServerCount = errors.New("pod is beyond AKU_SERVER_COUNT")
)

// Ordinal parses a StatefulSet pod name: "altibase-sts-3" with sts
// "altibase-sts" is 3.
func Ordinal(podName, sts string) (int, error) {
	rest, ok := strings.CutPrefix(podName, sts+"-")
	n, err := strconv.Atoi(rest)
	if !ok || err != nil || n < 0 || strconv.Itoa(n) != rest {
		return 0, fmt.Errorf("%w: POD_NAME (else the host name) %q, AKU_STS_NAME %q", ErrNotInStatefulSet, podName, sts)
	}
	return n, nil
}

// podError is a pod the configuration does not describe, with its own
// message; errors.Is matches it to its sentinel.
type podError struct {
	sentinel error
	msg      string
}

func (e *podError) Error() string        { return e.msg }
func (e *podError) Is(target error) bool { return target == e.sentinel }

// DNS is the original's discovery: the ordinal from the pod name, peers by
// their stable DNS names, and a bounded wait until this pod's own name
// resolves to one of its addresses (AKU_ADDRESS_CHECK_COUNT tries, 1 s apart).
type DNS struct {
	PodName     string // POD_NAME, else the host name
	StsName     string
	SvcName     string
	HostFormat  string // AKU_HOST_FORMAT; "" is lifecycle.DefaultHostFormat
	ServerCount int
	CheckCount  int
	Interval    time.Duration // between checks; 0 is 1 s
	Resolver    interface {
		LookupHost(ctx context.Context, host string) ([]string, error)
	}
	LocalAddrs func() ([]net.Addr, error) // net.InterfaceAddrs if nil
	Log        *slog.Logger
}

var _ lifecycle.Discovery = (*DNS)(nil)

// member is the pod with ordinal n, which DNS discovery takes for its
// position too (it knows no spec.ordinals.start).
func (d *DNS) member(n int) lifecycle.Member {
	host := lifecycle.HostName(d.HostFormat, d.StsName, d.SvcName, n)
	return lifecycle.Member{Position: n, Name: fmt.Sprintf("%s-%d", d.StsName, n), Host: host, Addr: host}
}

// Self implements lifecycle.Discovery.
func (d *DNS) Self(ctx context.Context) (lifecycle.Member, error) {
	n, err := Ordinal(d.PodName, d.StsName)
	if err != nil {
		return lifecycle.Member{}, err
	}
	if n >= d.ServerCount {
		return lifecycle.Member{}, &podError{ErrBeyondServerCount,
			fmt.Sprintf("pod %s has ordinal %d, but AKU_SERVER_COUNT is %d", d.PodName, n, d.ServerCount)}
	}
	m := d.member(n)
	if err := d.waitResolvable(ctx, m.Host); err != nil {
		return lifecycle.Member{}, err
	}
	return m, nil
}

// Members implements lifecycle.Discovery.
func (d *DNS) Members(context.Context) ([]lifecycle.Member, error) {
	out := make([]lifecycle.Member, d.ServerCount)
	for i := range out {
		out[i] = d.member(i)
	}
	return out, nil
}

func (d *DNS) waitResolvable(ctx context.Context, host string) error {
	tries := max(d.CheckCount, 1)
	interval := d.Interval
	if interval <= 0 {
		interval = time.Second
	}
	var last error
	for i := 1; i <= tries; i++ {
		last = d.resolvesHere(ctx, host)
		if last == nil {
			return nil
		}
		if d.Log != nil {
			d.Log.Debug("Own address not resolvable yet.", "host", host, "try", i, "err", last)
		}
		if i == tries {
			break
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return fmt.Errorf("own address %s did not resolve to this pod after %d tries (AKU_ADDRESS_CHECK_COUNT): %w", host, tries, last)
}

func (d *DNS) resolvesHere(ctx context.Context, host string) error {
	r := d.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupHost(lctx, host)
	if err != nil {
		return err
	}
	local := d.LocalAddrs
	if local == nil {
		local = net.InterfaceAddrs
	}
	ifaddrs, err := local()
	if err != nil {
		return fmt.Errorf("list local addresses: %w", err)
	}
	for _, a := range addrs {
		ip := net.ParseIP(a)
		if ip == nil {
			continue
		}
		if ip.IsLoopback() {
			return nil
		}
		for _, ia := range ifaddrs {
			if n, ok := ia.(*net.IPNet); ok && n.IP.Equal(ip) {
				return nil
			}
		}
	}
	return fmt.Errorf("%s resolves to %v, none of them this pod's", host, addrs)
}
