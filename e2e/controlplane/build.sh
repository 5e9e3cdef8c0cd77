#!/usr/bin/env bash
# Builds the control plane aku's tests run against -- kube-apiserver and
# kube-controller-manager (k8s.io/kubernetes) and etcd -- from the Go module
# proxy into a cache directory, with the version stamped by ldflags. No
# prebuilt download exists here, so this is the only way to get them.
# Idempotent: binaries whose --version matches are kept. A cold build takes
# about 15 minutes on 2 cores; a cached one returns at once.
#
# Usage: build.sh            (prints the bin directory as its last line)
# Env:   AKU_CACHE (default ~/.cache/aku), K8S_VERSION, ETCD_VERSION
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
STAGING_VERSION=v0${K8S_VERSION#v1}          # v1.37.2 -> v0.37.2
CACHE=${AKU_CACHE:-$HOME/.cache/aku}
BIN=$CACHE/controlplane/k8s-$K8S_VERSION-etcd-$ETCD_VERSION/bin
mkdir -p "$BIN"

have() { # have NAME EXPECTED-SUBSTRING-OF---version
  [ -x "$BIN/$1" ] && "$BIN/$1" --version 2>/dev/null | grep -q -- "$2"
}

if have kube-apiserver "$K8S_VERSION" && have kube-controller-manager "$K8S_VERSION" && have etcd "${ETCD_VERSION#v}"; then
  echo "$BIN"
  exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GOFLAGS=-mod=mod GOWORK=off
PAR=${BUILD_PARALLELISM:-2}

build_k8s() {
  echo "building kube-apiserver and kube-controller-manager $K8S_VERSION (cold: ~15 min on 2 cores)" >&2
  local dir=$WORK/k8s
  mkdir -p "$dir"
  local kmod
  kmod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
  {
    echo "module akucontrolplane"
    echo
    echo "go 1.26.0"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    # Every staging module the kubernetes module replaces with a local path
    # comes from the proxy at the matching v0.x release instead.
    sed -n 's|^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*$|\t\1 => \1 '"$STAGING_VERSION"'|p' "$kmod"
    echo ")"
  } > "$dir/go.mod"
  local pkg=k8s.io/component-base/version
  local ld="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
  ld="$ld -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  ld="$ld -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  (cd "$dir" && go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S_VERSION" >&2)
  for cmd in kube-apiserver kube-controller-manager; do
    (cd "$dir" && CGO_ENABLED=0 go build -p "$PAR" -trimpath -ldflags "$ld" -o "$BIN/.$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
    mv "$BIN/.$cmd.tmp" "$BIN/$cmd"
    echo "built $BIN/$cmd" >&2
  done
}

build_etcd() {
  echo "building etcd $ETCD_VERSION" >&2
  local dir=$WORK/etcd
  mkdir -p "$dir"
  cat > "$dir/go.mod" <<GOMOD
module akuetcd

go 1.26.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
  cat > "$dir/main.go" <<'GO'
// Command etcd runs etcd's own main (a wrapper so the server module can be
// built from the module proxy).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$dir" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2 && go mod tidy >&2)
  local ld="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=release-${ETCD_VERSION}"
  (cd "$dir" && CGO_ENABLED=0 go build -p "$PAR" -trimpath -ldflags "$ld" -o "$BIN/.etcd.tmp" .)
  mv "$BIN/.etcd.tmp" "$BIN/etcd"
  echo "built $BIN/etcd" >&2
}

have etcd "${ETCD_VERSION#v}" || build_etcd
{ have kube-apiserver "$K8S_VERSION" && have kube-controller-manager "$K8S_VERSION"; } || build_k8s
echo "$BIN"
