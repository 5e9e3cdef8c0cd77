package altibaselc

import (
	"testing"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/lifecycle/config"
)

// Every dialect aku.conf accepts maps onto the client's dialect of the same
// name; a Config not made by config.Parse gets the default.
func TestDialect(t *testing.T) {
	var values []string
	for _, p := range config.Properties() {
		if p.Name == config.PropODBCDialect {
			values = p.Values
		}
	}
	if len(values) == 0 {
		t.Fatal("no values for " + config.PropODBCDialect)
	}
	for _, v := range values {
		if got := dialect(config.Dialect(v)).String(); got != v {
			t.Errorf("dialect(%q) = %s", v, got)
		}
	}
	if got := ClientOptions(&config.Config{}, nil).Dialect; got != altibase.DialectAltibase {
		t.Errorf("zero Config: %v", got)
	}
}
