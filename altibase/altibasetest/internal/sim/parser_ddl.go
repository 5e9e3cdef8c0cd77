package sim

// The DDL, DCL and SIM statements of the parser: CREATE TABLE/USER/
// REPLICATION, ALTER REPLICATION/SYSTEM/SESSION/TABLE, SIM.

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
		var v cell
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
		if s.n, err = p.integer(); err == nil {
			s.match, err = p.onPrefix()
		}
	case "FAIL":
		if err := p.expect("NEXT"); err != nil {
			return nil, err
		}
		if s.n, err = p.integer(); err == nil {
			s.match, err = p.onPrefix()
		}
	default:
		p.back(t)
		return nil, p.unexpected()
	}
	return s, err
}

// onPrefix reads an optional ON 'statement prefix'.
func (p *parser) onPrefix() (string, error) {
	if !p.accept("ON") {
		return "", nil
	}
	return p.stringLit()
}
