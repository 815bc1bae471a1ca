#!/usr/bin/env bash
# Project-local PostgreSQL and Redis on loopback, data under .local/ (git-ignored).
# Usage: scripts/services.sh start|stop|status
# Skipped entirely when DATABASE_URL / REDIS_URL point at existing servers.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LOCAL="$ROOT/.local"
PG_DATA="$LOCAL/pgdata"
PG_SOCKET="$LOCAL/pgsocket"
PG_LOG="$PG_SOCKET/postgres.log"
PG_PORT="${PORTAL_PG_PORT:-54329}"
REDIS_DIR="$LOCAL/redis"
REDIS_PORT="${PORTAL_REDIS_PORT:-63799}"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
PG_USER_OS="${PORTAL_PG_OS_USER:-postgres}"

log() { printf '[services] %s\n' "$*" >&2; }

apt_install() {
  log "installing $* with apt"
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial || true)" ]; then
    apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  }
}

pg_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && { echo "$dir"; return 0; }
  done
  return 1
}

ensure_binaries() {
  if ! pg_bindir >/dev/null || [ ! -f "$(ls -d /usr/share/postgresql/*/extension 2>/dev/null | head -1)/pg_trgm.control" ]; then
    apt_install postgresql postgresql-contrib
  fi
  command -v redis-server >/dev/null || apt_install redis-server
}

# initdb refuses to run as root, so the cluster belongs to an unprivileged user.
ensure_os_user() {
  id "$PG_USER_OS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_OS"
}

as_pg() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u "$PG_USER_OS" -- "$@"
  else
    "$@"
  fi
}

pg_running() { as_pg "$BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

start_postgres() {
  BIN="$(pg_bindir)"
  mkdir -p "$LOCAL" "$PG_SOCKET"
  chmod 755 "$LOCAL"
  if [ "$(id -u)" = "0" ]; then ensure_os_user; chown "$PG_USER_OS" "$PG_SOCKET"; fi
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    log "creating PostgreSQL cluster in $PG_DATA"
    rm -rf "$PG_DATA"; mkdir -p "$PG_DATA"
    [ "$(id -u)" = "0" ] && chown "$PG_USER_OS" "$PG_DATA"
    as_pg "$BIN/initdb" -D "$PG_DATA" -U portal --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET'
max_connections = 200
shared_buffers = 256MB
fsync = ${PORTAL_PG_FSYNC:-on}
CONF
  fi
  if pg_running; then
    log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    # A kill -9 leaves a stale postmaster.pid; pg_ctl status said it is not running, so drop it.
    rm -f "$PG_DATA/postmaster.pid"
    as_pg "$BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null
    log "PostgreSQL started on 127.0.0.1:$PG_PORT"
  fi
  for db in portal; do
    "$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U portal -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 ||
      "$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U portal -d postgres -qc "CREATE DATABASE $db"
  done
}

redis_running() {
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG
}

start_redis() {
  mkdir -p "$REDIS_DIR"
  if redis_running; then
    log "Redis already running on 127.0.0.1:$REDIS_PORT"
    return
  fi
  rm -f "$REDIS_PIDFILE"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" --daemonize yes \
    --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_DIR/redis.log" --save "" --appendonly no
  for _ in $(seq 50); do redis_running && break; sleep 0.1; done
  redis_running || { log "Redis did not start; see $REDIS_DIR/redis.log"; exit 1; }
  log "Redis started on 127.0.0.1:$REDIS_PORT"
}

stop_all() {
  if BIN="$(pg_bindir)" && [ -s "$PG_DATA/PG_VERSION" ] && pg_running; then
    as_pg "$BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null && log "PostgreSQL stopped"
  fi
  if redis_running; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    log "Redis stopped"
  fi
}

case "${1:-start}" in
  start)
    ensure_binaries
    [ -n "${DATABASE_URL:-}" ] || start_postgres
    [ -n "${REDIS_URL:-}" ] || start_redis
    ;;
  stop) stop_all ;;
  status)
    BIN="$(pg_bindir)"; pg_running && echo "postgres: running" || echo "postgres: stopped"
    redis_running && echo "redis: running" || echo "redis: stopped"
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
