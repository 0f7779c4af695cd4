#!/usr/bin/env bash
# tallyroom's two entry points on a fresh machine (Python 3.11+):
#   bash run.sh demo   - install into .venv and run the demo election
#   bash run.sh test   - install into .venv with the test tools and run the whole suite
# Each installs what it needs and is safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=.venv

need_python() {
  "$PY" - <<'PYEOF' || { echo "tallyroom needs Python 3.11 or newer (found: $("$PY" --version 2>&1))" >&2; exit 1; }
import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PYEOF
}

# `pip install -e .` compiles the BLT scanner (src/tallyroom/formats/_blt_c.c, setup.py): a C
# compiler and Python's headers are needed (Debian: gcc, python3-dev).
ensure_compiler() {
  local headers
  headers=$("$PY" -c 'import os, sysconfig; print(os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")))')
  if command -v cc >/dev/null 2>&1 && [ "$headers" = True ]; then
    return
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing a C compiler and Python's headers (Debian packages gcc, python3-dev)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc python3-dev >/dev/null
  else
    echo "a C compiler and Python's headers are needed to build tallyroom: install Debian's 'gcc' and 'python3-dev'" >&2
    exit 1
  fi
}

install() {
  local extras=$1 stamp="$VENV/.installed-$1"
  need_python
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ setup.py -nt "$stamp" ] \
    || [ src/tallyroom/formats/_blt_c.c -nt "$stamp" ]; then
    ensure_compiler
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
    if [ -n "$extras" ]; then
      "$VENV/bin/python" -m pip install --quiet -e ".[$extras]"
    else
      "$VENV/bin/python" -m pip install --quiet -e .
    fi
    touch "$stamp"
  fi
}

# The store's tests run against a real PostgreSQL: install Debian's server when it is missing.
ensure_postgres() {
  if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    return
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing PostgreSQL (Debian package postgresql)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL's server is needed for the tests: install Debian's 'postgresql' package" >&2
    exit 1
  fi
}

# The browser tests drive Debian's Chromium through Playwright (Playwright downloads nothing).
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1 || [ -n "${TALLYROOM_CHROMIUM:-}" ]; then
    return
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Chromium (Debian package chromium)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    echo "Chromium is needed for the browser tests: install Debian's 'chromium' package" >&2
    exit 1
  fi
}

case "${1:-}" in
  demo)
    shift
    install ""
    exec "$VENV/bin/tallyroom" demo "$@"
    ;;
  test)
    shift
    install test
    ensure_postgres
    ensure_chromium
    echo "== ruff"; "$VENV/bin/ruff" check src tests benchmarks
    echo "== mypy --strict"; "$VENV/bin/mypy" --strict src/tallyroom
    echo "== import contract (docs/architecture.md)"; "$VENV/bin/lint-imports"
    echo "== pytest"; exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: bash run.sh demo | bash run.sh test [pytest args]" >&2
    exit 2
    ;;
esac
