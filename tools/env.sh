# Sourced by tools/run_ablation.sh and tools/test.sh (and tools/setup.sh, for the stamp): the environment
# a command runs in, brought up by tools/setup.sh when it is missing or stale, so that a fresh clone needs
# no set-up command of its own.
#
# Stale: .venv/.setup-stamp does not hold the hash of tools/setup.sh and setup.py, the two files that say
# what set-up installs (setup.sh writes the stamp once everything is installed and checked). Checking it
# costs a hash of two small files; a stale .venv is brought up to date by the same idempotent, cached
# steps (the mmcv wheel is built once per machine). HARNESS_PYTHON=/path/to/python uses that interpreter
# as it is and sets nothing up (an environment managed by hand, e.g. `pip install -e .` elsewhere).

setup_stamp() {  # the hash .venv/.setup-stamp must hold
  cat "$ROOT/tools/setup.sh" "$ROOT/setup.py" | sha256sum | cut -d' ' -f1
}

ensure_env() {  # ensure_env COMMAND-NAME: sets PY, running tools/setup.sh first when needed
  if [ -n "${HARNESS_PYTHON:-}" ]; then
    PY="$HARNESS_PYTHON"
    [ -x "$PY" ] || { echo "$1: error: HARNESS_PYTHON=$PY: not an executable;" \
      "expected a Python with the harness installed" >&2; exit 2; }
    return
  fi
  PY="$ROOT/.venv/bin/python"
  local why=''
  if [ ! -x "$PY" ]; then
    why="no environment yet ($ROOT/.venv)"
  elif [ "$(cat "$ROOT/.venv/.setup-stamp" 2>/dev/null)" != "$(setup_stamp)" ]; then
    why='the environment is older than tools/setup.sh / setup.py'
  fi
  if [ -n "$why" ]; then
    echo "$1: $why: running tools/setup.sh first (cached steps; the first time builds mmcv, minutes)"
    bash "$ROOT/tools/setup.sh" || { echo "$1: error: tools/setup.sh failed (see above);" \
      "expected it to set up $ROOT/.venv" >&2; exit 1; }
  fi
}
