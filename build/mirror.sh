# Sourced by dist.sh and rootfs.sh: debian_mirror prints $DEBIAN_MIRROR, else
# the Debian mirror apt is configured with (deb822 .sources or one-line
# .list files), else Debian's default.
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local m
  m=$({
    grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{for (i = 2; i <= NF; i++) print $i}'
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
      awk '{for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}'
  } | grep -E '/debian/?$' | head -n 1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}
