#!/usr/bin/env bash
# Creates .venv when missing and (re)installs the kit when pyproject.toml or
# constraints.txt changed since the last install; then registers the kernels.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.kerasdl-deps
start=$(date +%s)

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "kerasdl needs Python 3.10 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1). Run: make PYTHON=python3.11 ..." >&2
    exit 1
fi

want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
have=$(cat "$STAMP" 2>/dev/null || true)

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV with $("$PYTHON" --version)"
    "$PYTHON" -m venv "$VENV"
    have=""
fi

if [ "$want" != "$have" ]; then
    echo "setup: installing kerasdl with the jax, torch and tensorflow backends (about 3 GB, a few minutes)"
    log=$VENV/install.log
    status=0
    {
      "$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[all,dev]"; } >"$log" 2>&1 || status=$?
    # pip's configured extra indexes print one warning per package; show the rest.
    grep -v '^WARNING: Location' "$log" || true
    if [ "$status" != 0 ]; then
        echo "setup: pip failed (exit $status); the full log is $log" >&2
        exit 1
    fi
    echo "$want" > "$STAMP"
else
    echo "setup: $VENV is up to date"
fi

"$VENV/bin/kerasdl" kernels install --quiet
# JupyterLab defaults for a clean course page: no "Jupyter news" prompt, no update checks
# (both would reach for the network). A learner's own settings still win.
mkdir -p "$VENV/share/jupyter/lab/settings"
cp tools/lab_overrides.json "$VENV/share/jupyter/lab/settings/overrides.json"
echo "setup: done in $(( $(date +%s) - start )) s"
