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
func (p *parser) literal() (Value, error) {
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
		var row []Value
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

func (p *parser) createStmt() (any, error) {
	switch {
	case p.accept("TABLE"):
		return p.createTable()
	case p.accept("USER"):
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		if err := p.expect("IDENTIFIED", "BY"); err != nil {
			return nil, err
		}
		pw, err := p.ident()
		return &createUserStmt{name: name, password: pw}, err
	}
	p.accept("LAZY")
	if err := p.expect("REPLICATION"); err != nil {
		return nil, err
	}
	return p.createRepl()
}

func (p *parser) createTable() (any, error) {
	s := &createTableStmt{}
	var err error
	if s.table, err = p.objName(); err != nil {
		return nil, err
	}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	for {
		if p.accept("PRIMARY") {
			if err := p.expect("KEY", "("); err != nil {
				return nil, err
			}
			if s.pk, err = p.identList(); err != nil {
				return nil, err
			}
		} else if err := p.columnDef(s); err != nil {
			return nil, err
		}
		if !p.accept(",") {
			break
		}
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	if p.accept("PARTITION") {
		if err := p.partitionClause(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p *parser) columnDef(s *createTableStmt) error {
	name, err := p.ident()
	if err != nil {
		return err
	}
	c := colDef{Name: name}
	t := p.next()
	switch t.text {
	case "INTEGER", "INT", "SMALLINT":
		c.Type = TypeInteger
	case "BIGINT":
		c.Type = TypeBigint
	case "VARCHAR", "CHAR", "NVARCHAR", "NCHAR", "VARCHAR2":
		c.Type = TypeVarchar
		if t.text == "CHAR" || t.text == "NCHAR" {
			c.Type = TypeChar
		}
		if err := p.expect("("); err != nil {
			return err
		}
		n, err := p.integer()
		if err != nil {
			return err
		}
		if n <= 0 {
			return syntaxErr("invalid column size %d", n)
		}
		c.Size = int(n)
		if err := p.expect(")"); err != nil {
			return err
		}
	default:
		p.back(t)
		return p.unexpected()
	}
	if p.accept("PRIMARY") {
		if err := p.expect("KEY"); err != nil {
			return err
		}
		s.pk = append(s.pk, name)
	} else if p.accept("NOT") {
		if err := p.expect("NULL"); err != nil {
			return err
		}
	}
	s.cols = append(s.cols, c)
	return nil
}

func (p *parser) partitionClause(s *createTableStmt) error {
	if err := p.expect("BY", "RANGE", "("); err != nil {
		return err
	}
	col, err := p.ident()
	if err != nil {
		return err
	}
	s.partCol = col
	if err := p.expect(")", "("); err != nil {
		return err
	}
	for {
		if err := p.expect("PARTITION"); err != nil {
			return err
		}
		name, err := p.ident()
		if err != nil {
			return err
		}
		d := partDef{Name: name}
		if err := p.expect("VALUES"); err != nil {
			return err
		}
		if !p.accept("DEFAULT") {
			if err := p.expect("LESS", "THAN", "("); err != nil {
				return err
			}
			n, err := p.integer()
			if err != nil {
				return err
			}
			d.Less = &n
			if err := p.expect(")"); err != nil {
				return err
			}
		}
		s.parts = append(s.parts, d)
		if !p.accept(",") {
			break
		}
	}
	return p.expect(")")
}

func (p *parser) createRepl() (any, error) {
	s := &createReplStmt{}
	var err error
	if s.name, err = p.ident(); err != nil {
		return nil, err
	}
	if err := p.expect("WITH"); err != nil {
		return nil, err
	}
	for p.peek().kind == tokString {
		h, _ := p.stringLit()
		if err := p.expect(","); err != nil {
			return nil, err
		}
		port, err := p.integer()
		if err != nil {
			return nil, err
		}
		s.hosts = append(s.hosts, hostSpec{Host: h, Port: port})
	}
	if len(s.hosts) == 0 {
		return nil, p.unexpected()
	}
	for {
		it, err := p.item()
		if err != nil {
			return nil, err
		}
		s.items = append(s.items, it)
		if !p.accept(",") {
			return s, nil
		}
	}
}

// tablePart reads user.table [PARTITION p]; the user is required.
func (p *parser) tablePart() (user, table, part string, err error) {
	o, err := p.objName()
	if err != nil {
		return "", "", "", err
	}
	if o.user == "" {
		o.user = "SYS"
	}
	if p.accept("PARTITION") {
		if part, err = p.ident(); err != nil {
			return "", "", "", err
		}
	}
	return o.user, o.name, part, nil
}

func (p *parser) item() (itemSpec, error) {
	var it itemSpec
	if err := p.expect("FROM"); err != nil {
		return it, err
	}
	var err error
	if it.LocalUser, it.LocalTable, it.LocalPart, err = p.tablePart(); err != nil {
		return it, err
	}
	if err := p.expect("TO"); err != nil {
		return it, err
	}
	it.RemoteUser, it.RemoteTable, it.RemotePart, err = p.tablePart()
	return it, err
}

func (p *parser) alterStmt() (any, error) {
	switch {
	case p.accept("REPLICATION"):
		return p.alterRepl()
	case p.accept("TABLE"):
		o, err := p.objName()
		if err != nil {
			return nil, err
		}
		if err := p.expect("TRUNCATE", "PARTITION"); err != nil {
			return nil, err
		}
		part, err := p.ident()
		return &truncateStmt{table: o, part: part}, err
	case p.accept("SYSTEM"):
		if err := p.expect("SET"); err != nil {
			return nil, err
		}
		prop, err := p.ident()
		if err != nil {
			return nil, err
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		v, err := p.integer()
		return &alterSystemStmt{prop: prop, val: v}, err
	case p.accept("SESSION"):
		if err := p.expect("SET"); err != nil {
			return nil, err
		}
		prop, err := p.ident()
		if err != nil {
			return nil, err
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		var v Value
		if t := p.peek(); t.kind == tokIdent {
			p.i++
			v = t.text
		} else if v, err = p.literal(); err != nil {
			return nil, err
		}
		return &alterSessionStmt{prop: prop, val: v}, nil
	}
	return nil, p.unexpected()
}

func (p *parser) alterRepl() (any, error) {
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	s := &alterReplStmt{name: name, wait: -1, parallel: 1}
	t := p.next()
	switch t.text {
	case "START", "QUICKSTART":
		s.action = t.text
		s.retry = p.accept("RETRY")
	case "STOP", "RESET":
		s.action = t.text
	case "FLUSH":
		s.action = actFlush
		s.all = p.accept("ALL")
		if p.accept("WAIT") {
			if s.wait, err = p.integer(); err != nil {
				return nil, err
			}
		}
	case "SYNC":
		return s, p.syncTail(s)
	default:
		p.back(t)
		return nil, p.unexpected()
	}
	return s, nil
}

func (p *parser) syncTail(s *alterReplStmt) error {
	s.action = actSync
	if p.accept("ONLY") {
		s.action = actSyncOnly
	}
	if p.accept("PARALLEL") {
		n, err := p.integer()
		if err != nil {
			return err
		}
		if n <= 0 {
			return syntaxErr("invalid parallel factor %d", n)
		}
		s.parallel = n
	}
	if !p.accept("TABLE") {
		return nil
	}
	for {
		u, t, part, err := p.tablePart()
		if err != nil {
			return err
		}
		s.tables = append(s.tables, syncTable{user: u, table: t, part: part})
		if !p.accept(",") {
			return nil
		}
	}
}

func (p *parser) simStmt() (any, error) {
	t := p.next()
	s := &simStmt{verb: t.text}
	var err error
	switch t.text {
	case "STALL", "RESUME":
		if err := p.expect("SENDER"); err != nil {
			return nil, err
		}
		s.name, err = p.ident()
	case "CUT", "HEAL":
		if t.text == "HEAL" && p.accept("ALL") {
			s.verb = "HEALALL"
			return s, nil
		}
		if err := p.expect("LINK"); err != nil {
			return nil, err
		}
		if s.host, err = p.stringLit(); err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		s.port, err = p.integer()
	case "DELAY":
		s.n, err = p.integer()
	case "FAIL":
		if err := p.expect("NEXT"); err != nil {
			return nil, err
		}
		s.n, err = p.integer()
	default:
		p.back(t)
		return nil, p.unexpected()
	}
	return s, err
}
