package framework

import (
	"net"
	"testing"
)

// A port taken between picking and binding makes Start begin again.
func TestStartRetriesATakenPort(t *testing.T) {
	Skip(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	orig := freePort
	defer func() { freePort = orig }()
	calls := 0
	freePort = func(t testing.TB) int {
		calls++
		if calls == 3 { // the API server's port, first attempt
			return taken
		}
		return orig(t)
	}
	cp := Start(t, Options{})
	if calls < 6 {
		t.Errorf("%d ports picked: Start did not begin again", calls)
	}
	if cp.URL() == "https://"+l.Addr().String() {
		t.Errorf("the API server claims the taken port %d", taken)
	}
	if _, err := cp.Kubectl("get", "ns", "default"); err != nil {
		t.Fatal(err)
	}
}
