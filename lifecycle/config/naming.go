package config

import "github.com/aku-k8s/aku/lifecycle"

// The naming rules are lifecycle's, which the lifecycle acts by
// (lifecycle.Name, lifecycle.Objects, lifecycle.HostName); the configuration
// only checks and displays their results.

// PodReplications lists the objects of the pod at position n under c's
// groups and AKU_SERVER_COUNT (nil if n is out of range): lifecycle.Objects.
func (c *Config) PodReplications(n int) []lifecycle.Object {
	return lifecycle.Objects(c.Groups, c.ServerCount, n)
}

// AllReplications lists every pod's objects, indexed by position.
func (c *Config) AllReplications() [][]lifecycle.Object {
	out := make([][]lifecycle.Object, c.ServerCount)
	for i := range out {
		out[i] = c.PodReplications(i)
	}
	return out
}
