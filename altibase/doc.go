// Package altibase is aku's client for Altibase servers: one dedicated ODBC
// connection per server, one typed function per statement aku issues, and
// errors classified by Altibase native code. It knows nothing of Kubernetes.
package altibase
