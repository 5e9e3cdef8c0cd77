// Package config reads, validates and describes aku.conf, aku's
// configuration file. It produces lifecycle's types (lifecycle.Group,
// lifecycle.Item, lifecycle.ResetPolicy), so the lifecycle takes them as
// they are, and lists the names of aku's replication objects and hosts by
// lifecycle's naming rules (PodReplications, AllReplications, Host).
//
// Parse and Load turn the file into a fully validated *Config or into an
// error that names the file, the line and the property; a Config is never
// returned half-loaded. The property table (Properties) is data: each entry
// carries its name, default, range, kind, documentation and whether an
// environment variable of the same name overrides the file. The grammar, the
// identifier rule and the precedence of the sources are described in
// README.md ("Configuration: aku.conf").
package config
