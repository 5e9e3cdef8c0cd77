package config_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aku-k8s/aku/lifecycle/config"
)

func ExampleParse() {
	const conf = `AKU_STS_NAME     = altibase-sts
AKU_SVC_NAME     = altibase-svc
AKU_SERVER_COUNT = 3
AKU_SYS_PASSWORD = manager
REPLICATIONS = (
    REPLICATION_NAME_PREFIX = aku_rep   # stored upper-cased
    ( sys.t1, SYS.T2 PARTITION P1 )
)
`
	cfg, err := config.Parse("aku.conf", strings.NewReader(conf))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Host(1), cfg.SysPassword)
	for _, r := range cfg.PodReplications(1) {
		fmt.Println(r.Name, "to pod", r.Peer)
	}
	// Output:
	// altibase-sts-1.altibase-svc ********
	// AKU_REP_01 to pod 0
	// AKU_REP_12 to pod 2
}

func ExampleError() {
	_, err := config.Parse("aku.conf", strings.NewReader("AKU_PORT_NO = 80\n"))
	var ce *config.Error
	if errors.As(err, &ce) {
		fmt.Println(ce.Line, ce.Property, errors.Is(err, config.ErrRange), errors.Is(err, config.ErrMissing))
	}
	fmt.Println(err)
	// Output:
	// 1 AKU_PORT_NO true true
	// aku.conf:1: AKU_PORT_NO: value 80 out of range 1024..65535
	// aku.conf: Property [AKU_STS_NAME] should be specified by configuration.
	// aku.conf: Property [AKU_SVC_NAME] should be specified by configuration.
	// aku.conf: Property [AKU_SYS_PASSWORD] should be specified by configuration.
	// aku.conf: Property [REPLICATIONS] should be specified by configuration.
}
