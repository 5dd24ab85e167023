#!/usr/bin/env bash
# Set up the pinned environment, then run the default test suite (the fast one;
# learning runs marked `expensive` are excluded, see pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install_browser.sh
export OMP_NUM_THREADS=1
exec .venv/bin/python -m pytest -n 2 "$@"
