#!/usr/bin/env bash
# Builds the control plane aku's tests run against -- kube-apiserver and
# kube-controller-manager (k8s.io/kubernetes) and etcd -- and the node the
# real-node tests run pods on -- kubelet, kube-scheduler (k8s.io/kubernetes)
# and CoreDNS with its kubernetes plugin -- from the Go module
# proxy into a cache directory, with the version stamped by ldflags. No
# prebuilt download is reachable here, so this is the only way to get them.
#
# Idempotent: binaries whose --version matches are kept, so a cached run
# returns in well under a second. A cold build -- empty Go build and module
# caches, so everything is downloaded from the proxy and compiled -- took 11
# minutes on 2 shared cores (etcd 2, kube-apiserver 7, the controller
# manager 2); allow 15-25 on a busier machine. The node's parts add about 8
# (kubelet 5 sharing the apiserver's build cache, the scheduler under 1,
# CoreDNS 2-3). It needs only Go and the
# module proxy. Nothing is written into the repository: the build modules are
# generated in a temporary directory. Concurrent runs are serialised by a lock
# file, and each binary is built under a temporary name and renamed only when
# it is complete and reports the right version.
#
# Usage: build.sh            (progress on stderr; the bin directory is the
#                             last line of stdout)
# Env:   AKU_CACHE (default ~/.cache/aku), K8S_VERSION (v1.37.2),
#        ETCD_VERSION (v3.6.16), COREDNS_VERSION (v1.15.0),
#        BUILD_PARALLELISM (go build -p, default 2)
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
COREDNS_VERSION=${COREDNS_VERSION:-v1.15.0}
STAGING_VERSION=v0${K8S_VERSION#v1}          # v1.37.2 -> v0.37.2
CACHE=${AKU_CACHE:-$HOME/.cache/aku}
BIN=$CACHE/controlplane/k8s-$K8S_VERSION-etcd-$ETCD_VERSION/bin
PAR=${BUILD_PARALLELISM:-2}

log() { echo "build.sh $(date -u +%H:%M:%S) $*" >&2; }

# reports WANT CMD...: CMD's output contains WANT. The output is read whole
# first: with pipefail, "CMD | grep -q" fails whenever grep exits at the
# first match and CMD, still writing, dies of SIGPIPE (etcd --version did).
reports() {
  local want=$1 out
  shift
  out=$("$@" 2>/dev/null) || true
  [[ $out == *"$want"* ]]
}

have() { # have NAME EXPECTED-SUBSTRING-OF-its---version
  local flag=--version
  [ "$1" = coredns ] && flag=-version
  [ -x "$BIN/$1" ] && reports "$2" "$BIN/$1" $flag
}
K8S_CMDS="kube-apiserver kube-controller-manager kubelet kube-scheduler"
have_k8s() {
  local c
  for c in $K8S_CMDS; do have "$c" "Kubernetes $K8S_VERSION" || return 1; done
}
have_etcd() { have etcd "etcd Version: ${ETCD_VERSION#v}"; }
have_coredns() { have coredns "CoreDNS-${COREDNS_VERSION#v}"; }
have_all() { have_k8s && have_etcd && have_coredns; }

if have_all; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: go is not on PATH" >&2; exit 1; }
mkdir -p "$BIN"
# One build at a time (make and test binaries may start this concurrently);
# whoever waited re-checks and usually finds the binaries done.
exec 9>"$BIN/../.build.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it"
  flock 9
fi
if have_all; then
  echo "$BIN"
  exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/aku-controlplane.XXXXXX")
trap 'rm -rf "$WORK" "$BIN"/.*.tmp' EXIT
export GOWORK=off GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
START=$SECONDS

# install NAME: checks the freshly built $BIN/.NAME.tmp and moves it in place.
install_bin() {
  local name=$1 want=$2
  reports "$want" "$BIN/.$name.tmp" --version || {
    echo "build.sh: built $name does not report '$want':" >&2
    "$BIN/.$name.tmp" --version >&2 || true
    exit 1
  }
  mv -f "$BIN/.$name.tmp" "$BIN/$name"
  log "built $BIN/$name ($((SECONDS - START))s so far)"
}

build_etcd() {
  log "building etcd $ETCD_VERSION"
  local dir=$WORK/etcd
  mkdir -p "$dir"
  # etcd's server module has no main package at its root: a two-line wrapper
  # calls etcdmain.Main, which is what etcd's own binary does.
  cat > "$dir/go.mod" <<GOMOD
module akuetcd

go 1.26.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
  cat > "$dir/main.go" <<'GO'
// Command etcd runs etcd's own main.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$dir" && go mod tidy >&2)
  # The version itself is a constant of go.etcd.io/etcd/api/v3/version.
  local ld="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=release-$ETCD_VERSION"
  (cd "$dir" && go build -p "$PAR" -trimpath -ldflags "$ld" -o "$BIN/.etcd.tmp" .)
  install_bin etcd "etcd Version: ${ETCD_VERSION#v}"
}

build_k8s() {
  log "building $K8S_CMDS $K8S_VERSION (cold: 15-30 min on 2 cores)"
  local dir=$WORK/k8s
  mkdir -p "$dir"
  local kmod
  kmod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
  [ -f "$kmod" ] || { echo "build.sh: no go.mod for k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }
  # k8s.io/kubernetes replaces its staging modules (k8s.io/api, client-go,
  # apiserver, ...) by ./staging/src paths that the module zip lacks; every
  # one of them comes from the proxy at the matching v0.x release instead.
  local replaces
  replaces=$(sed -n 's|^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*$|\t\1 => \1 '"$STAGING_VERSION"'|p' "$kmod")
  local n
  n=$(printf '%s\n' "$replaces" | grep -c . || true)
  [ "$n" -ge 20 ] || { echo "build.sh: found only $n staging replaces in $kmod" >&2; exit 1; }
  log "$n staging modules replaced by their $STAGING_VERSION releases"
  printf 'module akucontrolplane\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n%s\n)\n' \
    "$K8S_VERSION" "$replaces" > "$dir/go.mod"
  local c gets=()
  for c in $K8S_CMDS; do gets+=("k8s.io/kubernetes/cmd/$c@$K8S_VERSION"); done
  (cd "$dir" && go get "${gets[@]}" >&2)
  local minor
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  local v=k8s.io/component-base/version cv=k8s.io/client-go/pkg/version ld="-s -w"
  for p in $v $cv; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld="$ld -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  for cmd in $K8S_CMDS; do
    have "$cmd" "Kubernetes $K8S_VERSION" && continue
    log "go build $cmd"
    (cd "$dir" && go build -p "$PAR" -trimpath -ldflags "$ld" -o "$BIN/.$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
    install_bin "$cmd" "Kubernetes $K8S_VERSION"
  done
}

build_coredns() {
  log "building CoreDNS $COREDNS_VERSION"
  local dir=$WORK/coredns
  mkdir -p "$dir"
  # CoreDNS's main package is its module root; its default plugin list
  # (core/plugin/zplugin.go) includes kubernetes, forward and cache. The
  # version is a constant in coremain, so no ldflags are needed.
  printf 'module akucoredns\n\ngo 1.26.0\n\nrequire github.com/coredns/coredns %s\n' "$COREDNS_VERSION" > "$dir/go.mod"
  (cd "$dir" && go get "github.com/coredns/coredns@$COREDNS_VERSION" >&2)
  (cd "$dir" && go build -p "$PAR" -trimpath -ldflags "-s -w" -o "$BIN/.coredns.tmp" github.com/coredns/coredns)
  # coredns prints its version with -version (single dash).
  reports "CoreDNS-${COREDNS_VERSION#v}" "$BIN/.coredns.tmp" -version || {
    echo "build.sh: built coredns does not report CoreDNS-${COREDNS_VERSION#v}" >&2; exit 1; }
  mv -f "$BIN/.coredns.tmp" "$BIN/coredns"
  log "built $BIN/coredns ($((SECONDS - START))s so far)"
}

have_etcd || build_etcd
have_k8s || build_k8s
have_coredns || build_coredns
log "control plane ready in $((SECONDS - START))s"
echo "$BIN"
