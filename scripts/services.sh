#!/usr/bin/env bash
# Project-local PostgreSQL and Redis on loopback, data under .local/ (git-ignored).
#
# Usage: scripts/services.sh prepare|start|stop|status [postgres|redis]
#   prepare  install missing server packages, create the cluster (does not start anything)
#   start    start the servers in the background (daemonized); a server already running is left as is
#   stop     stop the servers of this data directory / port
#   status   print the state; exit 0 only when every named server is running
# `start` skips PostgreSQL when DATABASE_URL is set and Redis when REDIS_URL is set.
# `make run` does not use `start`: scripts/run.py supervises the servers in the foreground.
#
# Environment: PORTAL_LOCAL_DIR (default <repo>/.local), PORTAL_PG_PORT (54329),
# PORTAL_REDIS_PORT (63799), PORTAL_PG_OS_USER (postgres; initdb refuses to run as root),
# PORTAL_PG_FSYNC (on).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LOCAL="${PORTAL_LOCAL_DIR:-$ROOT/.local}"
PG_DATA="$LOCAL/pgdata"
PG_SOCKET="$LOCAL/pgsocket"
PG_LOG="$PG_SOCKET/postgres.log"
PG_PORT="${PORTAL_PG_PORT:-54329}"
REDIS_DIR="$LOCAL/redis"
REDIS_PORT="${PORTAL_REDIS_PORT:-63799}"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
PG_USER_OS="${PORTAL_PG_OS_USER:-postgres}"
DATABASES="${PORTAL_PG_DATABASES:-portal}"

log() { printf '[services] %s\n' "$*" >&2; }

pg_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && { echo "$dir"; return 0; }
  done
  return 1
}

is_root() { [ "$(id -u)" = "0" ]; }

ensure_os_user() {
  is_root || return 0
  id "$PG_USER_OS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_OS"
}

as_pg() {
  if is_root; then runuser -u "$PG_USER_OS" -- "$@"; else "$@"; fi
}

prepare() {
  "$ROOT/scripts/ensure-system-packages.sh" run
  BIN="$(pg_bindir)"
  ensure_os_user
  mkdir -p "$LOCAL" "$PG_SOCKET" "$REDIS_DIR" "$LOCAL/run"
  chmod 755 "$LOCAL"
  touch "$PG_LOG"
  if is_root; then chown "$PG_USER_OS" "$PG_SOCKET" "$PG_LOG"; fi
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    log "creating PostgreSQL cluster in $PG_DATA"
    rm -rf "$PG_DATA"; mkdir -p "$PG_DATA"
    if is_root; then chown "$PG_USER_OS" "$PG_DATA"; fi
    if ! as_pg test -w "$PG_DATA"; then
      log "user $PG_USER_OS cannot write $PG_DATA (every parent directory must be world-executable)"
      exit 1
    fi
    as_pg "$BIN/initdb" -D "$PG_DATA" -U portal --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # The port is given on the command line at start, so one cluster can move ports.
    cat >> "$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_SOCKET'
max_connections = 200
shared_buffers = 256MB
fsync = ${PORTAL_PG_FSYNC:-on}
CONF
  fi
}

# PID of a live postmaster serving $PG_DATA, from postmaster.pid; empty when none.
# Checks /proc so a PID reused by another program after a crash does not count.
pg_live_pid() {
  local pid
  [ -f "$PG_DATA/postmaster.pid" ] || return 0
  pid="$(head -1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 0
  if tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "postgres"; then echo "$pid"; fi
}

pg_live_port() { sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true; }

pg_accepting() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2 >/dev/null 2>&1; }

ensure_databases() {
  local db
  for db in $DATABASES; do
    "$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U portal -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 ||
      "$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U portal -d postgres -qc "CREATE DATABASE \"$db\""
  done
}

start_postgres() {
  BIN="$(pg_bindir)"
  local pid port
  pid="$(pg_live_pid)"
  if [ -n "$pid" ]; then
    port="$(pg_live_port)"
    if [ "$port" != "$PG_PORT" ]; then
      log "PostgreSQL of $PG_DATA already runs on port $port, not $PG_PORT"
      log "stop it (PORTAL_PG_PORT=$port scripts/services.sh stop postgres) or use PORTAL_PG_PORT=$port"
      exit 1
    fi
    log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    # A kill -9 or power loss leaves a stale postmaster.pid; no live postmaster owns it.
    rm -f "$PG_DATA/postmaster.pid"
    as_pg "$BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -o "-p $PG_PORT -k $PG_SOCKET" -w -t 60 start >/dev/null ||
      { log "PostgreSQL did not start; see $PG_LOG"; tail -20 "$PG_LOG" >&2 || true; exit 1; }
    log "PostgreSQL started on 127.0.0.1:$PG_PORT"
  fi
  ensure_databases
}

stop_postgres() {
  BIN="$(pg_bindir)" || return 0
  [ -n "$(pg_live_pid)" ] || return 0
  as_pg "$BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null && log "PostgreSQL stopped"
}

redis_running() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

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

stop_redis() {
  redis_running || return 0
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 50); do redis_running || break; sleep 0.1; done
  log "Redis stopped"
}

ACTION="${1:-start}"
WHAT="${2:-all}"
case "$WHAT" in all | postgres | redis) ;; *) echo "unknown server: $WHAT" >&2; exit 2 ;; esac
want() { [ "$WHAT" = all ] || [ "$WHAT" = "$1" ]; }

case "$ACTION" in
  prepare) prepare ;;
  start)
    prepare
    if want postgres && [ -z "${DATABASE_URL:-}" ]; then start_postgres; fi
    if want redis && [ -z "${REDIS_URL:-}" ]; then start_redis; fi
    ;;
  stop)
    if want postgres; then stop_postgres; fi
    if want redis; then stop_redis; fi
    ;;
  status)
    rc=0
    if want postgres; then
      if BIN="$(pg_bindir)" && pg_accepting; then echo "postgres: running on 127.0.0.1:$PG_PORT"
      else echo "postgres: stopped"; rc=1; fi
    fi
    if want redis; then
      if redis_running; then echo "redis: running on 127.0.0.1:$REDIS_PORT"
      else echo "redis: stopped"; rc=1; fi
    fi
    exit "$rc"
    ;;
  pg-bin) pg_bindir ;;
  *) echo "usage: $0 prepare|start|stop|status|pg-bin [postgres|redis]" >&2; exit 2 ;;
esac
