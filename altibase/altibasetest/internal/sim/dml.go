package sim

import (
	"fmt"

	"github.com/aku-k8s/aku/altibase"
)

// tableFor resolves a table name against the session's schema; caller holds n.mu.
func (s *Session) tableLocked(o objName) (*table, error) {
	user := o.user
	if user == "" {
		user = s.user
	}
	t, ok := s.n.tables[tableKey(user, o.name)]
	if !ok {
		return nil, errc(altibase.CodeTableNotFound)
	}
	return t, nil
}

func (s *Session) execCreateTable(x *createTableStmt) (*Result, error) {
	user := x.table.user
	if user == "" {
		user = s.user
	}
	def, err := newTableDef(user, x)
	if err != nil {
		return nil, err
	}
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	key := tableKey(user, def.Name)
	if _, ok := n.tables[key]; ok {
		return nil, syntaxErr("duplicate object name %s", key)
	}
	b := &batch{}
	b.putJSON(bucketTables, key, def)
	if err := n.commit(b); err != nil {
		return nil, err
	}
	n.tables[key] = &table{def: def, rows: map[string][]cell{}}
	return &Result{Tag: "CREATE TABLE"}, nil
}

// putRowLocked stores row in t (memory and b) and logs the change.
func (n *Node) putRowLocked(b *batch, t *table, key string, row []cell, op byte, logIt bool) {
	var old []cell
	if op == opUpdate {
		old = t.rows[key]
	}
	t.rows[key] = row
	if n.db != nil {
		b.put(rowsPrefix+t.fullName(), []byte(key), appendValues(nil, row))
	}
	if logIt {
		n.appendLogLocked(b, op, t, row, old)
	}
}

// deleteRowLocked removes a row from t (memory and b) and logs the change.
func (n *Node) deleteRowLocked(b *batch, t *table, key string, logIt bool) {
	row := t.rows[key]
	delete(t.rows, key)
	if n.db != nil {
		b.del(rowsPrefix+t.fullName(), []byte(key))
	}
	if logIt {
		n.appendLogLocked(b, opDelete, t, row, nil)
	}
}

func (s *Session) execInsert(x *insertStmt) (*Result, error) {
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	t, err := s.tableLocked(x.table)
	if err != nil {
		return nil, err
	}
	rows := make([][]cell, len(x.rows))
	keys := make([]string, len(x.rows))
	seen := make(map[string]bool, len(x.rows))
	for i, vals := range x.rows {
		row, err := t.buildRow(x.cols, vals)
		if err != nil {
			return nil, err
		}
		k := t.keyOfRow(row)
		if _, dup := t.rows[k]; dup || seen[k] {
			return nil, errc(altibase.CodeUniqueViolation)
		}
		seen[k] = true
		rows[i], keys[i] = row, k
	}
	b := &batch{}
	for i, row := range rows {
		n.putRowLocked(b, t, keys[i], row, opInsert, s.replicates())
	}
	if err := n.commitChangesLocked(b); err != nil {
		return nil, err
	}
	return &Result{Tag: fmt.Sprintf("INSERT 0 %d", len(rows))}, nil
}

// matchingKeys returns the keys of the rows matching where.
func (t *table) matchingKeys(where []cond) []string {
	if k, ok := t.pkLookup(where); ok {
		if _, exists := t.rows[k]; exists {
			return []string{k}
		}
		return nil
	}
	var keys []string
	for k, r := range t.rows {
		if t.rowMatches(r, where) {
			keys = append(keys, k)
		}
	}
	return keys
}

func (s *Session) execUpdate(x *updateStmt) (*Result, error) {
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	t, err := s.tableLocked(x.table)
	if err != nil {
		return nil, err
	}
	if err := t.checkWhere(x.where); err != nil {
		return nil, err
	}
	idx := make([]int, len(x.sets))
	vals := make([]cell, len(x.sets))
	for i, sc := range x.sets {
		if idx[i] = t.colIndex(sc.col); idx[i] < 0 {
			return nil, syntaxErr("column %s not found", sc.col)
		}
		if vals[i], err = coerce(t.def.Cols[idx[i]], sc.val); err != nil {
			return nil, err
		}
	}
	keys := t.matchingKeys(x.where)
	type change struct {
		oldKey, newKey string
		row            []cell
	}
	changes := make([]change, 0, len(keys))
	taken := map[string]bool{}
	for _, k := range keys {
		row := append([]cell(nil), t.rows[k]...)
		for i, c := range idx {
			row[c] = vals[i]
		}
		nk := t.keyOfRow(row)
		if nk != k {
			for _, c := range t.def.PK {
				if row[c] == nil {
					return nil, syntaxErr("primary key column %s cannot be NULL", t.def.Cols[c].Name)
				}
			}
			if _, exists := t.rows[nk]; exists || taken[nk] {
				return nil, errc(altibase.CodeUniqueViolation)
			}
			taken[nk] = true
		}
		changes = append(changes, change{k, nk, row})
	}
	b := &batch{}
	for _, c := range changes {
		if c.oldKey == c.newKey && t.partitionOf(t.rows[c.oldKey]) == t.partitionOf(c.row) {
			n.putRowLocked(b, t, c.newKey, c.row, opUpdate, s.replicates())
			continue
		}
		// A key change or a move to another partition replicates as
		// delete + insert, so partition items each see their half.
		n.deleteRowLocked(b, t, c.oldKey, s.replicates())
		n.putRowLocked(b, t, c.newKey, c.row, opInsert, s.replicates())
	}
	if err := n.commitChangesLocked(b); err != nil {
		return nil, err
	}
	return &Result{Tag: fmt.Sprintf("UPDATE %d", len(changes))}, nil
}

func (s *Session) execDelete(x *deleteStmt) (*Result, error) {
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	t, err := s.tableLocked(x.table)
	if err != nil {
		return nil, err
	}
	if err := t.checkWhere(x.where); err != nil {
		return nil, err
	}
	keys := t.matchingKeys(x.where)
	b := &batch{}
	for _, k := range keys {
		n.deleteRowLocked(b, t, k, s.replicates())
	}
	if err := n.commitChangesLocked(b); err != nil {
		return nil, err
	}
	return &Result{Tag: fmt.Sprintf("DELETE %d", len(keys))}, nil
}

// execTruncate empties a table. Not replicated (DDL); refused on a
// replicated table unless REPLICATION_DDL_ENABLE=1; a started sender whose
// items include the table fails its re-handshake and sleeps
// REPLICATION_SENDER_SLEEP_TIMEOUT seconds (docs/altibase.md section 8).
func (s *Session) execTruncate(x *truncateStmt) (*Result, error) {
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	t, err := s.tableLocked(x.table)
	if err != nil {
		return nil, err
	}
	if x.part != "" && !t.hasPart(x.part) {
		return nil, errc(altibase.CodeTableNotFound)
	}
	var affected []*replication
	for _, r := range n.repls {
		for _, it := range r.def.Items {
			if it.LocalUser == t.def.User && it.LocalTable == t.def.Name &&
				(x.part == "" || it.LocalPart == "" || it.LocalPart == x.part) {
				affected = append(affected, r)
				break
			}
		}
	}
	if len(affected) > 0 && n.props[propReplDDLEnable] == 0 {
		return nil, errc(altibase.CodeReplicationDDLDisable)
	}
	b := &batch{}
	if x.part != "" {
		var gone []string
		for key, row := range t.rows {
			if t.partitionOf(row) == x.part {
				gone = append(gone, key)
				if n.db != nil {
					b.del(rowsPrefix+t.fullName(), []byte(key))
				}
			}
		}
		if err := n.commit(b); err != nil {
			return nil, err
		}
		for _, key := range gone {
			delete(t.rows, key)
		}
	} else {
		if n.db != nil {
			b.drop(rowsPrefix + t.fullName())
		}
		if err := n.commit(b); err != nil {
			return nil, err
		}
		t.rows = map[string][]cell{}
	}
	sleep := n.props[propSenderSleepTimeout]
	for _, r := range affected {
		if r.sender != nil {
			r.sender.sleepFor(sleep)
		}
	}
	if x.part != "" {
		return &Result{Tag: "ALTER TABLE"}, nil
	}
	return &Result{Tag: "TRUNCATE TABLE"}, nil
}

// commitChangesLocked ends a DML statement: trims the change log if it has
// grown, makes b durable and wakes the senders.
func (n *Node) commitChangesLocked(b *batch) error {
	n.maybeTrimLocked(b)
	if err := n.commit(b); err != nil {
		return err
	}
	n.notifyLogLocked()
	return nil
}
