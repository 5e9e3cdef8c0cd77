package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Stamped at build time by the Makefile:
//
//	-ldflags "-X github.com/aku-k8s/aku/cmd/internal/cli.version=... -X ...cli.commit=..."
var version, commit string

// versionString is what -v prints, for example
// "aku version v0.1.0 (commit 3b71bc2, go1.26.8 linux/amd64)". Unstamped
// builds say "dev" and fall back to the VCS revision Go recorded, if any.
func versionString() string {
	v, c := version, commit
	if v == "" {
		v = "dev"
	}
	if c == "" {
		c = "unknown"
		if info, ok := debug.ReadBuildInfo(); ok {
			for _, s := range info.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 7 {
					c = s.Value[:7]
				}
			}
		}
	}
	return fmt.Sprintf("aku version %s (commit %s, %s %s/%s)", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
