package sim

import (
	"encoding/binary"
	"errors"
	"strings"
)

// Values are encoded compactly for the store, the change log and the wire:
// a tag byte, then a varint (int64) or a length-prefixed string.
const (
	tagNull byte = iota
	tagInt
	tagStr
)

func appendValue(b []byte, v cell) []byte {
	switch x := v.(type) {
	case int64:
		b = append(b, tagInt)
		return binary.AppendVarint(b, x)
	case string:
		b = append(b, tagStr)
		b = binary.AppendUvarint(b, uint64(len(x)))
		return append(b, x...)
	}
	return append(b, tagNull)
}

func appendValues(b []byte, vs []cell) []byte {
	b = binary.AppendUvarint(b, uint64(len(vs)))
	for _, v := range vs {
		b = appendValue(b, v)
	}
	return b
}

var errCorrupt = errors.New("sim: corrupt encoded value")

// readValues decodes what appendValues wrote; it returns the rest of b.
func readValues(b []byte) ([]cell, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, nil, errCorrupt
	}
	b = b[k:]
	vs := make([]cell, n)
	for i := range vs {
		if len(b) == 0 {
			return nil, nil, errCorrupt
		}
		tag := b[0]
		b = b[1:]
		switch tag {
		case tagNull:
		case tagInt:
			x, k := binary.Varint(b)
			if k <= 0 {
				return nil, nil, errCorrupt
			}
			vs[i], b = x, b[k:]
		case tagStr:
			l, k := binary.Uvarint(b)
			if k <= 0 || uint64(len(b)-k) < l {
				return nil, nil, errCorrupt
			}
			vs[i], b = string(b[k:k+int(l)]), b[k+int(l):]
		default:
			return nil, nil, errCorrupt
		}
	}
	return vs, b, nil
}

// keyOf is the map key of a primary-key tuple.
func keyOf(vs []cell) string { return string(appendValues(nil, vs)) }

// compareValues orders NULL < numbers < strings.
func compareValues(a, b cell) int {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra - rb
	}
	switch x := a.(type) {
	case int64:
		y := b.(int64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case string:
		return strings.Compare(x, b.(string))
	}
	return 0
}

func rank(v cell) int {
	switch v.(type) {
	case nil:
		return 0
	case int64:
		return 1
	}
	return 2
}

// matches evaluates `v op lit`; NULL matches nothing.
func matches(v cell, op string, lit cell) bool {
	if v == nil || lit == nil {
		return false
	}
	// Compare a number column with a numeric string literal and vice versa
	// the way a lenient SQL engine would.
	if _, ok := v.(string); ok {
		if n, ok := lit.(int64); ok {
			lit = formatInt(n)
		}
	} else if s, ok := lit.(string); ok {
		n, err := parseInt(s)
		if err != nil {
			return false
		}
		lit = n
	}
	if a, ok := v.(string); ok {
		// Blank-padded comparison, so CHAR(n) values match unpadded literals.
		v, lit = strings.TrimRight(a, " "), strings.TrimRight(lit.(string), " ")
	}
	c := compareValues(v, lit)
	switch op {
	case "=":
		return c == 0
	case "<>", "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}
