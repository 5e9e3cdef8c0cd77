package altibaselc

import (
	"log/slog"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/lifecycle/config"
)

// ClientOptions converts aku.conf into the client's connection options.
// config validated AKU_ODBC_DIALECT; the value is mapped, not parsed again.
func ClientOptions(cfg *config.Config, log *slog.Logger) altibase.Options {
	return altibase.Options{
		Dialect:      dialect(cfg.ODBCDialect),
		Driver:       cfg.ODBCDriver,
		Password:     cfg.SysPassword.Reveal(),
		LoginTimeout: cfg.LoginTimeout,
		QueryTimeout: cfg.QueryTimeout,
		NLSUse:       cfg.NLSUse,
		RetryCount:   cfg.QueryRetryCount,
		RetryDelay:   cfg.QueryRetryDelay,
		Logger:       log,
	}
}

// dialect maps config's dialect onto the client's. The zero value (a Config
// not made by config.Parse) is DialectAltibase, AKU_ODBC_DIALECT's default.
func dialect(d config.Dialect) altibase.Dialect {
	if d == config.DialectSimulator {
		return altibase.DialectSimulator
	}
	return altibase.DialectAltibase
}
