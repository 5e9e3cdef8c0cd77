package altibase

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dialect selects the ODBC driver family the client talks through. It is
// chosen by configuration (AKU_ODBC_DIALECT, parsed by package config and
// mapped onto this type by the adapter), never by build tags, so the same
// binary reaches a real Altibase server and the simulator.
type Dialect int

const (
	// DialectAltibase is Altibase's own ODBC driver
	// ($ALTIBASE_HOME/lib/libaltibase_odbc-64bit-ul64.so): errors carry the
	// Altibase code in NativeError.
	DialectAltibase Dialect = iota
	// DialectSimulator is Debian's psqlODBC talking to the Altibase
	// simulator (package altibasetest): the Altibase code travels in the
	// message text ("ERR-6100A : ..."); NativeError is psqlODBC's own.
	DialectSimulator
)

// SimulatorDriver is where Debian's odbc-postgresql package installs the
// Unicode psqlODBC driver (the ANSI one garbles non-ASCII text).
const SimulatorDriver = "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so"

// altibaseDriverFile is the driver for 64-bit SQLLEN, which unixODBC uses.
const altibaseDriverFile = "libaltibase_odbc-64bit-ul64.so"

// String returns the configuration spelling: "altibase" or "simulator".
func (d Dialect) String() string {
	switch d {
	case DialectAltibase:
		return "altibase"
	case DialectSimulator:
		return "simulator"
	default:
		return fmt.Sprintf("Dialect(%d)", int(d))
	}
}

// DefaultDriver is the driver path used when Options.Driver is empty:
// $ALTIBASE_HOME/lib/libaltibase_odbc-64bit-ul64.so for Altibase, Debian's
// psqlodbcw.so for the simulator.
func DefaultDriver(d Dialect) string {
	if d == DialectSimulator {
		return SimulatorDriver
	}
	return filepath.Join(os.Getenv("ALTIBASE_HOME"), "lib", altibaseDriverFile)
}
