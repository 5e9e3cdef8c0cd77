package sim

import (
	"net"
	"sort"
	"strconv"
)

// view is a meta table or performance view, built from node state under n.mu.
type view struct {
	system bool // lives in schema SYSTEM_
	cols   []Column
	rows   func(n *Node) [][]cell
}

func cols(spec ...any) []Column {
	out := make([]Column, 0, len(spec)/2)
	for i := 0; i < len(spec); i += 2 {
		out = append(out, Column{Name: spec[i].(string), Type: spec[i+1].(ColumnType)})
	}
	return out
}

const (
	vI = TypeInteger
	vB = TypeBigint
	vV = TypeVarchar
	vC = TypeChar
	vD = TypeDate
)

var views = map[string]view{
	"SYS_REPLICATIONS_": {system: true, cols: cols(
		"REPLICATION_NAME", vV, "LAST_USED_HOST_NO", vI, "HOST_COUNT", vI, "IS_STARTED", vI,
		"XSN", vB, "ITEM_COUNT", vI, "CONFLICT_RESOLUTION", vI, "REPL_MODE", vI, "ROLE", vI,
		"OPTIONS", vI, "INVALID_RECOVERY", vI, "REMOTE_FAULT_DETECT_TIME", vD, "GIVE_UP_TIME", vD,
		"GIVE_UP_XSN", vB, "PARALLEL_APPLIER_COUNT", vI, "APPLIER_INIT_BUFFER_SIZE", vB,
		"REMOTE_XSN", vB, "PEER_REPLICATION_NAME", vV), rows: replRows},
	"SYS_REPL_HOSTS_": {system: true, cols: cols(
		"HOST_NO", vI, "REPLICATION_NAME", vV, "HOST_IP", vV, "PORT_NO", vI,
		"CONN_TYPE", vV, "IB_LATENCY", vV), rows: hostRows},
	"SYS_REPL_ITEMS_": {system: true, cols: cols(
		"REPLICATION_NAME", vV, "TABLE_OID", vB, "LOCAL_USER_NAME", vV, "LOCAL_TABLE_NAME", vV,
		"LOCAL_PARTITION_NAME", vV, "REMOTE_USER_NAME", vV, "REMOTE_TABLE_NAME", vV,
		"REMOTE_PARTITION_NAME", vV, "IS_PARTITION", vC, "INVALID_MAX_SN", vB, "CONDITION", vV,
		"REPLICATION_UNIT", vC), rows: itemRows},
	"V$REPSENDER": {cols: cols(
		"REP_NAME", vV, "START_FLAG", vI, "NET_ERROR_FLAG", vI, "XSN", vB, "COMMIT_XSN", vB,
		"STATUS", vI, "SENDER_IP", vV, "PEER_IP", vV, "SENDER_PORT", vI, "PEER_PORT", vI,
		"READ_LOG_COUNT", vB, "SEND_LOG_COUNT", vB, "REPL_MODE", vV, "ACT_REPL_MODE", vV), rows: senderRows},
	"V$REPRECEIVER": {cols: cols(
		"REP_NAME", vV, "MY_IP", vV, "MY_PORT", vI, "PEER_IP", vV, "PEER_PORT", vI, "APPLY_XSN", vB,
		"INSERT_SUCCESS_COUNT", vB, "INSERT_FAILURE_COUNT", vB, "UPDATE_SUCCESS_COUNT", vB,
		"UPDATE_FAILURE_COUNT", vB, "DELETE_SUCCESS_COUNT", vB, "DELETE_FAILURE_COUNT", vB,
		"PARALLEL_ID", vI, "SQL_APPLY_TABLE_COUNT", vI, "APPLIER_INIT_BUFFER_USAGE", vB), rows: receiverRows},
	"V$REPGAP": {cols: cols(
		"REP_NAME", vV, "START_FLAG", vI, "REP_LAST_SN", vB, "REP_SN", vB, "REP_GAP", vB,
		"REP_GAP_SIZE", vB, "READ_LFG_ID", vI, "READ_FILE_NO", vI, "READ_OFFSET", vI), rows: gapRows},
	"V$REPSYNC": {cols: cols(
		"REP_NAME", vV, "SYNC_TABLE", vV, "SYNC_PARTITION", vV, "SYNC_RECORD_COUNT", vB, "SYNC_SN", vB),
		rows: func(n *Node) [][]cell { return cloneRows(n.syncRows) }},
	"V$PROPERTY": {cols: cols("NAME", vV, "VALUE1", vV), rows: (*Node).propRows},
}

func cloneRows(rows [][]cell) [][]cell {
	out := make([][]cell, len(rows))
	for i, r := range rows {
		out[i] = append([]cell(nil), r...)
	}
	return out
}

// replsInOrder lists objects in creation order.
func (n *Node) replsInOrder() []*replication {
	out := make([]*replication, 0, len(n.repls))
	for _, r := range n.repls {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].def.Created < out[j].def.Created })
	return out
}

func replRows(n *Node) [][]cell {
	var rows [][]cell
	for _, r := range n.replsInOrder() {
		d := r.def
		rows = append(rows, []cell{d.Name, d.Hosts[d.LastUsed].No, int64(len(d.Hosts)), d.IsStarted,
			d.XSN, int64(len(d.Items)), int64(0), int64(0), int64(0), int64(0), int64(0), nil, nil,
			nil, int64(0), int64(0), int64(-1), nil})
	}
	return rows
}

func hostRows(n *Node) [][]cell {
	var rows [][]cell
	for _, r := range n.replsInOrder() {
		for _, h := range r.def.Hosts {
			rows = append(rows, []cell{h.No, r.def.Name, h.Host, h.Port, "TCP", "N/A"})
		}
	}
	return rows
}

func itemRows(n *Node) [][]cell {
	var rows [][]cell
	for _, r := range n.replsInOrder() {
		for i, it := range r.def.Items {
			isPart, unit := "N", "T"
			if it.LocalPart != "" {
				isPart, unit = "Y", "P"
			}
			rows = append(rows, []cell{r.def.Name, int64(r.def.Created*1000 + int64(i)), it.LocalUser,
				it.LocalTable, nullIfEmpty(it.LocalPart), it.RemoteUser, it.RemoteTable,
				nullIfEmpty(it.RemotePart), isPart, int64(-1), nil, unit})
		}
	}
	return rows
}

func splitAddr(a string) (cell, cell) {
	h, p, err := net.SplitHostPort(a)
	if err != nil {
		return nil, nil
	}
	port, _ := strconv.ParseInt(p, 10, 64)
	return h, port
}

// senderXSN is the XSN V$REPSENDER shows: -1 until a never-started object
// has connected.
func senderRows(n *Node) [][]cell {
	var rows [][]cell
	for _, r := range n.replsInOrder() {
		s := r.sender
		if s == nil {
			continue
		}
		var sip, sport, pip, pport cell
		if s.pc != nil {
			sip, sport = splitAddr(s.senderAddr)
			pip, pport = splitAddr(s.peerAdr)
		} else {
			h := r.def.Hosts[r.def.LastUsed]
			pip, pport = h.Host, h.Port
		}
		rows = append(rows, []cell{r.def.Name, int64(0), s.netErr, r.def.XSN, n.lastSN, s.status,
			sip, pip, sport, pport, s.readCount, s.sendCnt, "LAZY", "LAZY"})
	}
	return rows
}

func receiverRows(n *Node) [][]cell {
	rcs := make([]*receiver, 0, len(n.recvs))
	for rc := range n.recvs {
		rcs = append(rcs, rc)
	}
	sort.Slice(rcs, func(i, j int) bool { return rcs[i].name < rcs[j].name })
	var rows [][]cell
	for _, rc := range rcs {
		mip, mport := splitAddr(rc.myAddr)
		pip, pport := splitAddr(rc.peerAddr)
		rows = append(rows, []cell{rc.name, mip, mport, pip, pport, rc.applyXSN, rc.insOK, rc.insFail,
			rc.updOK, rc.updFail, rc.delOK, rc.delFail, int64(0), int64(0), int64(0)})
	}
	return rows
}

func gapRows(n *Node) [][]cell {
	var rows [][]cell
	for _, r := range n.replsInOrder() {
		if r.sender == nil {
			continue
		}
		sn := r.restartSNLocked()
		if sn < 0 {
			sn = n.lastSN
		}
		gap := n.lastSN - sn
		rows = append(rows, []cell{r.def.Name, int64(0), n.lastSN, sn, gap, gap * 64,
			int64(0), int64(0), int64(0)})
	}
	return rows
}
