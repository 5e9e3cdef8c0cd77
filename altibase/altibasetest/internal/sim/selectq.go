package sim

import (
	"fmt"
	"sort"
)

// relation is a row source for SELECT: a table's rows or a meta view.
type relation struct {
	cols []Column
	rows [][]cell
}

func (r *relation) index(name string) int {
	for i, c := range r.cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func (s *Session) execSelect(x *selectStmt) (*Result, error) {
	rel, err := s.relationFor(x.from, needsOrder(x))
	if err != nil {
		return nil, err
	}
	for _, c := range x.where {
		if rel.index(c.col) < 0 {
			return nil, syntaxErr("column %s not found", c.col)
		}
	}
	for _, o := range x.order {
		if rel.index(o.col) < 0 {
			return nil, syntaxErr("column %s not found", o.col)
		}
	}
	rows := rel.rows[:0:0]
	for _, r := range rel.rows {
		ok := true
		for _, c := range x.where {
			if !matches(r[rel.index(c.col)], c.op, c.val) {
				ok = false
				break
			}
		}
		if ok {
			rows = append(rows, r)
		}
	}
	if len(x.order) > 0 {
		sort.SliceStable(rows, func(i, j int) bool {
			for _, o := range x.order {
				c := rel.index(o.col)
				if d := compareValues(rows[i][c], rows[j][c]); d != 0 {
					return d < 0 != o.desc
				}
			}
			return false
		})
	}
	return project(rel, rows, x)
}

// project applies the select list.
func project(rel *relation, rows [][]cell, x *selectStmt) (*Result, error) {
	if x.star {
		return finish(rel.cols, rows), nil
	}
	hasCount := false
	for _, it := range x.items {
		if it.count {
			hasCount = true
		} else if it.col != "" && rel.index(it.col) < 0 {
			return nil, syntaxErr("column %s not found", it.col)
		}
	}
	cols := make([]Column, len(x.items))
	for i, it := range x.items {
		switch {
		case it.count:
			cols[i] = Column{Name: it.alias, Type: TypeBigint}
		case it.isLit:
			cols[i] = Column{Name: it.alias, Type: litType(it.lit)}
		default:
			cols[i] = Column{Name: it.alias, Type: rel.cols[rel.index(it.col)].Type}
		}
	}
	one := func(r []cell) []cell {
		out := make([]cell, len(x.items))
		for i, it := range x.items {
			switch {
			case it.count:
				out[i] = int64(len(rows))
			case it.isLit:
				out[i] = it.lit
			default:
				out[i] = r[rel.index(it.col)]
			}
		}
		return out
	}
	if hasCount {
		for _, it := range x.items {
			if !it.count && !it.isLit {
				return nil, syntaxErr("not a single-group group function")
			}
		}
		return finish(cols, [][]cell{one(nil)}), nil
	}
	out := make([][]cell, len(rows))
	for i, r := range rows {
		out[i] = one(r)
	}
	return finish(cols, out), nil
}

func litType(v cell) ColumnType {
	switch x := v.(type) {
	case int64:
		if x > 1<<31-1 || x < -(1<<31-1) {
			return TypeBigint
		}
		return TypeInteger
	}
	return TypeVarchar
}

// finish converts internal values to the Result's Go types.
func finish(cols []Column, rows [][]cell) *Result {
	out := make([][]any, len(rows))
	for i, r := range rows {
		o := make([]any, len(cols))
		for j, v := range r {
			if n, ok := v.(int64); ok && cols[j].Type == TypeInteger {
				o[j] = int32(n)
			} else {
				o[j] = v
			}
		}
		out[i] = o
	}
	return &Result{Columns: cols, Rows: out, Tag: fmt.Sprintf("SELECT %d", len(rows))}
}

// needsOrder reports whether the rows' order can show in the result: not
// for COUNT(*) and literals alone.
func needsOrder(x *selectStmt) bool {
	if x.star {
		return true
	}
	for _, it := range x.items {
		if !it.count && !it.isLit {
			return true
		}
	}
	return false
}

// relationFor resolves FROM: a meta table or view, DUAL, or a user table
// (ordered by primary key if ordered).
func (s *Session) relationFor(o objName, ordered bool) (*relation, error) {
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if o.user == "" || o.user == "SYSTEM_" {
		if v, ok := views[o.name]; ok && (o.user == "" || v.system) {
			return &relation{cols: v.cols, rows: v.rows(n)}, nil
		}
	}
	if o.user == "" && o.name == "DUAL" {
		return &relation{cols: []Column{{Name: "DUMMY", Type: TypeChar}}, rows: [][]cell{{"X"}}}, nil
	}
	t, err := s.tableLocked(o)
	if err != nil {
		return nil, err
	}
	cols := make([]Column, len(t.def.Cols))
	for i, c := range t.def.Cols {
		cols[i] = Column{Name: c.Name, Type: c.Type}
	}
	if !ordered {
		rows := make([][]cell, 0, len(t.rows))
		for _, r := range t.rows {
			rows = append(rows, r)
		}
		return &relation{cols: cols, rows: rows}, nil
	}
	return &relation{cols: cols, rows: t.sortedRows()}, nil
}
