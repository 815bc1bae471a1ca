#!/usr/bin/env bash
# Install the Debian packages the portal needs when they are missing (idempotent, fast when present).
# Usage: scripts/ensure-system-packages.sh [run|test]
#   run  (default): PostgreSQL server + contrib, Redis server, make
#   test          : the same plus Chromium (browser tests drive /usr/bin/chromium)
set -euo pipefail

PURPOSE="${1:-run}"
log() { printf '[packages] %s\n' "$*" >&2; }

need=()
pg_ok=false
for dir in /usr/lib/postgresql/*/bin; do
  if [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then pg_ok=true; fi
done
$pg_ok || need+=(postgresql)
# pg_trgm ships with the server on Debian 12; postgresql-contrib pulls it in on older layouts.
ls /usr/share/postgresql/*/extension/pg_trgm.control >/dev/null 2>&1 || need+=(postgresql-contrib)
command -v psql >/dev/null || need+=(postgresql-client)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v make >/dev/null || need+=(make)
command -v runuser >/dev/null || need+=(util-linux)
if [ "$PURPOSE" = "test" ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
fi

[ "${#need[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" != "0" ]; then
  log "missing packages: ${need[*]}"
  log "install them with: sudo apt-get install -y ${need[*]}"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
lists_empty() {
  [ -z "$(find /var/lib/apt/lists -maxdepth 1 -type f ! -name lock 2>/dev/null | head -1)" ]
}
if lists_empty; then
  log "apt package lists are empty: apt-get update"
  apt-get update -qq
fi
log "installing: ${need[*]}"
if ! apt-get install -y -qq "${need[@]}" >/dev/null; then
  log "install failed; refreshing package lists and retrying"
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
log "installed: ${need[*]}"
