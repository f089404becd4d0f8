#!/usr/bin/env bash
# One set-up command: creates .venv/ in the checkout with the pinned OpenMMLab stack and the harness.
#
#   bash tools/setup.sh            # create or update .venv (tools/run_ablation.sh and tools/test.sh do it
#                                  # themselves when .venv is missing or stale, see tools/env.sh)
#   PYTHON=python3.11 bash tools/setup.sh
#
# mmcv 2.1.0 has no wheels for torch 2.14, so it is built from its sdist once (7 min on 2 cores here)
# and the wheel is cached outside the repo, keyed by mmcv/torch/Python/platform/CUDA, under
# ${HARNESS_CACHE:-~/.cache/posharness}. Later set-ups on the same machine reuse it (a few minutes).
# Every fix applied to the build is explained in docs/STACK.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3.11}"
CACHE="${HARNESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/posharness}"

TORCH=2.14.1
TORCHVISION=0.29.1
MMCV=2.1.0
MMENGINE=0.10.7
MMDET=3.3.0
MMSEG=1.2.2
SETUPTOOLS='setuptools>=77.0.3,<82'   # torch needs >=77.0.3; mmcv's setup.py and mmengine need pkg_resources (<82)

T0=$SECONDS
step() { printf '[setup %4ds] %s\n' "$((SECONDS - T0))" "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }
trap 'die "step failed (line $LINENO): see the output above"' ERR

command -v "$PYTHON" >/dev/null || die "$PYTHON not found; set PYTHON=/path/to/python3.11"

if [ ! -x "$VENV/bin/python" ]; then
  step "creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
# pip warns about every package missing from a local mirror directory: that noise hides real errors.
pip_install() { "$PY" -m pip install -q "$@" 2> >(grep -v "^WARNING: Location 'file://" >&2); }

step "installing torch $TORCH, torchvision $TORCHVISION and build tools"
pip_install --upgrade pip "$SETUPTOOLS" wheel ninja psutil
pip_install "torch==$TORCH" "torchvision==$TORCHVISION"

# CUDA ops where CUDA is usable (torch built with CUDA and nvcc on PATH); CPU ops otherwise.
# CUDA ops only where a GPU is visible (or MMCV_WITH_CUDA=1 on a GPU-less build node) and nvcc exists:
# building CUDA kernels for a machine that cannot run them only costs hours.
CUDA_TAG=$("$PY" - <<'PY'
import os, shutil, torch
want = torch.cuda.is_available() or os.environ.get("MMCV_WITH_CUDA") == "1"
print(f"cu{torch.version.cuda.replace('.', '')}" if want and torch.version.cuda and shutil.which("nvcc") else "cpu")
PY
)
PY_TAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info.major}{sys.version_info.minor}")')
KEY="mmcv-$MMCV-torch-$TORCH-$PY_TAG-$(uname -m)-$CUDA_TAG"
WHEEL_DIR="$CACHE/$KEY"

MMCV_REQ="mmcv==$MMCV"
if "$PY" -c "import mmcv, mmcv._ext, sys; sys.exit(mmcv.__version__ != '$MMCV')" 2>/dev/null; then
  step "mmcv $MMCV with ops already installed"
else
  if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    step "no cached mmcv wheel for $KEY: building mmcv $MMCV from source (7 min on 2 cores here, up to 45 elsewhere)"
    BUILD="$(mktemp -d)"
    # --no-build-isolation here too: preparing the sdist's metadata already runs its setup.py.
    "$PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation "mmcv==$MMCV" -d "$BUILD"
    tar -xzf "$BUILD"/mmcv-$MMCV.tar.gz -C "$BUILD"
    SRC="$BUILD/mmcv-$MMCV"
    # torch >= 2.13 headers need C++20; mmcv hard-codes c++14/c++17 (mmcv#3341).
    sed -i -E 's/-std=c\+\+(14|17)/-std=c++20/g' "$SRC/setup.py"
    grep -q 'c++20' "$SRC/setup.py" || die "could not raise the C++ standard in mmcv's setup.py"
    export MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}"
    [ "$CUDA_TAG" = cpu ] || export FORCE_CUDA=1
    # -g0: no debug info (the .so shrinks from ~82 MB to ~2 MB and the build is faster). A CFLAGS
    # variable replaces Python's own flags (-O3 -DNDEBUG ...) instead of adding to them, so repeat them.
    CFLAGS="$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("CFLAGS"))') -g0"
    export CFLAGS
    # No build isolation: an isolated build cannot see torch and silently skips the ops (mmcv#3319).
    ( cd "$SRC" && "$PY" -m pip wheel -v --no-build-isolation --no-deps -w "$BUILD/dist" . ) \
      > "$BUILD/build.log" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      sleep 60
      step "  building mmcv ops: $(grep -o -E '^ *\[[0-9]+/[0-9]+\]' "$BUILD/build.log" | tail -1 | tr -d ' ') compiled (log $BUILD/build.log)"
    done
    wait "$pid" || { tail -30 "$BUILD/build.log" >&2; die "mmcv build failed; full log: $BUILD/build.log"; }
    mkdir -p "$WHEEL_DIR"
    cp "$BUILD"/dist/mmcv-*.whl "$WHEEL_DIR/"
    rm -rf "$BUILD"
    step "cached $(ls "$WHEEL_DIR")"
  else
    step "using cached mmcv wheel $(ls "$WHEEL_DIR")"
  fi
  MMCV_REQ="$(ls "$WHEEL_DIR"/mmcv-*.whl)"
fi

step "installing mmcv, mmengine $MMENGINE, mmdet $MMDET, mmsegmentation $MMSEG and the harness"
pip_install "$MMCV_REQ" "mmengine==$MMENGINE" \
  "mmdet==$MMDET" "mmsegmentation==$MMSEG" "$SETUPTOOLS"
pip_install -e "$ROOT[dev]"
"$PY" -c "import mmcv._ext" || die "mmcv was installed without its compiled ops (import mmcv._ext failed)"

# The HTML report is checked in a real browser (tests/report/test_report_browser.py): Debian's chromium and
# chromedriver, where apt and root are available (HARNESS_NO_BROWSER=1 skips; the test then skips).
if [ -z "${HARNESS_NO_BROWSER:-}" ] && ! { command -v chromium && command -v chromedriver; } >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing chromium and chromedriver for the report's browser test"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } \
      >/dev/null || die "apt-get could not install chromium chromium-driver (set HARNESS_NO_BROWSER=1 to skip)"
  else
    step "chromium/chromedriver not found and no root apt: the report's browser test will be skipped"
  fi
fi

# `--submit slurm` is tested against a real one-node Slurm that tests/run/slurm_cluster.py starts (its own config,
# state and munge key in a temporary folder): Debian's slurm-wlm and munge, where apt and root are available
# (HARNESS_NO_SLURM=1 skips; the Slurm tests then skip). apt may start system daemons; the tests never use them.
if [ -z "${HARNESS_NO_SLURM:-}" ] && ! { PATH="$PATH:/usr/sbin" command -v slurmctld && command -v sbatch \
     && PATH="$PATH:/usr/sbin" command -v munged; } >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing slurm-wlm and munge for the Slurm tests"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge; } \
      >/dev/null || die "apt-get could not install slurm-wlm munge (set HARNESS_NO_SLURM=1 to skip)"
  else
    step "Slurm (slurmctld, sbatch, munged) not found and no root apt: the Slurm tests will be skipped"
  fi
fi

"$PY" -c "import harness.engine.register, mmdet, mmseg, mmpretrain, mmcv._ext" || die "the installed stack does not import"  # mmpretrain: setup.py
source "$ROOT/tools/env.sh"
setup_stamp > "$VENV/.setup-stamp"  # tools/run_ablation.sh and tools/test.sh: this .venv is up to date
step "done: $("$PY" -c 'import torch, mmcv, mmdet, mmseg, mmengine; print(f"torch {torch.__version__}, mmcv {mmcv.__version__}, mmengine {mmengine.__version__}, mmdet {mmdet.__version__}, mmseg {mmseg.__version__}")')"
step "activate with: source .venv/bin/activate"
