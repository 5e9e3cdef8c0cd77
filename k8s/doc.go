// Package k8s is aku's side of Kubernetes. It tells aku who it is and who
// its peers are (lifecycle.Discovery), from the pod's StatefulSet naming and
// DNS (the original's mode, dns.go) or from the Kubernetes API (api.go:
// ordinals, readiness, which pods exist); why a pod stops (intent.go:
// restart, scale-down or deletion, and the preStop deadline); the start
// Lease that serialises starts (lease.go); and the Pod Events a hook posts
// (events.go).
package k8s
