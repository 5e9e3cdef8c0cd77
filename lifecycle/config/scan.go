package config

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The aku.conf grammar (newlines matter only at the top level):
//
//	file        = { line } .
//	line        = [ property | replications ] [ comment ] "\n" .
//	property    = NAME "=" value .              value: the rest of the line, trimmed
//	replications= "REPLICATIONS" "=" group { "," group } .
//	group       = "(" { groupprop | targets } ")" .
//	groupprop   = ( "REPLICATION_NAME_PREFIX" | "SYNC_PARALLEL_COUNT" ) "=" WORD .
//	targets     = "(" target { "," target } ")" .
//	target      = WORD "." WORD [ "PARTITION" WORD ] .
//	comment     = "#" { any character but "\n" } .   (may be empty; allowed anywhere)
//
// Inside REPLICATIONS, newlines, blanks and comments may appear between any
// two tokens. A top-level property must start on a line of its own and the
// last group's ")" must end its line (a comment may follow).

// rawValue is a value as written, with the line it was written on.
type rawValue struct {
	Value string
	Line  int
}

type rawTarget struct {
	User, Table, Partition string
	Line                   int
}

type rawGroup struct {
	Line    int                 // line of "("
	Props   map[string]rawValue // REPLICATION_NAME_PREFIX, SYNC_PARALLEL_COUNT
	Targets []rawTarget
	HasList bool // a target list was given
}

type rawProp struct {
	Name string
	rawValue
}

type rawFile struct {
	Props    []rawProp // top-level properties in file order, except REPLICATIONS
	ReplLine int       // line of REPLICATIONS (0: absent)
	Groups   []rawGroup
}

// Group property names.
const (
	propPrefix       = "REPLICATION_NAME_PREFIX"
	propSyncParallel = "SYNC_PARALLEL_COUNT"
	propReplications = "REPLICATIONS"
)

// maxFileSize bounds what Parse reads: aku.conf is a few kilobytes.
const maxFileSize = 1 << 20

type scanner struct {
	file string
	src  string
	pos  int
	line int
}

func (s *scanner) errf(line int, prop, format string, args ...any) *Error {
	return &Error{File: s.file, Line: line, Property: prop, Msg: fmt.Sprintf(format, args...), Kind: ErrSyntax}
}

// here is the current line for messages: at the end of a file that ends
// with a newline, the last line rather than the empty one after it.
func (s *scanner) here() int {
	if s.eof() && s.line > 1 && strings.HasSuffix(s.src, "\n") {
		return s.line - 1
	}
	return s.line
}

func (s *scanner) eof() bool { return s.pos >= len(s.src) }

func (s *scanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.pos]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

func isSpecial(c byte) bool {
	return c == '=' || c == '(' || c == ')' || c == ',' || c == '.' || c == '#' || c == '\n' || isSpace(c)
}

// skipSpace skips blanks on the current line.
func (s *scanner) skipSpace() {
	for !s.eof() && isSpace(s.src[s.pos]) {
		s.pos++
	}
}

// skipComment skips a comment up to (not including) the end of the line.
func (s *scanner) skipComment() {
	if s.peek() != '#' {
		return
	}
	if i := strings.IndexByte(s.src[s.pos:], '\n'); i >= 0 {
		s.pos += i
	} else {
		s.pos = len(s.src)
	}
}

// skipBlank skips blanks, comments and newlines.
func (s *scanner) skipBlank() {
	for {
		s.skipSpace()
		s.skipComment()
		if s.peek() != '\n' {
			return
		}
		s.pos++
		s.line++
	}
}

// word reads a run of non-special characters.
func (s *scanner) word() string {
	start := s.pos
	for !s.eof() && !isSpecial(s.src[s.pos]) {
		s.pos++
	}
	return s.src[start:s.pos]
}

// restOfLine returns the rest of the line up to a comment, trimmed, and
// leaves the scanner on the comment or the newline.
func (s *scanner) restOfLine() string {
	start := s.pos
	for !s.eof() && s.src[s.pos] != '\n' && s.src[s.pos] != '#' {
		s.pos++
	}
	return strings.Trim(s.src[start:s.pos], " \t\r\v\f")
}

// describe renders the next token for an error message.
func (s *scanner) describe() string {
	if s.eof() {
		return "end of file"
	}
	if c := s.peek(); c == '\n' {
		return "end of line"
	}
	if w := s.word(); w != "" {
		return fmt.Sprintf("%q", w)
	}
	return fmt.Sprintf("%q", s.src[s.pos:s.pos+1])
}

// checkText rejects what no aku.conf contains: invalid UTF-8, NUL and other
// control characters. It reports the first offending line.
func checkText(file, src string) error {
	line := 1
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return &Error{File: file, Line: line, Msg: "invalid UTF-8", Kind: ErrSyntax}
		case r == '\n':
			line++
		case r == '\t' || r == '\r':
		case r < 0x20 || r == 0x7f:
			return &Error{File: file, Line: line, Msg: fmt.Sprintf("control character %U", r), Kind: ErrSyntax}
		}
		i += size
	}
	return nil
}

// scan parses the file's syntax. A syntax error stops it; duplicates inside
// a group are syntax errors too (their meaning is ambiguous).
func scan(file, src string) (*rawFile, error) {
	src = strings.TrimPrefix(src, "\uFEFF")
	if err := checkText(file, src); err != nil {
		return nil, err
	}
	s := &scanner{file: file, src: src, line: 1}
	rf := &rawFile{}
	for {
		s.skipBlank()
		if s.eof() {
			break
		}
		line := s.line
		name := s.word()
		if name == "" {
			return nil, s.errf(line, "", "expected a property name, found %s", s.describe())
		}
		s.skipSpace()
		if s.peek() != '=' {
			return nil, s.errf(line, name, "expected '=' after the property name, found %s", s.describe())
		}
		s.pos++
		if name == propReplications {
			if rf.ReplLine != 0 {
				return nil, &Error{File: file, Line: line, Property: name, Kind: ErrDuplicate,
					Msg: fmt.Sprintf("duplicate property (first set at line %d)", rf.ReplLine)}
			}
			rf.ReplLine = line
			groups, err := s.groups()
			if err != nil {
				return nil, err
			}
			rf.Groups = groups
			continue
		}
		s.skipSpace()
		v := s.restOfLine()
		rf.Props = append(rf.Props, rawProp{Name: name, rawValue: rawValue{Value: v, Line: line}})
	}
	return rf, nil
}

// groups parses "group { , group }" after "REPLICATIONS =".
func (s *scanner) groups() ([]rawGroup, error) {
	var gs []rawGroup
	for {
		s.skipBlank()
		if s.peek() != '(' {
			return nil, s.errf(s.here(), propReplications, "expected '(' to open a replication group, found %s", s.describe())
		}
		s.pos++
		g, err := s.group()
		if err != nil {
			return nil, err
		}
		gs = append(gs, g)
		// After ")": a "," continues, on this line or a later one; anything
		// else on this line is an error; otherwise the block has ended.
		s.skipSpace()
		s.skipComment()
		if s.peek() == ',' {
			s.pos++
			continue
		}
		if !s.eof() && s.peek() != '\n' {
			return nil, s.errf(s.here(), propReplications, "expected ',' or end of line after a replication group, found %s", s.describe())
		}
		pos, ln := s.pos, s.line
		s.skipBlank()
		if s.peek() == ',' {
			s.pos++
			continue
		}
		s.pos, s.line = pos, ln
		return gs, nil
	}
}

// group parses a group's body after its "(".
func (s *scanner) group() (rawGroup, error) {
	g := rawGroup{Line: s.line, Props: map[string]rawValue{}}
	for {
		s.skipBlank()
		switch c := s.peek(); {
		case s.eof():
			return g, s.errf(s.here(), propReplications, "replication group opened at line %d is not closed", g.Line)
		case c == ')':
			s.pos++
			return g, nil
		case c == '(':
			if g.HasList {
				return g, s.errf(s.here(), propReplications, "second target list in the replication group opened at line %d", g.Line)
			}
			s.pos++
			ts, err := s.targets()
			if err != nil {
				return g, err
			}
			g.Targets, g.HasList = ts, true
		case isSpecial(c):
			return g, s.errf(s.here(), propReplications, "expected a group property, a target list or ')', found %s", s.describe())
		default:
			line := s.line
			name := s.word()
			if name != propPrefix && name != propSyncParallel {
				return g, &Error{File: s.file, Line: line, Property: name, Kind: ErrUnknown,
					Msg: fmt.Sprintf("unknown property in a replication group (want %s or %s)", propPrefix, propSyncParallel)}
			}
			if prev, ok := g.Props[name]; ok {
				return g, &Error{File: s.file, Line: line, Property: name, Kind: ErrDuplicate,
					Msg: fmt.Sprintf("duplicate property (first set at line %d)", prev.Line)}
			}
			s.skipSpace()
			if s.peek() != '=' {
				return g, s.errf(line, name, "expected '=' after the property name, found %s", s.describe())
			}
			s.pos++
			s.skipSpace()
			v := s.word()
			if v == "" {
				return g, s.errf(line, name, "missing value, found %s", s.describe())
			}
			g.Props[name] = rawValue{Value: v, Line: line}
		}
	}
}

// targets parses "target { , target } )" after the list's "(".
func (s *scanner) targets() ([]rawTarget, error) {
	var ts []rawTarget
	for {
		s.skipBlank()
		if len(ts) == 0 && s.peek() == ')' {
			return nil, s.errf(s.here(), propReplications, "empty target list: give at least one USER.TABLE")
		}
		t := rawTarget{Line: s.line}
		if t.User = s.word(); t.User == "" {
			return nil, s.errf(s.here(), propReplications, "expected a target USER.TABLE, found %s", s.describe())
		}
		s.skipBlank()
		if s.peek() != '.' {
			return nil, s.errf(s.here(), propReplications, "target %q: expected '.' between user and table, found %s", t.User, s.describe())
		}
		s.pos++
		s.skipBlank()
		if t.Table = s.word(); t.Table == "" {
			return nil, s.errf(s.here(), propReplications, "target %q: expected a table name after '.', found %s", t.User+".", s.describe())
		}
		s.skipBlank()
		if c := s.peek(); !s.eof() && !isSpecial(c) {
			pos, line := s.pos, s.line
			if kw := s.word(); !strings.EqualFold(kw, "PARTITION") {
				s.pos, s.line = pos, line
				return nil, s.errf(s.here(), propReplications, "target %s.%s: expected ',', ')' or PARTITION, found %s", t.User, t.Table, s.describe())
			}
			s.skipBlank()
			if t.Partition = s.word(); t.Partition == "" {
				return nil, s.errf(s.here(), propReplications, "target %s.%s: expected a partition name after PARTITION, found %s", t.User, t.Table, s.describe())
			}
			s.skipBlank()
		}
		ts = append(ts, t)
		switch s.peek() {
		case ',':
			s.pos++
		case ')':
			s.pos++
			return ts, nil
		default:
			return nil, s.errf(s.here(), propReplications, "after target %s: expected ',' or ')', found %s", ts[len(ts)-1].String(), s.describe())
		}
	}
}

func (t rawTarget) String() string {
	s := t.User + "." + t.Table
	if t.Partition != "" {
		s += " PARTITION " + t.Partition
	}
	return s
}
