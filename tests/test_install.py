"""A harness installed with `pip install .` runs a grid without this checkout's tools/: its children start
as `python -m harness...`, the report is written by `python -m harness.commands.run_ablation` itself.

The virtualenv reuses the set-up's stack (a .pth file puts this environment's site-packages behind its own,
so nothing is downloaded and no second torch is installed); the package is installed from a copy of
`setup.py` + `harness/`, and the grid runs from a folder outside the checkout that holds only the grid
file and a `data/` link to the tiny data, as a user's project would."""

import os
import shutil
import site
import subprocess
import sys
import sysconfig

import pytest

from harness.paths import REPO_ROOT

GRID = """name: installed
base: {base}
baseline: fcn
seeds: [0]
cfg_options: {{train_cfg.max_iters: 2}}
variants:
  - name: fcn
"""


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """The python of a fresh virtualenv with the harness pip-installed (no deps: they are this environment's)."""
    root = tmp_path_factory.mktemp('install')
    src = root / 'src'
    shutil.copytree(REPO_ROOT / 'harness', src / 'harness', ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    shutil.copy(REPO_ROOT / 'setup.py', src / 'setup.py')
    venv = root / 'venv'
    subprocess.run([sys._base_executable, '-m', 'venv', '--without-pip', str(venv)], check=True)
    python = venv / 'bin' / 'python'
    purelib = subprocess.run(
        [str(python), '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    stack = [p for p in site.getsitepackages() + [sysconfig.get_paths()['purelib']] if os.path.isdir(p)]
    (venv / purelib / 'stack.pth').write_text('\n'.join(dict.fromkeys(stack)) + '\n')
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    proc = subprocess.run(
        [str(python), '-m', 'pip', 'install', '-q', '--no-deps', '--no-build-isolation', str(src)],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return python, env, root


def test_pip_installed_harness_runs_a_grid_from_another_folder(installed, repo_tiny_data):
    python, env, root = installed
    project = root / 'project'
    project.mkdir()
    (project / 'data').symlink_to(repo_tiny_data)
    (project / 'grid.yaml').write_text(GRID.format(base=REPO_ROOT / 'configs/smoke/fcn_r18-d8_tiny-cityscapes.py'))
    where = subprocess.run(
        [str(python), '-c', 'import harness; print(harness.__file__)'],
        capture_output=True,
        text=True,
        cwd=project,
        env=env,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(root / 'venv')), where  # the installed copy, not this checkout
    proc = subprocess.run(
        [
            str(python),
            '-m',
            'harness.commands.run_ablation',
            'grid.yaml',
            '--work-dir',
            'work',
            '--report-dir',
            'report',
        ],
        capture_output=True,
        text=True,
        cwd=project,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert '"status": "done"' in (project / 'work' / 'installed' / 'fcn_seed0' / 'results.json').read_text()
    assert (project / 'report' / 'report.md').is_file()
    assert str(REPO_ROOT / 'tools') not in (project / 'work' / 'installed' / 'fcn_seed0' / 'run.log').read_text()
