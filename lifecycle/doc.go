// Package lifecycle runs aku's start, end and clean over a mesh of Altibase
// servers. It decides (master or slave, sync or resume, reset or keep) with
// pure functions and acts through the small interfaces in deps.go, so it
// imports neither the ODBC client nor Kubernetes: cmd/internal/cli wires the
// concrete implementations in.
//
// The join of a reset slave follows the pinned order (docs/altibase.md section 8,
// conformance case 31), not the original's documented order, which loses rows
// written on a non-master peer while the new pod is synced.
package lifecycle
