package altibaselc

import (
	"fmt"
	"log/slog"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/lifecycle/config"
)

// ClientOptions converts aku.conf into the client's connection options.
func ClientOptions(cfg *config.Config, log *slog.Logger) (altibase.Options, error) {
	d, err := altibase.ParseDialect(string(cfg.ODBCDialect))
	if err != nil {
		return altibase.Options{}, fmt.Errorf("AKU_ODBC_DIALECT: %w", err)
	}
	return altibase.Options{
		Dialect:      d,
		Driver:       cfg.ODBCDriver,
		Password:     cfg.SysPassword.Reveal(),
		LoginTimeout: cfg.LoginTimeout,
		QueryTimeout: cfg.QueryTimeout,
		NLSUse:       cfg.NLSUse,
		RetryCount:   cfg.QueryRetryCount,
		RetryDelay:   cfg.QueryRetryDelay,
		Logger:       log,
	}, nil
}
