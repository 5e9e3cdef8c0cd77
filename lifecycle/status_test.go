package lifecycle

import (
	"errors"
	"strings"
	"testing"
)

func view(ord int, states States, senders map[string]SenderState) ServerView {
	return ServerView{Member: member(ord), Session: "SYS", States: states, Senders: senders, Gaps: map[string]int64{}}
}

func TestReport(t *testing.T) {
	g := []Group{{Prefix: "R"}}
	on := RepState{XSN: 9, IsStarted: true}
	run := SenderState{Running: true}
	full := []ServerView{
		view(0, States{"R_01": on, "R_02": on}, map[string]SenderState{"R_01": run, "R_02": run}),
		view(1, States{"R_01": on, "R_12": on}, map[string]SenderState{"R_01": run, "R_12": run}),
		view(2, States{"R_02": on, "R_12": on}, map[string]SenderState{"R_02": run, "R_12": run}),
	}
	r := Report(g, full)
	if !r.Complete || len(r.Pairs) != 3 || r.Pairs[0].State != PairReplicating {
		t.Fatalf("full mesh: %+v", r)
	}

	holed := append([]ServerView(nil), full...)
	holed[1] = view(1, States{"R_01": on, "R_12": {XSN: -1}}, map[string]SenderState{"R_01": run})
	r = Report(g, holed)
	if r.Complete || r.Pairs[2].State != PairIncomplete || !strings.Contains(r.Verdict, "R_12 on sts-1 not started") {
		t.Errorf("hole: complete=%v verdict %q pairs %+v", r.Complete, r.Verdict, r.Pairs)
	}

	notJoined := append([]ServerView(nil), full...)
	notJoined[2] = view(2, States{"R_02": {XSN: -1}, "R_12": {XSN: -1}}, nil)
	r = Report(g, notJoined)
	if r.Complete || r.Pairs[1].State != PairNotJoined || !strings.Contains(r.Verdict, "sts-2 has not joined") {
		t.Errorf("not joined: %+v", r)
	}

	down := append([]ServerView(nil), full...)
	down[2] = ServerView{Member: member(2), Err: errors.New("login refused")}
	r = Report(g, down)
	if r.Complete || r.Pairs[1].State != PairUnreached || r.Servers[2].Error == "" {
		t.Errorf("not read: %+v", r)
	}

	// Scaled away (connection refused): absent, as the hooks judge it.
	gone := []ServerView{full[0], full[1], {Member: member(2), Err: errors.New("connection refused"), Absent: true}}
	gone[0].States = States{"R_01": on, "R_02": {XSN: -1}}
	gone[1].States = States{"R_01": on, "R_12": {XSN: -1}}
	r = Report(g, gone)
	if !r.Complete || !strings.Contains(r.Verdict, "complete: 2 pods") || !strings.Contains(r.Verdict, "absent") {
		t.Errorf("scaled away: complete=%v verdict %q", r.Complete, r.Verdict)
	}

	netErr := append([]ServerView(nil), full...)
	netErr[0] = view(0, States{"R_01": on, "R_02": on}, map[string]SenderState{"R_01": run, "R_02": {NetError: true}})
	r = Report(g, netErr)
	if r.Complete || r.Pairs[1].AB.Sender != "network error" {
		t.Errorf("network error: %+v", r.Pairs[1])
	}
}
