#!/usr/bin/env bash
# Set up the pinned environment, then run the quickstart: offline, on the experts
# bundled with the package; prints a results table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/quickstart.py "$@"
