#!/bin/bash
# The entrypoint of aku.local/altibase-sim:e2e, the Altibase stand-in of the
# real-node e2e tests (`make node-images`). It behaves like a database
# container: it takes a while to open (ALTIBASE_SIM_BOOT_DELAY seconds,
# default 3), then becomes the simulator (exec: PID 1, so SIGTERM stops it
# cleanly), listening on all addresses, durable on the pod's volume at
# /home/altibase/altibase_home/dbs, and in ADMIN_MODE=1 as a real server
# boots until aku-start turns it off. On a volume with no database yet it
# first creates the image's schema (SYS.T1, init.sql), as a database image
# does; a restart keeps the volume's rows.
#
# Env: POD_NAME (server name; default the hostname), ALTIBASE_PORT_NO (20300),
#      ALTIBASE_REPLICATION_PORT_NO (20301), ALTIBASE_ADMIN_MODE (1),
#      ALTIBASE_REMOTE_SYSDBA_ENABLE (1), ALTIBASE_SIM_BOOT_DELAY (3),
#      ALTIBASE_SIM_PROFILE (fast or realistic; fast), ALTIBASE_SIM_LOG_LEVEL
#      (info or debug; info), ALTIBASE_SIM_SYS_PASSWORD (SYS's password; the
#      simulator reads it itself, default manager), ALTIBASE_SIM_INIT_SQL
#      (the first-boot schema; /usr/local/share/altibase-sim/init.sql, empty
#      for none).
# Test knob: a file .never-open in the data directory at boot is removed and
#      the server never opens this time: it fails its boot after
#      ALTIBASE_SIM_NEVER_OPEN_SECONDS (20), as a database that cannot open
#      does, while aku-start still waits for it. The postStart hook fails,
#      the kubelet restarts the container, and the next boot opens normally.
set -euo pipefail

DATA=/home/altibase/altibase_home/dbs
NAME=${POD_NAME:-$(hostname)}
DELAY=${ALTIBASE_SIM_BOOT_DELAY:-3}

log() { echo "altibase-entrypoint $(date -u +%H:%M:%S) $NAME: $*"; }

# Until exec, bash is PID 1, which ignores signals it has no handler for:
# stop at once on SIGTERM instead of waiting for the kubelet's SIGKILL.
trap 'log "stopped before the server opened"; exit 0' TERM INT
# pause sleeps in the background and waits, so that the trap runs at once.
pause() { sleep "$1" & wait $!; }

mkdir -p "$DATA"
if [ -e "$DATA/.never-open" ]; then
  rm -f "$DATA/.never-open"
  log "server will never open (test knob .never-open)"
  pause "${ALTIBASE_SIM_NEVER_OPEN_SECONDS:-20}"
  log "boot failed: the server did not open"
  exit 1
fi

INIT_SQL=${ALTIBASE_SIM_INIT_SQL-/usr/local/share/altibase-sim/init.sql}
init=()
if [ -n "$INIT_SQL" ]; then
  init=(--init-sql "$INIT_SQL")
fi

log "starting the server (opening takes ${DELAY}s)"
pause "$DELAY"
exec /usr/local/bin/altibase-sim "${init[@]}" \
  --name "$NAME" \
  --listen "0.0.0.0:${ALTIBASE_PORT_NO:-20300}" \
  --replication-listen "0.0.0.0:${ALTIBASE_REPLICATION_PORT_NO:-20301}" \
  --data "$DATA" \
  --profile "${ALTIBASE_SIM_PROFILE:-fast}" \
  --log-level "${ALTIBASE_SIM_LOG_LEVEL:-info}" \
  --property "ADMIN_MODE=${ALTIBASE_ADMIN_MODE:-1}" \
  --property "REMOTE_SYSDBA_ENABLE=${ALTIBASE_REMOTE_SYSDBA_ENABLE:-1}"
