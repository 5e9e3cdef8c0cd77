package k8s

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

func TestOrdinal(t *testing.T) {
	for _, tc := range []struct {
		pod, sts string
		want     int
		ok       bool
	}{
		{"altibase-sts-0", "altibase-sts", 0, true},
		{"altibase-sts-12", "altibase-sts", 12, true},
		{"altibase-sts-", "altibase-sts", 0, false},
		{"altibase-sts-01", "altibase-sts", 0, false},
		{"altibase-sts-x", "altibase-sts", 0, false},
		{"other-1", "altibase-sts", 0, false},
		{"altibase-sts--1", "altibase-sts", 0, false},
	} {
		got, err := Ordinal(tc.pod, tc.sts)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("Ordinal(%q, %q) = %d, %v", tc.pod, tc.sts, got, err)
		}
		if err != nil && !errors.Is(err, ErrNotInStatefulSet) {
			t.Errorf("error %v is not ErrNotInStatefulSet", err)
		}
	}
}

// A pod the configuration does not describe is refused before any lookup,
// with errors callers can tell from a failed lookup.
func TestDNSSelfRefusesPodConfigurationMismatch(t *testing.T) {
	for _, tc := range []struct {
		pod     string
		want    error
		wantMsg string
	}{
		{"nope-0", ErrNotInStatefulSet, `pod name is not <AKU_STS_NAME>-<ordinal>: POD_NAME (else the host name) "nope-0", AKU_STS_NAME "sts"`},
		{"sts-3", ErrBeyondServerCount, "pod sts-3 has ordinal 3, but AKU_SERVER_COUNT is 3"},
	} {
		d := &DNS{PodName: tc.pod, StsName: "sts", SvcName: "svc", ServerCount: 3, CheckCount: 1,
			Resolver: fakeResolver{}, LocalAddrs: func() ([]net.Addr, error) { return nil, nil }}
		_, err := d.Self(context.Background())
		if !errors.Is(err, tc.want) || err.Error() != tc.wantMsg {
			t.Errorf("Self(%s) = %v, want %v: %s", tc.pod, err, tc.want, tc.wantMsg)
		}
	}
	// A name that does not resolve is an action failure, not a mismatch.
	d := &DNS{PodName: "sts-1", StsName: "sts", SvcName: "svc", ServerCount: 3, CheckCount: 1,
		Resolver: fakeResolver{}, LocalAddrs: func() ([]net.Addr, error) { return nil, nil }}
	if _, err := d.Self(context.Background()); err == nil || errors.Is(err, ErrNotInStatefulSet) || errors.Is(err, ErrBeyondServerCount) {
		t.Errorf("unresolvable: err = %v", err)
	}
}

type fakeResolver map[string][]string

func (f fakeResolver) LookupHost(_ context.Context, h string) ([]string, error) {
	if a, ok := f[h]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: h, IsNotFound: true}
}

func TestDNSSelfWaitsBounded(t *testing.T) {
	podIP := &net.IPNet{IP: net.ParseIP("10.1.2.3"), Mask: net.CIDRMask(24, 32)}
	d := &DNS{PodName: "sts-1", StsName: "sts", SvcName: "svc", ServerCount: 3, CheckCount: 3,
		Interval: time.Millisecond, Resolver: fakeResolver{},
		LocalAddrs: func() ([]net.Addr, error) { return []net.Addr{podIP}, nil }}
	if _, err := d.Self(context.Background()); err == nil {
		t.Fatal("Self succeeded for an unresolvable name")
	}
	d.Resolver = fakeResolver{"sts-1.svc": {"10.9.9.9"}}
	if _, err := d.Self(context.Background()); err == nil {
		t.Fatal("Self succeeded for a name resolving to another pod")
	}
	d.Resolver = fakeResolver{"sts-1.svc": {"10.1.2.3"}}
	m, err := d.Self(context.Background())
	if err != nil || m.Position != 1 || m.Host != "sts-1.svc" {
		t.Fatalf("Self = %+v, %v", m, err)
	}
	d.PodName = "sts-3"
	if _, err := d.Self(context.Background()); err == nil {
		t.Fatal("ordinal beyond AKU_SERVER_COUNT accepted")
	}
	ms, _ := d.Members(context.Background())
	if len(ms) != 3 || ms[2].Host != "sts-2.svc" || ms[2].Name != "sts-2" {
		t.Fatalf("Members = %+v", ms)
	}
}
