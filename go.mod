module github.com/aku-k8s/aku

go 1.26

require (
	github.com/alexbrainman/odbc v0.0.0-20250601004241-49e6b2bc0cf0 // indirect
	github.com/jackc/pgx/v5 v5.4.3 // indirect
	github.com/jeroenrinzema/psql-wire v0.20.0 // indirect
	github.com/sethvargo/go-retry v0.3.0 // indirect
	go.etcd.io/bbolt v1.4.3 // indirect
	golang.org/x/sys v0.29.0 // indirect
)
