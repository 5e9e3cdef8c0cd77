// Package cli is the aku command line: flag parsing, the -i report, version
// stamping and the mapping of errors to exit codes. cmd/aku, cmd/aku-start
// and cmd/aku-end are tiny mains over Main.
//
// It is also aku's composition root (build.go): build turns aku.conf and the
// process environment into a lifecycle.Runner for one lifecycle.Action,
// over the Altibase client adapted by package altibaselc, with discovery
// from the Kubernetes API or DNS, the start Lease, pod Events and the
// action's deadline.
//
// Environment variables read (through the env function given to Run):
//
//	AKU_CONF                path of aku.conf (below --config, above $ALTIBASE_HOME/conf/aku.conf)
//	ALTIBASE_HOME           Altibase's home; aku.conf is $ALTIBASE_HOME/conf/aku.conf by default
//	AKU_SYS_PASSWORD_FILE   file holding the SYS password (a mounted Secret); wins over the two below
//	AKU_SYS_PASSWORD        SYS password; wins over aku.conf
//	AKU_HOST_FORMAT, AKU_MARKER_FILE, AKU_ODBC_DRIVER, AKU_ODBC_DIALECT,
//	AKU_LOGIN_TIMEOUT, AKU_NLS_USE
//	                        override the aku.conf extension properties of the same name
//	ALTIBASE_NLS_USE        default of AKU_NLS_USE
package cli
