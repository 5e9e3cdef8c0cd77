// Package k8s tells aku who it is and who its peers are: from the pod's
// StatefulSet naming and DNS (the original's mode), and from the Kubernetes
// API. It implements lifecycle.Discovery.
package k8s
