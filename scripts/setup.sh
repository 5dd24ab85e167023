#!/usr/bin/env bash
# Create .venv (if needed) and install imitation with its test extras, pinned by
# constraints.txt. Safe to run repeatedly: it reinstalls only when the pins or the
# package metadata changed since the last successful run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.imitation-installed"
want="$(cat constraints.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -c constraints.txt setuptools wheel
    # torch first, pinned to the CPU build, so nothing pulls a CUDA build.
    "$VENV/bin/python" -m pip install --quiet -c constraints.txt torch
    "$VENV/bin/python" -m pip install --quiet -c constraints.txt -e ".[test]"
    echo "$want" > "$stamp"
fi
