#!/usr/bin/env bash
# One test command: pytest inside .venv (created by tools/setup.sh); extra arguments go to pytest.
#   bash tools/test.sh                 # the whole suite
#   bash tools/test.sh -k padding -x   # a subset
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -x "$ROOT/.venv/bin/python" ] || { echo "test: error: $ROOT/.venv missing; run: bash tools/setup.sh" >&2; exit 2; }
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
