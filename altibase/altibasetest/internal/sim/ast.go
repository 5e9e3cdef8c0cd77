package sim

// cell is a stored value: int64, string or nil (NULL).
type cell = any

// objName is a possibly schema-qualified object name; user "" means the
// session's default schema.
type objName struct{ user, name string }

// cond is one `col op literal` term of a WHERE clause (terms are ANDed).
type cond struct {
	col string
	op  string
	val cell
}

type selItem struct {
	col   string // column name, "" for a literal or COUNT(*)
	lit   cell
	isLit bool
	count bool // COUNT(*)
	alias string
}

type orderItem struct {
	col  string
	desc bool
}

type selectStmt struct {
	star  bool
	items []selItem
	from  objName
	where []cond
	order []orderItem
}

type insertStmt struct {
	table objName
	cols  []string
	rows  [][]cell
}

type setClause struct {
	col string
	val cell
}

type updateStmt struct {
	table objName
	sets  []setClause
	where []cond
}

type deleteStmt struct {
	table objName
	where []cond
}

type colDef struct {
	Name string
	Type ColumnType
	Size int
}

type partDef struct {
	Name string
	Less *int64 // nil: VALUES DEFAULT
}

type createTableStmt struct {
	table   objName
	cols    []colDef
	pk      []string
	partCol string
	parts   []partDef
}

type createUserStmt struct{ name, password string }

type truncateStmt struct {
	table objName
	part  string // ALTER TABLE t TRUNCATE PARTITION p; "" for TRUNCATE TABLE
}

type hostSpec struct {
	Host string
	Port int64
}

// itemSpec is FROM user.table [PARTITION p] TO user.table [PARTITION p].
type itemSpec struct {
	LocalUser, LocalTable, LocalPart    string
	RemoteUser, RemoteTable, RemotePart string
}

type createReplStmt struct {
	name  string
	hosts []hostSpec
	items []itemSpec
}

// alterReplStmt actions.
const (
	actStart      = "START"
	actQuickStart = "QUICKSTART"
	actSync       = "SYNC"
	actSyncOnly   = "SYNC ONLY"
	actStop       = "STOP"
	actReset      = "RESET"
	actFlush      = "FLUSH"
)

type syncTable struct{ user, table, part string }

type alterReplStmt struct {
	name     string
	action   string
	retry    bool
	parallel int64
	tables   []syncTable
	all      bool  // FLUSH ALL
	wait     int64 // FLUSH WAIT n; -1 none
}

type dropReplStmt struct{ name string }

type alterSystemStmt struct {
	prop string
	val  int64
}

type alterSessionStmt struct {
	prop string
	val  cell
}

// noopStmt is a statement that succeeds without effect (COMMIT in autocommit).
type noopStmt struct{ tag string }

// simStmt is a fault-injection statement (see the package doc).
type simStmt struct {
	verb  string // STALL, RESUME, CUT, HEAL, HEALALL, DELAY, FAIL
	name  string
	host  string
	port  int64
	n     int64
	match string // DELAY/FAIL ... ON 'prefix'
}
