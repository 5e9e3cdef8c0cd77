#!/usr/bin/env bash
# Builds (`make node-images`) two of the images the real-node e2e tests
# import into containerd (`ctr -n k8s.io images import FILE`), without a
# container engine (tools/mkimage's generic mode):
#
#   OUT/pause.tar         aku.local/pause:e2e, the pod sandbox: scratch plus
#                         /pause (e2e/images/pause, static Go)
#   OUT/altibase-sim.tar  aku.local/altibase-sim:e2e, the Altibase stand-in:
#                         the Debian 11 root filesystem of `make rootfs`
#                         (glibc 2.31, psqlODBC, no driver manager) plus
#                         /usr/local/bin/altibase-sim (./cmd/altibase-sim)
#                         and /usr/local/bin/altibase-entrypoint
#                         (e2e/images/altibase-sim/entrypoint.sh, the
#                         entrypoint; its header says what it reads), with
#                         the first-boot schema at
#                         /usr/local/share/altibase-sim/init.sql
#
# (The third, OUT/aku.tar, is `make image`'s image under another name: the
# Makefile writes it.)
#
# The binaries are rebuilt every time (the Go build cache makes that quick);
# an archive only when what goes into it changed (a hash of the inputs, the
# flags and mkimage itself, kept in OUT/.build/). Archives are reproducible:
# times are SOURCE_DATE_EPOCH (default 0), not the commit's, so that a new
# commit does not rebuild the 60 MB root filesystem layer.
#
# The simulator is linked statically with cgo, not built with CGO_ENABLED=0:
# it uses package altibase's error codes, and that package imports the ODBC
# driver (cgo, -lodbc). Static, it needs nothing from the root filesystem
# (whose glibc is older than the build machine's) and never calls ODBC; the
# linker's warnings about dlopen and getpwuid_r in unixODBC are shown only if
# the build fails. Needs libodbc.a (unixodbc-dev), libltdl.a (libltdl-dev)
# and libc.a (libc6-dev): `make deps`.
#
# Usage: build/node-images.sh OUT   (the last line of stdout is OUT)
# Env:   GO (go), SOURCE_DATE_EPOCH (0), AKU_ROOTFS (the root filesystem;
#        default where build/rootfs.sh keeps it)
set -euo pipefail

OUT=${1:?usage: build/node-images.sh OUT}
GO=${GO:-go}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CREATED=${SOURCE_DATE_EPOCH:-0}
BUILD=$OUT/.build

log() { echo "node-images.sh $(date -u +%H:%M:%S) $*" >&2; }
die() { echo "node-images.sh: $*" >&2; exit 1; }

if [ -n "${AKU_ROOTFS:-}" ]; then
  ROOTFS=$AKU_ROOTFS
  ROOTFS_ID="$ROOTFS $(stat -c %Y "$ROOTFS")"
else
  ROOTFS=$(bash "$REPO/build/rootfs.sh" --path) || die "the Debian 11 root filesystem $ROOTFS is not built: run make rootfs"
  # The cached root filesystem is built once and never changed: its stamp
  # stands for its contents.
  ROOTFS_ID="$ROOTFS $(cat "$(dirname "$ROOTFS")/.complete")"
fi
[ -x "$ROOTFS/bin/bash" ] || die "$ROOTFS has no /bin/bash"

mkdir -p "$BUILD"
# Reproducible binaries: no build paths, no VCS stamp.
gobuild() { # DIR OUT PKG [go build flags...]
  local dir=$1 out=$2 pkg=$3 output
  shift 3
  if ! output=$(cd "$dir" && "$GO" build -trimpath -buildvcs=false "$@" -o "$out" "$pkg" 2>&1); then
    echo "$output" >&2
    die "go build $pkg failed"
  fi
}
gobuild "$REPO/tools/mkimage" "$BUILD/mkimage" .
CGO_ENABLED=0 gobuild "$REPO/e2e" "$BUILD/pause" ./images/pause -ldflags '-s -w'
CGO_ENABLED=1 CGO_LDFLAGS="-lltdl -ldl" gobuild "$REPO" "$BUILD/altibase-sim" ./cmd/altibase-sim \
  -tags netgo,osusergo -ldflags '-s -w -linkmode external -extldflags -static'
cp "$REPO/e2e/images/altibase-sim/entrypoint.sh" "$BUILD/altibase-entrypoint"
cp "$REPO/e2e/images/altibase-sim/init.sql" "$BUILD/init.sql"

# image NAME ID MKIMAGE-FLAGS...: OUT/NAME.tar, unless the hash of the flags,
# the files they add, mkimage and ID (what else goes in) is the last build's.
image() {
  local name=$1 id=$2 key a
  shift 2
  key=$({
    printf '%s\n' "$id" "$@"
    sha256sum "$BUILD/mkimage"
    for a in "$@"; do
      case $a in "$BUILD"/*:/*) sha256sum "${a%%:*}" ;; esac
    done
  } | sha256sum | cut -d' ' -f1)
  if [ -f "$OUT/$name.tar" ] && [ "$(cat "$BUILD/$name.key" 2>/dev/null)" = "$key" ]; then
    log "$OUT/$name.tar is up to date"
    return
  fi
  rm -f "$BUILD/$name.key"
  local start=$SECONDS
  "$BUILD/mkimage" --out "$OUT/$name.tar" --created "$CREATED" "$@"
  echo "$key" > "$BUILD/$name.key"
  log "$OUT/$name.tar ($(du -h "$OUT/$name.tar" | cut -f1)) in $((SECONDS - start))s"
}

image pause "" --tag aku.local/pause:e2e \
  --add "$BUILD/pause:/pause:0755" --entrypoint '["/pause"]'

image altibase-sim "$ROOTFS_ID" --tag aku.local/altibase-sim:e2e --rootfs "$ROOTFS" \
  --add "$BUILD/altibase-sim:/usr/local/bin/altibase-sim:0755" \
  --add "$BUILD/altibase-entrypoint:/usr/local/bin/altibase-entrypoint:0755" \
  --add "$BUILD/init.sql:/usr/local/share/altibase-sim/init.sql:0644" \
  --entrypoint '["/usr/local/bin/altibase-entrypoint"]' \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

echo "$OUT"
