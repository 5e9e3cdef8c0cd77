package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/aku-k8s/aku/lifecycle"
)

// Option adjusts Parse and Load.
type Option func(*options)

type options struct {
	getenv func(string) string
}

// WithEnv makes Parse and Load read environment overrides through getenv
// (os.Getenv in production). Without it no environment is read at all. An
// empty value counts as unset.
func WithEnv(getenv func(string) string) Option {
	return func(o *options) { o.getenv = getenv }
}

// envFile is the File of errors about environment overrides.
const envFile = "environment"

// Load reads and validates the aku.conf at path. See Parse.
func Load(path string, opts ...Option) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot open the configuration file", Kind: ErrRead, Err: err}
	}
	defer f.Close()
	return Parse(path, f, opts...)
}

// Parse reads and validates an aku.conf from r; name is used in messages.
// Environment overrides apply only with WithEnv. On any problem it returns
// a nil *Config and an error holding one *Error per problem found (joined
// with errors.Join, in line order); use errors.As to get the first and
// errors.Is with the sentinels to classify.
func Parse(name string, r io.Reader, opts ...Option) (*Config, error) {
	o := options{getenv: func(string) string { return "" }}
	for _, opt := range opts {
		opt(&o)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, &Error{File: name, Msg: "cannot read the configuration", Kind: ErrRead, Err: err}
	}
	if len(data) > maxFileSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("file larger than %d bytes", maxFileSize), Kind: ErrInvalid}
	}
	rf, err := scan(name, string(data))
	if err != nil {
		return nil, err
	}
	b := &builder{file: name, getenv: o.getenv, c: &Config{File: name, Sources: map[string]Source{}}}
	b.properties(rf)
	b.groups(rf)
	b.crossChecks()
	if len(b.errs) > 0 {
		return nil, joinSorted(b.errs)
	}
	return b.c, nil
}

// builder turns a rawFile into a Config, collecting every problem.
type builder struct {
	file   string
	getenv func(string) string
	c      *Config
	errs   []*Error
	failed map[string]bool // properties whose value was rejected
	// groupLines holds the line of each of c.Groups' opening parenthesis.
	groupLines []int
}

func (b *builder) add(line int, prop string, kind error, format string, args ...any) {
	b.errs = append(b.errs, &Error{File: b.file, Line: line, Property: prop, Kind: kind, Msg: fmt.Sprintf(format, args...)})
}

// addValueErr attaches a value's source to a problem from Property.set.
func (b *builder) addValueErr(src Source, prop string, err error) {
	e := &Error{File: b.file, Line: src.Line, Property: prop, Kind: ErrInvalid, Msg: err.Error()}
	var ve *valueError
	if errors.As(err, &ve) {
		e.Kind = ve.kind
	}
	switch src.Kind {
	case FromEnv:
		e.File = envFile
		if src.Name != prop {
			e.Msg = "$" + src.Name + ": " + e.Msg
		}
	case FromSecretFile:
		e.File = src.Name
	case FromDefault:
		e.Msg = "default " + e.Msg
	}
	b.markFailed(prop)
	b.errs = append(b.errs, e)
}

func (b *builder) properties(rf *rawFile) {
	fromFile := map[string]rawValue{}
	for _, p := range rf.Props {
		if prev, dup := fromFile[p.Name]; dup {
			b.add(p.Line, p.Name, ErrDuplicate, "duplicate property (first set at line %d)", prev.Line)
			continue
		}
		if _, known := lookupProperty(p.Name); !known {
			b.add(p.Line, p.Name, ErrUnknown, "%s", unknownMsg(p.Name))
			continue
		}
		if p.Value == "" {
			b.add(p.Line, p.Name, ErrInvalid, "empty value")
			b.markFailed(p.Name)
		}
		fromFile[p.Name] = p.rawValue
	}
	for _, p := range properties {
		if b.failed[p.Name] {
			continue
		}
		v, src, ok := b.value(p, fromFile)
		if !ok {
			continue
		}
		b.c.Sources[p.Name] = src
		if err := p.set(b.c, v, b.getenv); err != nil {
			b.addValueErr(src, p.Name, err)
		}
	}
	b.c.PasswordSource = b.c.Sources[PropSysPassword]
}

func (b *builder) markFailed(name string) {
	if b.failed == nil {
		b.failed = map[string]bool{}
	}
	b.failed[name] = true
}

// value picks a property's value by precedence: for AKU_SYS_PASSWORD the
// secret file named by $AKU_SYS_PASSWORD_FILE, then $AKU_SYS_PASSWORD; for
// other overridable properties $NAME; then the file; then the default. It
// records a missing required property and reports ok=false.
func (b *builder) value(p Property, fromFile map[string]rawValue) (string, Source, bool) {
	if p.Name == PropSysPassword {
		if path := b.getenv(EnvSysPasswordFile); path != "" {
			return b.secret(path)
		}
	}
	if p.Env {
		if v := b.getenv(p.Name); v != "" {
			return v, Source{Kind: FromEnv, Name: p.Name}, true
		}
	}
	if rv, ok := fromFile[p.Name]; ok {
		return rv.Value, Source{Kind: FromFile, Name: b.file, Line: rv.Line}, true
	}
	if p.Required {
		b.errs = append(b.errs, &Error{File: b.file, Property: p.Name, Kind: ErrMissing, Msg: missingMsg(p.Name)})
		return "", Source{}, false
	}
	if p.DefaultEnv != "" {
		if v := b.getenv(p.DefaultEnv); v != "" {
			return v, Source{Kind: FromEnv, Name: p.DefaultEnv}, true
		}
	}
	return p.Default, Source{Kind: FromDefault}, true
}

// secret reads the password from a mounted Secret. One trailing newline
// ("\n" or "\r\n", as left by echo or an editor) is dropped; nothing else.
func (b *builder) secret(path string) (string, Source, bool) {
	src := Source{Kind: FromSecretFile, Name: path}
	data, err := os.ReadFile(path)
	if err != nil {
		b.errs = append(b.errs, &Error{File: path, Property: PropSysPassword, Kind: ErrRead,
			Msg: "cannot read the password file named by $" + EnvSysPasswordFile, Err: err})
		return "", src, false
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if v == "" {
		b.errs = append(b.errs, &Error{File: path, Property: PropSysPassword, Kind: ErrInvalid,
			Msg: "the password file named by $" + EnvSysPasswordFile + " is empty"})
		return "", src, false
	}
	if strings.ContainsAny(v, "\x00\n\r") {
		b.errs = append(b.errs, &Error{File: path, Property: PropSysPassword, Kind: ErrInvalid,
			Msg: "the password file holds more than one line or a NUL byte"})
		return "", src, false
	}
	return v, src, true
}

func unknownMsg(name string) string {
	upper := strings.ToUpper(name)
	switch {
	case upper == propPrefix || upper == propSyncParallel:
		return fmt.Sprintf("unknown property %q here: it belongs inside a REPLICATIONS group", name)
	case upper != name:
		if _, ok := lookupProperty(upper); ok || upper == propReplications {
			return fmt.Sprintf("unknown property %q (property names are upper case: %s)", name, upper)
		}
	}
	return fmt.Sprintf("unknown property %q", name)
}

// crossChecks validates properties that are only wrong together. It skips
// what an earlier error already covers.
func (b *builder) crossChecks() {
	c := b.c
	ok := func(names ...string) bool {
		for _, n := range names {
			if b.failed[n] {
				return false
			}
			if _, set := c.Sources[n]; !set {
				return false
			}
		}
		return true
	}
	if ok(PropPortNo, PropReplicationPortNo) && c.PortNo == c.ReplicationPortNo {
		b.addAt(c.Sources[PropReplicationPortNo], c.Sources[PropPortNo], PropReplicationPortNo, ErrConflict,
			"value %d equals AKU_PORT_NO: the service and replication ports must differ", c.ReplicationPortNo)
	}
	if ok(PropHostFormat, PropSTSName, PropSVCName, PropServerCount) {
		for n := 0; n < c.ServerCount; n++ {
			if err := checkHostname(c.Host(n)); err != nil {
				src, prop := c.Sources[PropHostFormat], PropHostFormat
				if src.Kind == FromDefault {
					// The names, not the format, are too long or malformed.
					src, prop = c.Sources[PropSTSName], PropSTSName
				}
				b.addAt(src, c.Sources[PropSVCName], prop, ErrInvalid, "pod %d: %v (AKU_HOST_FORMAT %s)", n, err, c.HostFormat)
				break
			}
		}
	}
	if ok(PropServerCount) && c.ServerCount > 1 {
		for i, g := range c.Groups {
			if name := lifecycle.Name(g.Prefix, c.ServerCount-2, c.ServerCount-1); len(name) > MaxReplicationName {
				b.add(b.groupLines[i], propPrefix, ErrInvalid, "replication name %s is %d bytes long; Altibase allows at most %d", name, len(name), MaxReplicationName)
			}
		}
	}
}

// addAt reports a problem at the primary source, or at the secondary one
// when the primary is a default (which has no line) and the secondary is in
// the file.
func (b *builder) addAt(primary, secondary Source, prop string, kind error, format string, args ...any) {
	src := primary
	if src.Kind == FromDefault && secondary.Kind == FromFile {
		src = secondary
	}
	e := &Error{File: b.file, Line: src.Line, Property: prop, Kind: kind, Msg: fmt.Sprintf(format, args...)}
	if src.Kind == FromEnv {
		e.File = envFile
	}
	b.errs = append(b.errs, e)
}

// joinSorted orders problems by line (those without a line last, in table
// order) and joins them.
func joinSorted(errs []*Error) error {
	sort.SliceStable(errs, func(i, j int) bool {
		li, lj := errs[i].Line, errs[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}
