#!/usr/bin/env bash
# Create .venv with the Python named in .python-version and install the pinned requirements.
# pip runs only when requirements*.txt or the interpreter changed (hash stamp in .venv/), so a
# warm `make run` / `make test` skips it in milliseconds.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.requirements.sha256"
WANT="$(tr -d '[:space:]' < "$ROOT/.python-version")"   # e.g. 3.12
WANT_MINOR="$(echo "$WANT" | cut -d. -f1-2)"

log() { printf '[venv] %s\n' "$*" >&2; }

version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true; }

find_python() {
  local candidates=() root p
  if command -v pyenv >/dev/null 2>&1; then
    p="$(pyenv which "python$WANT_MINOR" 2>/dev/null || true)"; [ -n "$p" ] && candidates+=("$p")
  fi
  for root in "${PYENV_ROOT:-}" "$HOME/.pyenv" /root/.pyenv /usr/local/pyenv /opt/pyenv; do
    [ -n "$root" ] && [ -d "$root/versions" ] || continue
    # Newest matching patch release first (3.12.10 before 3.12.9).
    while IFS= read -r p; do candidates+=("$p"); done < <(
      ls -d "$root/versions/$WANT_MINOR".*/bin/python "$root/versions/$WANT"/bin/python 2>/dev/null | sort -V -r -u
    )
  done
  p="$(command -v "python$WANT_MINOR" 2>/dev/null || true)"; [ -n "$p" ] && candidates+=("$p")
  for p in "${candidates[@]}"; do
    if [ -x "$p" ] && [ "$(version_of "$p")" = "$WANT_MINOR" ]; then echo "$p"; return 0; fi
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ] || [ "$(version_of "$VENV/bin/python")" != "$WANT_MINOR" ]; then
  PY="$(find_python)" || {
    log "Python $WANT_MINOR not found (looked in pyenv and for python$WANT_MINOR on PATH)"
    log "install it, e.g. 'pyenv install $WANT_MINOR', and rerun"
    exit 1
  }
  log "creating $VENV with $PY"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi

want_hash="$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" | sha256sum | cut -d' ' -f1)-$("$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])')"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want_hash" ]; then
  log "installing pinned requirements (requirements-dev.txt)"
  "$VENV/bin/python" -m pip install --quiet -r "$ROOT/requirements-dev.txt"
  echo "$want_hash" > "$STAMP"
  log "requirements installed"
fi
