#!/usr/bin/env bash
# The main job: run an ablation grid and write its report. See `tools/run_ablation.sh --help`.
#   tools/run_ablation.sh                                   # smoke grid on generated tiny data
#   tools/run_ablation.sh GRID.yaml [--launcher none|pytorch|slurm] [--gpus N] [--only GLOB] [--dry-run]
# Brings up .venv first (tools/setup.sh) when it is missing or stale (tools/env.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/tools/env.sh"
ensure_env run_ablation
exec "$PY" "$ROOT/tools/run_ablation.py" "$@"
