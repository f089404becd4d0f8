"""`tools/run_ablation.sh` as the grid tests call it: a grid file from text, the command, a run's result."""

import json
import subprocess

from harness.paths import REPO_ROOT

RUN = [str(REPO_ROOT / 'tools' / 'run_ablation.sh')]


def run_grid(*args, timeout=1800, env=None):
    """`tools/run_ablation.sh ARGS` from the repository root, its output captured."""
    return subprocess.run(RUN + list(args), cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def read_result(work, grid, run):
    return json.loads((work / grid / run / 'results.json').read_text())


def write_grid(tmp_path, text):
    path = tmp_path / 'grid.yaml'
    path.write_text(text)
    return str(path)
