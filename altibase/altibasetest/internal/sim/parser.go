package sim

import "strings"

// parser is a recursive-descent parser over the tokens of one statement.
type parser struct {
	toks []token
	i    int
}

// parse parses one SQL statement (a trailing ';' allowed).
func parse(sql string) (any, error) {
	toks, err := lex(sql)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	st, err := p.statement()
	if err != nil {
		return nil, err
	}
	p.accept(";")
	if p.peek().kind != tokEOF {
		return nil, p.unexpected()
	}
	return st, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// back undoes next() of token t.
func (p *parser) back(t token) {
	if t.kind != tokEOF {
		p.i--
	}
}

// isKw reports whether the current token is the keyword or symbol s.
func (p *parser) isKw(s string) bool {
	t := p.peek()
	return (t.kind == tokIdent || t.kind == tokSymbol) && t.text == s
}

// accept consumes the keyword or symbol s if present.
func (p *parser) accept(s string) bool {
	if p.isKw(s) {
		p.i++
		return true
	}
	return false
}

// expect consumes the keywords or symbols in order.
func (p *parser) expect(ss ...string) error {
	for _, s := range ss {
		if !p.accept(s) {
			return p.unexpected()
		}
	}
	return nil
}

func (p *parser) unexpected() error {
	t := p.peek()
	if t.kind == tokEOF {
		return syntaxErr("unexpected end of statement")
	}
	txt := t.text
	if t.kind == tokString {
		txt = "'" + txt + "'"
	}
	return syntaxErr("parse error near %q at %d", txt, t.pos)
}

// ident reads an identifier: upper-cased unless double-quoted.
func (p *parser) ident() (string, error) {
	t := p.peek()
	if t.kind == tokIdent || t.kind == tokQIdent {
		p.i++
		return t.text, nil
	}
	return "", p.unexpected()
}

// objName reads name or user.name.
func (p *parser) objName() (objName, error) {
	a, err := p.ident()
	if err != nil {
		return objName{}, err
	}
	if p.accept(".") {
		b, err := p.ident()
		if err != nil {
			return objName{}, err
		}
		return objName{user: a, name: b}, nil
	}
	return objName{name: a}, nil
}

func (p *parser) integer() (int64, error) {
	neg := p.accept("-")
	t := p.peek()
	if t.kind != tokNumber {
		return 0, p.unexpected()
	}
	p.i++
	if neg {
		return -t.num, nil
	}
	return t.num, nil
}

func (p *parser) stringLit() (string, error) {
	t := p.peek()
	if t.kind != tokString {
		return "", p.unexpected()
	}
	p.i++
	return t.text, nil
}

// literal reads an integer, a string or NULL.
func (p *parser) literal() (cell, error) {
	t := p.peek()
	switch {
	case t.kind == tokString:
		p.i++
		return t.text, nil
	case t.kind == tokNumber || t.kind == tokSymbol && t.text == "-":
		return p.integer()
	case t.kind == tokIdent && t.text == "NULL":
		p.i++
		return nil, nil
	}
	return nil, p.unexpected()
}

func (p *parser) statement() (any, error) {
	t := p.peek()
	if t.kind != tokIdent {
		return nil, p.unexpected()
	}
	p.i++
	switch t.text {
	case "SELECT":
		return p.selectStmt()
	case "INSERT":
		return p.insertStmt()
	case "UPDATE":
		return p.updateStmt()
	case "DELETE":
		return p.deleteStmt()
	case "CREATE":
		return p.createStmt()
	case "ALTER":
		return p.alterStmt()
	case "DROP":
		if err := p.expect("REPLICATION"); err != nil {
			return nil, err
		}
		name, err := p.ident()
		return &dropReplStmt{name: name}, err
	case "TRUNCATE":
		if err := p.expect("TABLE"); err != nil {
			return nil, err
		}
		o, err := p.objName()
		return &truncateStmt{table: o}, err
	case "COMMIT", "ROLLBACK":
		p.accept("WORK")
		return &noopStmt{tag: t.text}, nil
	case "SIM":
		return p.simStmt()
	}
	p.back(t)
	return nil, p.unexpected()
}

func (p *parser) where() ([]cond, error) {
	if !p.accept("WHERE") {
		return nil, nil
	}
	var cs []cond
	for {
		col, err := p.ident()
		if err != nil {
			return nil, err
		}
		t := p.peek()
		if t.kind != tokSymbol {
			return nil, p.unexpected()
		}
		switch t.text {
		case "=", "<>", "!=", "<", "<=", ">", ">=":
		default:
			return nil, p.unexpected()
		}
		p.i++
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		cs = append(cs, cond{col: col, op: t.text, val: v})
		if !p.accept("AND") {
			return cs, nil
		}
	}
}

func (p *parser) selectStmt() (any, error) {
	s := &selectStmt{}
	if p.accept("*") {
		s.star = true
	} else {
		for {
			it, err := p.selItem()
			if err != nil {
				return nil, err
			}
			s.items = append(s.items, it)
			if !p.accept(",") {
				break
			}
		}
	}
	if err := p.expect("FROM"); err != nil {
		return nil, err
	}
	var err error
	if s.from, err = p.objName(); err != nil {
		return nil, err
	}
	if s.where, err = p.where(); err != nil {
		return nil, err
	}
	if p.accept("ORDER") {
		if err := p.expect("BY"); err != nil {
			return nil, err
		}
		for {
			col, err := p.ident()
			if err != nil {
				return nil, err
			}
			o := orderItem{col: col}
			if p.accept("DESC") {
				o.desc = true
			} else {
				p.accept("ASC")
			}
			s.order = append(s.order, o)
			if !p.accept(",") {
				break
			}
		}
	}
	return s, nil
}

func (p *parser) selItem() (selItem, error) {
	var it selItem
	t := p.peek()
	switch {
	case t.kind == tokIdent && t.text == "COUNT" && p.toks[p.i+1].text == "(":
		p.i++
		if err := p.expect("(", "*", ")"); err != nil {
			return it, err
		}
		it.count = true
		it.alias = "COUNT"
	case t.kind == tokIdent && t.text != "NULL" || t.kind == tokQIdent:
		p.i++
		it.col = t.text
		it.alias = t.text
	default:
		v, err := p.literal()
		if err != nil {
			return it, err
		}
		it.lit, it.isLit = v, true
		it.alias = strings.ToUpper(t.text)
	}
	if p.accept("AS") {
		a, err := p.ident()
		if err != nil {
			return it, err
		}
		it.alias = a
	} else if t := p.peek(); t.kind == tokQIdent || t.kind == tokIdent && !reservedAfterItem[t.text] {
		p.i++
		it.alias = t.text
	}
	return it, nil
}

var reservedAfterItem = map[string]bool{"FROM": true}

func (p *parser) insertStmt() (any, error) {
	if err := p.expect("INTO"); err != nil {
		return nil, err
	}
	s := &insertStmt{}
	var err error
	if s.table, err = p.objName(); err != nil {
		return nil, err
	}
	if p.accept("(") {
		if s.cols, err = p.identList(); err != nil {
			return nil, err
		}
	}
	if err := p.expect("VALUES"); err != nil {
		return nil, err
	}
	for {
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var row []cell
		for {
			v, err := p.literal()
			if err != nil {
				return nil, err
			}
			row = append(row, v)
			if !p.accept(",") {
				break
			}
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		s.rows = append(s.rows, row)
		if !p.accept(",") {
			return s, nil
		}
	}
}

// identList reads `a, b, c )` (the opening parenthesis already consumed).
func (p *parser) identList() ([]string, error) {
	var out []string
	for {
		id, err := p.ident()
		if err != nil {
			return nil, err
		}
		out = append(out, id)
		if !p.accept(",") {
			break
		}
	}
	return out, p.expect(")")
}

func (p *parser) updateStmt() (any, error) {
	s := &updateStmt{}
	var err error
	if s.table, err = p.objName(); err != nil {
		return nil, err
	}
	if err := p.expect("SET"); err != nil {
		return nil, err
	}
	for {
		col, err := p.ident()
		if err != nil {
			return nil, err
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		s.sets = append(s.sets, setClause{col: col, val: v})
		if !p.accept(",") {
			break
		}
	}
	s.where, err = p.where()
	return s, err
}

func (p *parser) deleteStmt() (any, error) {
	if err := p.expect("FROM"); err != nil {
		return nil, err
	}
	s := &deleteStmt{}
	var err error
	if s.table, err = p.objName(); err != nil {
		return nil, err
	}
	s.where, err = p.where()
	return s, err
}
