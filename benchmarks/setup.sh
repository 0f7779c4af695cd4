#!/usr/bin/env bash
# Create the benchmark environment (idempotent: re-running only fills in what is missing).
#
#   .venv-bench        tallyroom (editable, with its own pins) plus every peer that can share
#                      a venv with it. The benchmarks run with .venv-bench/bin/python.
#   .venv-bench-peers  only if needed: peers whose pins cannot coexist with tallyroom's
#                      (votekit 3.5.0 and pref_voting 1.18.2 need numba < 0.63, which needs
#                      numpy < 2.4, while tallyroom pins numpy 2.4.6). The harness runs such
#                      a peer in this venv as a worker process, on the same ballot file.
#
# A peer is first tried in .venv-bench with tallyroom's numpy held fixed (so pip can never
# silently downgrade it); on failure pip's exact error is recorded and the peer goes to the
# side venv. Where each peer ended up, and any error, is written to
# .venv-bench/peer-status.json, which the benchmark tables quote.
#
# Usage: bash benchmarks/setup.sh        (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv-bench"
SIDE="$REPO/.venv-bench-peers"
PYTHON="${PYTHON:-python3}"
PEERS=("pyrankvote==2.0.6" "votekit==3.5.0" "pref_voting==1.18.2")

log() { printf '[setup] %s\n' "$*" >&2; }

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
  || { log "tallyroom needs Python >= 3.11"; exit 1; }

# Reinstall tallyroom only when its pyproject.toml changed since the last run.
STAMP="$VENV/.tallyroom-pyproject.sha256"
if [[ "$(sha256sum "$REPO/pyproject.toml")" != "$(cat "$STAMP" 2>/dev/null)" ]]; then
  log "installing tallyroom (editable) into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$REPO" \
    >"$VENV/tallyroom-install.log" 2>&1 \
    || { cat "$VENV/tallyroom-install.log" >&2; exit 1; }
  sha256sum "$REPO/pyproject.toml" >"$STAMP"
else
  log "tallyroom already installed in $VENV (pyproject.toml unchanged)"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Hold everything tallyroom itself installed at the installed versions.
"$VENV/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check \
  | grep -v -E '^(pyrankvote|votekit|pref[-_]voting|tabulate)==' >"$WORK/constraints.txt"

installed() {  # installed VENV_DIR NAME==VERSION -> success if that exact version is there
  local name="${2%%==*}" version="${2##*==}"
  [[ -x "$1/bin/python" ]] || return 1
  [[ "$("$1/bin/python" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p')" \
    == "$version" ]]
}

STATUS="$WORK/status.tsv"
: >"$STATUS"
SIDE_SPECS=()
for spec in "${PEERS[@]}"; do
  name="${spec%%==*}"
  if installed "$VENV" "$spec"; then
    log "$spec already in .venv-bench"
    printf '%s\t%s\t%s\n' "$name" ".venv-bench" "" >>"$STATUS"
    continue
  fi
  log "installing $spec into .venv-bench (tallyroom's pins held)"
  if "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
      -c "$WORK/constraints.txt" "$spec" >"$WORK/$name.log" 2>&1; then
    printf '%s\t%s\t%s\n' "$name" ".venv-bench" "" >>"$STATUS"
  else
    # pip's verdict: from its first ERROR line on (the conflict it found), minus noise.
    error="$(sed -n '/^ERROR/,$p' "$WORK/$name.log" | grep -v -E '^(WARNING|$)' | head -20)"
    log "$spec cannot share .venv-bench with tallyroom:"
    printf '%s\n' "$error" | sed 's/^/    /' >&2
    printf '%s\t%s\t%s\n' "$name" "pending" "$(printf '%s' "$error" | base64 -w0)" >>"$STATUS"
    SIDE_SPECS+=("$spec")
  fi
done

if ((${#SIDE_SPECS[@]})); then
  if [[ ! -x "$SIDE/bin/python" ]]; then
    log "creating $SIDE for: ${SIDE_SPECS[*]}"
    "$PYTHON" -m venv "$SIDE"
  fi
  missing=()
  for spec in "${SIDE_SPECS[@]}"; do installed "$SIDE" "$spec" || missing+=("$spec"); done
  if ((${#missing[@]})); then
    log "installing ${missing[*]} into .venv-bench-peers"
    # Together, so pip resolves one consistent set for all of them.
    if ! "$SIDE/bin/python" -m pip install --quiet --disable-pip-version-check \
        "${missing[@]}" >"$WORK/side.log" 2>&1; then
      log "installing into .venv-bench-peers failed too:"
      grep -E -A12 '^ERROR' "$WORK/side.log" | head -20 | sed 's/^/    /' >&2 || true
    fi
  fi
fi

# Record where each peer lives (or why it is missing) for the benchmark tables.
"$VENV/bin/python" - "$STATUS" "$VENV" "$SIDE" <<'PY'
import base64, json, subprocess, sys
from pathlib import Path

status_file, venv, side = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
out = {}
for line in Path(status_file).read_text().splitlines():
    name, where, error = line.split("\t")
    error = base64.b64decode(error).decode() if error else ""
    entry = {"venv": where, "error": ""}
    if where == "pending":
        py = side / "bin" / "python"
        ok = py.exists() and subprocess.run(
            [str(py), "-m", "pip", "show", name], capture_output=True
        ).returncode == 0
        entry["venv"] = ".venv-bench-peers" if ok else None
        entry["error"] = "" if ok else error
        entry["not_in_main_venv_because"] = error
    out[name] = entry
(venv / "peer-status.json").write_text(json.dumps(out, indent=2) + "\n")
for name, entry in out.items():
    where = entry["venv"] or "NOT INSTALLED"
    print(f"[setup] {name}: {where}", file=sys.stderr)
PY
log "done: run the benchmarks with $VENV/bin/python benchmarks/run_all.py"
