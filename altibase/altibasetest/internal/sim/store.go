package sim

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/aku-k8s/aku/altibase"
)

// The store mirrors the node's memory state in bbolt, written through one
// transaction per statement (or per applied batch) before the statement is
// acknowledged. bbolt runs with NoSync: a commit is written to the file
// (the page cache) but not fsynced, so it survives a process kill (what Kill
// and a pod restart model) though not a machine crash.
var (
	bucketTables = []byte("tables") // USER.NAME -> tableDef JSON
	bucketLog    = []byte("log")    // SN (8 bytes big endian) -> logRec
	bucketRepl   = []byte("repl")   // name -> replDef JSON
	bucketMeta   = []byte("meta")   // counters and users
	rowsPrefix   = "rows:"          // one bucket of rows per table
)

// storeOp is one write in a batch: a put (val != nil), a delete, or the drop
// of a whole bucket (dropBucket).
type storeOp struct {
	bucket     string
	key, val   []byte
	dropBucket bool
}

// batch collects the writes of one statement.
type batch struct {
	ops    []storeOp
	logged bool // the batch appends to the change log: persist lastSN too
}

func (b *batch) put(bucket string, key, val []byte) {
	b.ops = append(b.ops, storeOp{bucket: bucket, key: key, val: val})
}

func (b *batch) del(bucket string, key []byte) {
	b.ops = append(b.ops, storeOp{bucket: bucket, key: key})
}

func (b *batch) drop(bucket string) { b.ops = append(b.ops, storeOp{bucket: bucket, dropBucket: true}) }

func (b *batch) putJSON(bucket []byte, key string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sim: marshal %T: %v", v, err)) // plain structs: cannot fail
	}
	b.put(string(bucket), []byte(key), data)
}

func (b *batch) putMeta(key string, v int64) {
	b.put(string(bucketMeta), []byte(key), binary.BigEndian.AppendUint64(nil, uint64(v)))
}

func snKey(sn int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(sn)) }

// openStore opens (creating) the bbolt file in dir.
func openStore(dir string) (*bolt.DB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir %q: %w", dir, err)
	}
	db, err := bolt.Open(filepath.Join(dir, "altibase.db"), 0o600,
		&bolt.Options{Timeout: 5 * time.Second, NoSync: true, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("open store in %q: %w", dir, err)
	}
	return db, nil
}

// commit writes b; the caller holds n.mu. In-memory nodes skip it.
func (n *Node) commit(b *batch) error {
	if n.db == nil || len(b.ops) == 0 {
		return nil
	}
	if n.killed {
		return errc(altibase.CodeLinkFailure)
	}
	if b.logged {
		b.putMeta("lastSN", n.lastSN)
	}
	err := n.db.Update(func(tx *bolt.Tx) error {
		for _, op := range b.ops {
			if op.dropBucket {
				if err := tx.DeleteBucket([]byte(op.bucket)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
					return err
				}
				continue
			}
			bk, err := tx.CreateBucketIfNotExists([]byte(op.bucket))
			if err != nil {
				return err
			}
			if op.val == nil {
				err = bk.Delete(op.key)
			} else {
				err = bk.Put(op.key, op.val)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return &Error{Code: altibase.CodeLinkFailure, SQLState: "HY000", Message: "store: " + err.Error()}
	}
	return nil
}

// load reads the store into memory (called by Open before anything runs).
func (n *Node) load() error {
	return n.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMeta); b != nil {
			get := func(k string) int64 {
				v := b.Get([]byte(k))
				if len(v) != 8 {
					return 0
				}
				return int64(binary.BigEndian.Uint64(v))
			}
			n.lastSN, n.hostSeq, n.replSeq = get("lastSN"), get("hostSeq"), get("replSeq")
			if u := b.Get([]byte("users")); u != nil {
				if err := json.Unmarshal(u, &n.users); err != nil {
					return err
				}
			}
		}
		if err := n.loadTables(tx); err != nil {
			return err
		}
		if err := n.loadLog(tx); err != nil {
			return err
		}
		if b := tx.Bucket(bucketRepl); b != nil {
			return b.ForEach(func(k, v []byte) error {
				r := &replication{}
				if err := json.Unmarshal(v, &r.def); err != nil {
					return err
				}
				n.repls[r.def.Name] = r
				return nil
			})
		}
		return nil
	})
}

func (n *Node) loadTables(tx *bolt.Tx) error {
	b := tx.Bucket(bucketTables)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		t := &table{rows: map[string][]cell{}}
		if err := json.Unmarshal(v, &t.def); err != nil {
			return err
		}
		n.tables[string(k)] = t
		rb := tx.Bucket([]byte(rowsPrefix + string(k)))
		if rb == nil {
			return nil
		}
		return rb.ForEach(func(k, v []byte) error {
			row, _, err := readValues(v)
			if err != nil {
				return err
			}
			t.rows[string(k)] = row
			return nil
		})
	})
}

func (n *Node) loadLog(tx *bolt.Tx) error {
	b := tx.Bucket(bucketLog)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		rec, err := decodeRec(v)
		if err != nil {
			return err
		}
		rec.SN = int64(binary.BigEndian.Uint64(k))
		n.log = append(n.log, rec)
		if rec.SN > n.lastSN {
			n.lastSN = rec.SN
		}
		return nil
	})
}

// logRec is one change-log record: a row change with its sequence number.
// Row is the full row after an insert or update, the full old row for a delete.
type logRec struct {
	SN    int64
	Op    byte // opInsert, opUpdate, opDelete
	Table string
	Part  string
	Row   []cell
	Old   []cell // before image of an update (receivers check it)
}

const (
	opInsert byte = 'I'
	opUpdate byte = 'U'
	opDelete byte = 'D'
)

func encodeRec(r *logRec) []byte {
	b := []byte{r.Op}
	b = appendValues(b, []cell{r.Table, r.Part, r.SN})
	b = appendValues(b, r.Row)
	return appendValues(b, r.Old)
}

func decodeRec(b []byte) (logRec, error) {
	if len(b) < 1 {
		return logRec{}, errCorrupt
	}
	r := logRec{Op: b[0]}
	hdr, rest, err := readValues(b[1:])
	if err != nil || len(hdr) != 3 {
		return r, errCorrupt
	}
	r.Table, _ = hdr[0].(string)
	r.Part, _ = hdr[1].(string)
	r.SN, _ = hdr[2].(int64)
	if r.Row, rest, err = readValues(rest); err != nil {
		return r, err
	}
	if len(rest) > 0 {
		if r.Old, _, err = readValues(rest); err != nil {
			return r, err
		}
	}
	return r, nil
}

func tableKey(user, name string) string { return user + "." + name }
