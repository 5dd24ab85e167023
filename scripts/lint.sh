#!/usr/bin/env bash
# Formatting, lint and type checks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff format --check src tests benchmarks examples docs/conf.py docs/_ext
.venv/bin/ruff check src tests benchmarks examples docs/conf.py docs/_ext
.venv/bin/mypy
# The layer contracts in pyproject.toml, on this checkout's sources.
PYTHONPATH=src .venv/bin/lint-imports --no-cache
