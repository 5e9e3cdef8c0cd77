package config

import (
	"errors"
	"strconv"
)

// Sentinels classify an *Error; branch on them with errors.Is.
var (
	ErrSyntax    = errors.New("syntax error")              // the file does not follow the aku.conf grammar
	ErrUnknown   = errors.New("unknown property")          // a property aku does not know
	ErrDuplicate = errors.New("duplicate")                 // a property, prefix or target given twice
	ErrMissing   = errors.New("missing property")          // a property without default is absent
	ErrRange     = errors.New("value out of range")        // a number outside its range
	ErrInvalid   = errors.New("invalid value")             // a malformed value (name, identifier, number)
	ErrConflict  = errors.New("conflicting values")        // values that are valid alone but not together
	ErrRead      = errors.New("cannot read configuration") // I/O failure
)

// Error is one problem in a configuration. Error() reads like
//
//	aku.conf:12: AKU_PORT_NO: value 80 out of range 1024..65535
//
// File is the configuration file (or "environment" for an environment
// override, or the secret file); Line is 0 when no line applies (a property
// missing from the whole file). Kind is one of the sentinels above, so
// errors.Is(err, config.ErrRange) works.
type Error struct {
	File     string
	Line     int
	Property string
	Msg      string
	Kind     error
	Err      error // an underlying cause, if any
}

func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	if e.Property != "" && e.Kind != ErrMissing {
		s += ": " + e.Property
	}
	s += ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is e's Kind, so that errors.Is(err, ErrRange)
// works on an *Error.
func (e *Error) Is(target error) bool { return target != nil && target == e.Kind }

// Unwrap returns the underlying cause (for example an *fs.PathError).
func (e *Error) Unwrap() error { return e.Err }

// missingMsg is the original aku's message, kept word for word.
func missingMsg(name string) string {
	return "Property [" + name + "] should be specified by configuration."
}
