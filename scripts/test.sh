#!/usr/bin/env bash
# `make test`: provision like `make run`, then pytest against real PostgreSQL and Redis.
#
# Without DATABASE_URL / REDIS_URL the project-local servers are used (started if needed; the ones
# started here are stopped at the end, servers that were already running are left alone).
# pytest-django creates its own test database (test_<name>); tests use Redis DB 1 so a running
# portal's worker (DB 0) never takes test tasks. Override with TEST_REDIS_URL.
# Extra pytest arguments: PYTEST_ARGS="-k healthz -x" (shell quoting is honoured).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PG_PORT="${PORTAL_PG_PORT:-54329}"
REDIS_PORT="${PORTAL_REDIS_PORT:-63799}"

log() { printf '[test] %s\n' "$*" >&2; }

scripts/ensure-system-packages.sh test
scripts/venv.sh

started=()
cleanup() {
  local server
  for server in ${started[@]+"${started[@]}"}; do scripts/services.sh stop "$server" || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${DATABASE_URL:-}" ]; then
  if ! scripts/services.sh status postgres >/dev/null; then started+=(postgres); fi
  scripts/services.sh start postgres
  export DATABASE_URL="postgres://portal@127.0.0.1:$PG_PORT/portal"
fi
if [ -z "${REDIS_URL:-}" ]; then
  if ! scripts/services.sh status redis >/dev/null; then started+=(redis); fi
  scripts/services.sh start redis
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/1"
fi
export REDIS_URL="${TEST_REDIS_URL:-$REDIS_URL}"
export DJANGO_SETTINGS_MODULE=portal.settings.test
# In tests the Celery broker and result backend always follow REDIS_URL.
unset CELERY_BROKER_URL CELERY_RESULT_BACKEND 2>/dev/null || true

eval "set -- ${PYTEST_ARGS:-}"
log "pytest against ${DATABASE_URL%%\?*} (test database test_*), ${REDIS_URL}"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
case "$rc" in
  0) log "all tests passed" ;;
  5) log "FAILED: pytest collected no tests (exit code 5)" ;;
  *) log "FAILED: pytest exit code $rc" ;;
esac
exit "$rc"
