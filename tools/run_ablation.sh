#!/usr/bin/env bash
# The main job: run an ablation grid and write its report. See `tools/run_ablation.sh --help`.
#   tools/run_ablation.sh                                   # smoke grid on generated tiny data
#   tools/run_ablation.sh GRID.yaml [--launcher none|pytorch|slurm] [--gpus N] [--only GLOB] [--dry-run]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || PY="$(command -v python3)"
exec "$PY" "$ROOT/tools/run_ablation.py" "$@"
