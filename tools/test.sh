#!/usr/bin/env bash
# One test command, inside .venv: ruff's lint and format check and mypy over the tree (pyproject.toml holds
# their settings; any finding fails the command, as in CI), then pytest on every core (pytest.ini: pytest-xdist,
# one worker per core; `-n 0` runs in one process); extra arguments go to pytest.
#   bash tools/test.sh                 # the whole suite
#   bash tools/test.sh -k padding -x   # a subset (the checks still run: a few seconds)
# Brings up .venv first (tools/setup.sh) when it is missing or stale (tools/env.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/tools/env.sh"
ensure_env test
cd "$ROOT"
"$PY" -m ruff check .
"$PY" -m ruff format --check .
"$PY" -m mypy
exec "$PY" -m pytest "$@"
