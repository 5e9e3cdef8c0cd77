// Command elfcheck fails when an ELF object references a glibc symbol
// version newer than a floor: the check that the install tree (dist/aku)
// runs with any glibc from the floor on (docs/portable-binaries.md).
//
//	go run ./build/elfcheck -floor 2.17 dist/aku
//
// It walks each argument (a file or a directory; symbolic links are not
// followed), reads the version needs of every ELF file (SHT_GNU_verneed, as
// `objdump -T` shows them) with debug/elf, and prints one line per file:
// the newest GLIBC_ version it needs. Any GLIBC_x.y above the floor, and
// GLIBC_PRIVATE (glibc's internal interface, which differs between builds),
// is a failure: the file, the version and the symbols that need it are
// printed and the exit status is 1. A run that finds no ELF file fails too,
// so an empty or mistyped tree cannot pass.
package main

import (
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

func main() {
	floor := flag.String("floor", "2.17", "newest glibc symbol version allowed")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: elfcheck [-floor 2.17] FILE|DIR...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	max, err := parseVersion(*floor)
	if err != nil {
		fmt.Fprintln(os.Stderr, "elfcheck: -floor:", err)
		os.Exit(2)
	}
	reports, err := Check(flag.Args(), max)
	for _, r := range reports {
		fmt.Println(r)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "elfcheck:", err)
		os.Exit(1)
	}
}

// Version is a glibc version, e.g. [2 17] or [2 2 5].
type Version []int

func (v Version) String() string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ".")
}

// parseVersion parses "2.17" (also "GLIBC_2.17").
func parseVersion(s string) (Version, error) {
	s = strings.TrimPrefix(s, "GLIBC_")
	var v Version
	for _, part := range strings.Split(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("not a glibc version: %q", s)
		}
		v = append(v, n)
	}
	return v, nil
}

// ErrTooNew marks objects that need a glibc newer than the floor.
var ErrTooNew = errors.New("glibc symbol versions above the floor")

// Report is what one ELF file needs from glibc.
type Report struct {
	Path   string
	Newest Version  // newest GLIBC_x.y needed; nil if none
	Bad    []string // needs above the floor, e.g. "GLIBC_2.34 (__libc_start_main)"
}

func (r Report) String() string {
	newest := "no GLIBC_ version"
	if r.Newest != nil {
		newest = "GLIBC_" + r.Newest.String()
	}
	if len(r.Bad) == 0 {
		return fmt.Sprintf("ok   %s: newest %s", r.Path, newest)
	}
	return fmt.Sprintf("FAIL %s: needs %s", r.Path, strings.Join(r.Bad, ", "))
}

// Check walks paths and reports every ELF file in them. The error wraps
// ErrTooNew when a file needs more than floor.
func Check(paths []string, floor Version) ([]Report, error) {
	var reports []Report
	for _, root := range paths {
		// A symbolic link named on the command line is followed (a link
		// met inside a directory is not: its target is checked where it is).
		if fi, err := os.Lstat(root); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			if resolved, err := filepath.EvalSymlinks(root); err == nil {
				root = resolved
			}
		}
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			isELF, err := hasELFMagic(path)
			if err != nil || !isELF {
				return err
			}
			r, err := checkFile(path, floor)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			reports = append(reports, r)
			return nil
		})
		if err != nil {
			return reports, err
		}
	}
	if len(reports) == 0 {
		return nil, fmt.Errorf("no ELF file in %s", strings.Join(paths, " "))
	}
	var bad []string
	for _, r := range reports {
		if len(r.Bad) > 0 {
			bad = append(bad, r.Path)
		}
	}
	if len(bad) > 0 {
		return reports, fmt.Errorf("%w (GLIBC_%s): %s", ErrTooNew, floor, strings.Join(bad, ", "))
	}
	return reports, nil
}

func hasELFMagic(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil {
		return false, nil // shorter than a header: not ELF
	}
	return bytes.Equal(magic, []byte(elf.ELFMAG)), nil
}

func checkFile(path string, floor Version) (Report, error) {
	r := Report{Path: path}
	f, err := elf.Open(path)
	if err != nil {
		return r, err
	}
	defer f.Close()
	if f.SectionByType(elf.SHT_GNU_VERNEED) == nil {
		return r, nil // static, or no versioned imports
	}
	needs, err := f.DynamicVersionNeeds()
	if err != nil {
		return r, err
	}
	// Which symbols need which version, to name them in a failure.
	symbols := map[string][]string{}
	if syms, err := f.ImportedSymbols(); err == nil {
		for _, s := range syms {
			symbols[s.Version] = append(symbols[s.Version], s.Name)
		}
	}
	for _, n := range needs {
		for _, d := range n.Needs {
			if !strings.HasPrefix(d.Dep, "GLIBC_") {
				continue // e.g. another library's own versions
			}
			v, err := parseVersion(d.Dep)
			tooNew := err != nil // GLIBC_PRIVATE, or anything unparsable
			if err == nil {
				if r.Newest == nil || compare(v, r.Newest) > 0 {
					r.Newest = v
				}
				tooNew = compare(v, floor) > 0
			}
			if tooNew {
				names := symbols[d.Dep]
				slices.Sort(names)
				r.Bad = append(r.Bad, fmt.Sprintf("%s from %s (%s)", d.Dep, n.Name, strings.Join(slices.Compact(names), " ")))
			}
		}
	}
	slices.Sort(r.Bad)
	return r, nil
}

// compare orders versions numerically: 2.2.5 < 2.3 < 2.17 < 2.34.
func compare(a, b Version) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
