#!/usr/bin/env bash
# One test command: pytest inside .venv; extra arguments go to pytest.
#   bash tools/test.sh                 # the whole suite
#   bash tools/test.sh -k padding -x   # a subset
# Brings up .venv first (tools/setup.sh) when it is missing or stale (tools/env.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/tools/env.sh"
ensure_env test
cd "$ROOT"
exec "$PY" -m pytest "$@"
