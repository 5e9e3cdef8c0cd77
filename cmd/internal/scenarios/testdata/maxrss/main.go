// Command maxrss runs a command and writes its peak resident set size
// (ru_maxrss, KiB) to the file named by -o; it exits with the command's
// status. BenchmarkSpeed runs aku through it: a child spawned straight from
// the large test process reports that process's RSS high-water mark instead
// of its own (Go starts children with CLONE_VM, and Linux carries the old
// address space's high-water mark into the signal struct at exec), whereas
// this small process lends its child only its own few MiB (the floor the
// report gives).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

func main() {
	out := flag.String("o", "", "file to write the peak RSS in KiB to")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: maxrss -o FILE COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "maxrss:", err)
		os.Exit(127)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "maxrss: no rusage")
		os.Exit(127)
	}
	if err := os.WriteFile(*out, []byte(strconv.FormatInt(ru.Maxrss, 10)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "maxrss:", err)
		os.Exit(127)
	}
	os.Exit(cmd.ProcessState.ExitCode())
}
