// Package scenarios_test is aku's scenario suite: the lifecycle end to end,
// through the real client and ODBC stack (package altibaselc's Dialer,
// package altibase, unixODBC and psqlODBC), against clusters of simulated
// Altibase servers (package altibasetest) on 127.0.1.x, one per pod of a
// StatefulSet. Applications write on every live pod, often after every step
// of a start, and the invariant checker (cluster.converge) proves that every
// pod ends with the same rows and that no acknowledged write is lost.
//
// The harness is in cluster_test.go (the cluster, its pods' runners and
// sessions, the invariant checker) and writer_test.go (an application on one
// pod). The tests, by what they prove:
//
//   - joins_test.go: scale-up with writes everywhere, several groups with
//     partitions; the original's documented join order loses a peer's rows
//     where aku does not (conformance case 30);
//   - restarts_test.go: a pod that comes back resyncs after a clean end,
//     resumes with its unsent changes after a kill, converges after a crash
//     at any step of its join; a master reset behind its back is detected,
//     and an unwritable marker is found before anything changes;
//   - ends_test.go: scale-down with reset on and off, and aku clean;
//   - presence_test.go: presence by evidence: a refused login, a peer down or
//     a link lost for a moment (retried), pod-0 killed in the middle of a join;
//   - held_sessions_test.go: a SYSDBA session held by a DBA, by a killed run's
//     statement, or not taken by a start waiting for its own server;
//   - concurrent_starts_test.go: starts that overlap (the same pod twice, two
//     new pods at once) take turns and leave no hole in the mesh;
//   - realistic_latency_test.go: scale-up, a kept-state restart and a
//     scale-down under the latency measured on real servers;
//   - status_test.go: aku status reads the mesh through ordinary SYS
//     sessions, never the SYSDBA slot;
//   - original_sequence_test.go: the original's reference driver (package
//     original) issues the manual's statements in the manual's order;
//   - speed_test.go, speed_memory_test.go, speed_report_test.go:
//     BenchmarkSpeed, `make bench` (aku and the original's sequence side by
//     side, bin/aku's peak RSS through testdata/maxrss, docs/bench/report.md).
package scenarios_test
