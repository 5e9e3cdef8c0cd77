package altibase

// The statements the methods send, rendered (and validated) by the same
// code, for showing what a run would do (`aku plan`) without doing it.

// CreateStatement is CreateReplication's statement.
func CreateStatement(r Replication) (string, error) { return r.createSQL() }

// AlterStatement is ALTER REPLICATION name action (START, START RETRY,
// STOP, RESET).
func AlterStatement(name, action string) (string, error) { return alterSQL(name, action) }

// DropStatement is Drop's statement.
func DropStatement(name string) (string, error) {
	n, err := replName(name)
	if err != nil {
		return "", err
	}
	return "DROP REPLICATION " + n, nil
}

// FlushStatement is Flush's statement.
func FlushStatement(name string, o FlushOptions) (string, error) { return flushSQL(name, o) }

// SyncStatement is Sync's statement.
func SyncStatement(name string, parallel int) (string, error) { return syncSQL(name, "SYNC", parallel) }

// TruncateStatements are Truncate's statements, the property switch
// around them included.
func TruncateStatements(items []Item) ([]string, error) {
	stmts, err := truncateSQL(items)
	if err != nil {
		return nil, err
	}
	out := []string{setSQL("REPLICATION_DDL_ENABLE", 1)}
	out = append(out, stmts...)
	return append(out, setSQL("REPLICATION_DDL_ENABLE", 0)), nil
}

// SetPropertyStatement is SetProperty's statement.
func SetPropertyStatement(name string, value int64) (string, error) {
	n, err := ident("property", name, maxObjectName)
	if err != nil {
		return "", err
	}
	return setSQL(n, value), nil
}
