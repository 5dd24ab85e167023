#!/usr/bin/env bash
# Set up the pinned environment, then build the documentation site into
# docs/_build/html with warnings as errors. The tutorials (examples/*.py) run
# with --fast; IMITATION_DOCS_FULL=1 runs them with their full budgets.
# Extra arguments go to sphinx-build (e.g. -D plot_gallery=0 to skip running
# the tutorials while editing prose).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=1 MPLBACKEND=Agg
exec .venv/bin/python -m sphinx -W --keep-going -b html \
    -d docs/_build/doctrees "$@" docs docs/_build/html
