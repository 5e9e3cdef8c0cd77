package sim

import (
	"sort"
	"strconv"
	"strings"

	"github.com/aku-k8s/aku/altibase"
)

// tableDef is a table's schema, stored as JSON.
type tableDef struct {
	User    string
	Name    string
	Cols    []colDef
	PK      []int // column indexes of the primary key
	PartCol int   // -1: not partitioned
	Parts   []partDef
}

// table is a table's schema and rows (keyed by the encoded primary key).
type table struct {
	def  tableDef
	rows map[string][]cell
}

func (t *table) fullName() string { return t.def.User + "." + t.def.Name }

func (t *table) colIndex(name string) int {
	for i, c := range t.def.Cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func (t *table) hasPart(name string) bool {
	for _, p := range t.def.Parts {
		if p.Name == name {
			return true
		}
	}
	return false
}

// partitionOf is the name of the partition row belongs to ("" if the table
// is not partitioned).
func (t *table) partitionOf(row []cell) string {
	if t.def.PartCol < 0 {
		return ""
	}
	v, _ := row[t.def.PartCol].(int64)
	for _, p := range t.def.Parts {
		if p.Less == nil || row[t.def.PartCol] != nil && v < *p.Less {
			return p.Name
		}
	}
	return ""
}

func (t *table) keyOfRow(row []cell) string {
	k := make([]cell, len(t.def.PK))
	for i, c := range t.def.PK {
		k[i] = row[c]
	}
	return keyOf(k)
}

// sortedRows returns the rows ordered by primary key.
func (t *table) sortedRows() [][]cell {
	out := make([][]cell, 0, len(t.rows))
	for _, r := range t.rows {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		for _, c := range t.def.PK {
			if d := compareValues(out[i][c], out[j][c]); d != 0 {
				return d < 0
			}
		}
		return false
	})
	return out
}

// newTableDef validates CREATE TABLE.
func newTableDef(user string, s *createTableStmt) (tableDef, error) {
	d := tableDef{User: user, Name: s.table.name, Cols: s.cols, PartCol: -1}
	seen := map[string]bool{}
	for _, c := range s.cols {
		if seen[c.Name] {
			return d, syntaxErr("duplicate column %s", c.Name)
		}
		seen[c.Name] = true
	}
	idx := func(name string) int {
		for i, c := range d.Cols {
			if c.Name == name {
				return i
			}
		}
		return -1
	}
	for _, k := range s.pk {
		i := idx(k)
		if i < 0 {
			return d, syntaxErr("column %s not found", k)
		}
		d.PK = append(d.PK, i)
	}
	if s.partCol != "" {
		i := idx(s.partCol)
		if i < 0 || d.Cols[i].Type == TypeVarchar || d.Cols[i].Type == TypeChar {
			return d, syntaxErr("invalid partition key column %s", s.partCol)
		}
		d.PartCol = i
		d.Parts = s.parts
		if len(d.Parts) == 0 || d.Parts[len(d.Parts)-1].Less != nil {
			return d, syntaxErr("the last partition must be VALUES DEFAULT")
		}
	}
	return d, nil
}

// coerce converts literal v to column c's type.
func coerce(c colDef, v cell) (cell, error) {
	if v == nil {
		return nil, nil
	}
	switch c.Type {
	case TypeInteger, TypeBigint:
		n, ok := v.(int64)
		if !ok {
			var err error
			if n, err = parseInt(v.(string)); err != nil {
				return nil, syntaxErr("invalid literal %q for column %s", v, c.Name)
			}
		}
		if c.Type == TypeInteger && (n > 1<<31-1 || n < -(1<<31-1)) {
			return nil, syntaxErr("value %d out of range for column %s", n, c.Name)
		}
		return n, nil
	}
	s, ok := v.(string)
	if !ok {
		s = formatInt(v.(int64))
	}
	if c.Type == TypeChar {
		s = strings.TrimRight(s, " ")
	}
	if len(s) > c.Size {
		return nil, syntaxErr("value too long for column %s (%d > %d)", c.Name, len(s), c.Size)
	}
	if c.Type == TypeChar {
		s += strings.Repeat(" ", c.Size-len(s))
	}
	return s, nil
}

func parseInt(s string) (int64, error) { return strconv.ParseInt(strings.TrimSpace(s), 10, 64) }

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

// buildRow makes a full row for INSERT from optional column names.
func (t *table) buildRow(cols []string, vals []cell) ([]cell, error) {
	row := make([]cell, len(t.def.Cols))
	if cols == nil {
		if len(vals) != len(t.def.Cols) {
			return nil, syntaxErr("%d values for %d columns", len(vals), len(t.def.Cols))
		}
		for i, v := range vals {
			cv, err := coerce(t.def.Cols[i], v)
			if err != nil {
				return nil, err
			}
			row[i] = cv
		}
	} else {
		if len(vals) != len(cols) {
			return nil, syntaxErr("%d values for %d columns", len(vals), len(cols))
		}
		for i, name := range cols {
			ci := t.colIndex(name)
			if ci < 0 {
				return nil, syntaxErr("column %s not found", name)
			}
			cv, err := coerce(t.def.Cols[ci], vals[i])
			if err != nil {
				return nil, err
			}
			row[ci] = cv
		}
	}
	for _, c := range t.def.PK {
		if row[c] == nil {
			return nil, &Error{Code: altibase.CodeSyntaxError, SQLState: "23000",
				Message: "Unable to insert (or update) NULL into NOT NULL column."}
		}
	}
	return row, nil
}

// rowMatches evaluates a WHERE clause against row.
func (t *table) rowMatches(row []cell, where []cond) bool {
	for _, c := range where {
		i := t.colIndex(c.col)
		if i < 0 || !matches(row[i], c.op, c.val) {
			return false
		}
	}
	return true
}

func (t *table) checkWhere(where []cond) error {
	for _, c := range where {
		if t.colIndex(c.col) < 0 {
			return syntaxErr("column %s not found", c.col)
		}
	}
	return nil
}

// pkLookup returns the key if where is exactly `pk = literal` for every PK
// column, so the row can be found without a scan.
func (t *table) pkLookup(where []cond) (string, bool) {
	if len(where) != len(t.def.PK) {
		return "", false
	}
	k := make([]cell, len(t.def.PK))
	for i, c := range t.def.PK {
		found := false
		for _, w := range where {
			if w.col == t.def.Cols[c].Name && w.op == "=" {
				v, err := coerce(t.def.Cols[c], w.val)
				if err != nil {
					return "", false
				}
				k[i], found = v, true
			}
		}
		if !found {
			return "", false
		}
	}
	return keyOf(k), true
}
