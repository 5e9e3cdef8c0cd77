#!/usr/bin/env bash
# Builds (`make rootfs`) the older root filesystem the portable install tree
# is proven in (e2e/portable): Debian 11 "bullseye" (glibc 2.31, older than
# the glibc 2.34 a Debian 12 build needs), `debootstrap --variant=minbase`
# plus that release's psqlODBC driver (odbc-postgresql) and what it depends
# on. It has no unixODBC driver manager (libodbc.so.2): aku brings its own,
# and loads this root filesystem's driver with this root filesystem's glibc.
#
# Cached in ~/.cache/aku/rootfs/<suite>-minbase-<packages>/root, built once
# (cold: about 1-3 minutes, mostly downloads; warm: instant). Idempotent and
# serialised by a lock; the tree is built under a temporary name and renamed
# into place only when debootstrap succeeded. Needs root and debootstrap
# (`make deps` installs it).
#
# Usage: build/rootfs.sh          (the root filesystem's directory is the
#                                  last line of stdout)
#        build/rootfs.sh --path   (print that directory, build nothing; exit
#                                  status 1 if it is not built)
# Env:   AKU_CACHE (~/.cache/aku), ROOTFS_SUITE (bullseye), ROOTFS_PACKAGES
#        (odbc-postgresql, comma-separated), DEBIAN_MIRROR (the system's
#        configured Debian mirror, else http://deb.debian.org/debian; once
#        bullseye leaves it, http://archive.debian.org/debian)
set -euo pipefail

CACHE=${AKU_CACHE:-$HOME/.cache/aku}
SUITE=${ROOTFS_SUITE:-bullseye}
PACKAGES=${ROOTFS_PACKAGES:-odbc-postgresql}
DIR=$CACHE/rootfs/$SUITE-minbase-${PACKAGES//,/-}
ROOTFS=$DIR/root
STAMP=$DIR/.complete

log() { echo "rootfs.sh $(date -u +%H:%M:%S) $*" >&2; }
die() { echo "rootfs.sh: $*" >&2; exit 1; }

if [ "${1:-}" = --path ]; then
  echo "$ROOTFS"
  [ -f "$STAMP" ]
  exit
fi
if [ -f "$STAMP" ]; then
  echo "$ROOTFS"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "debootstrap needs root"
command -v debootstrap >/dev/null || die "debootstrap is missing (make deps installs it)"
mkdir -p "$DIR"
exec 9>"$DIR/.build.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it"
  flock 9
fi
if [ -f "$STAMP" ]; then
  echo "$ROOTFS"
  exit 0
fi

. "$(dirname "$0")/mirror.sh"
MIRROR=$(debian_mirror)

TMP=$DIR/.root.tmp
# debootstrap mounts /proc and /sys inside the target while it works; an
# interrupted run must not leave them mounted (nor delete through them).
cleanup() {
  if [ -d "$TMP" ]; then
    findmnt -rn -o TARGET | grep -F "$TMP/" | sort -r | xargs -r -n 1 umount -l 2>/dev/null || true
    rm -rf --one-file-system "$TMP"
  fi
}
trap cleanup EXIT
cleanup

START=$SECONDS
log "debootstrap --variant=minbase --include=$PACKAGES $SUITE from $MIRROR"
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$TMP" "$MIRROR" >"$DIR/debootstrap.log" 2>&1; then
  tail -n 30 "$DIR/debootstrap.log" >&2
  die "debootstrap failed (whole log: $DIR/debootstrap.log)"
fi
rm -rf "$TMP"/var/cache/apt/archives/*.deb "$TMP"/var/lib/apt/lists/*_Packages
glibc=$(chroot "$TMP" getconf GNU_LIBC_VERSION)
rm -rf --one-file-system "$ROOTFS"
mv "$TMP" "$ROOTFS"
printf '%s minbase + %s from %s, %s\n' "$SUITE" "$PACKAGES" "$MIRROR" "$glibc" > "$STAMP"
log "$ROOTFS ($glibc, $(du -sh "$ROOTFS" | cut -f1)) in $((SECONDS - START))s"
echo "$ROOTFS"
