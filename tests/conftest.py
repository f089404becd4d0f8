"""Fixtures every test folder shares: generated tiny data, a fixed seed, the one-line-error check.

Small real models live in harness/testing.py. The repository root goes on sys.path (the tests import
`benchmarks` from it, as tools/benchmark.py does).
"""

import os
import sys

import pytest
import torch

import harness.engine.register  # noqa: F401  (registers HarnessModel, the metrics and the hooks)
from harness.paths import REPO_ROOT as REPO

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker more than cores. With one per core, 2 cores were 1.56 busy over the suite (tests
    wait on Slurm's scheduler, on kill points, on child processes): a spare worker keeps them busy meanwhile."""
    return (os.cpu_count() or 1) + 1


def pytest_configure(config):
    """Under pytest-xdist (pytest.ini: a worker per core and one more) each worker and the grids it starts get
    their share of the cores: OpenMP threads that outnumber the cores wait on each other (docs/STACK.md)."""
    workers = os.environ.get('PYTEST_XDIST_WORKER_COUNT')
    if workers and 'OMP_NUM_THREADS' not in os.environ:
        threads = max(1, (os.cpu_count() or 1) // int(workers))
        os.environ['OMP_NUM_THREADS'] = str(threads)  # inherited by the grids' runs (GridRunner keeps it)
        torch.set_num_threads(threads)


@pytest.fixture(scope='session')
def repo_tiny_data():
    """data/tiny_coco and data/tiny_cityscapes, which the smoke configs read: generated on a fresh checkout."""
    from harness.data import ensure_tiny_data

    ensure_tiny_data(REPO, log=lambda msg: None)
    return REPO / 'data'


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
    yield


@pytest.fixture
def one_line_errors(capsys):
    """check(main, cases, script, argv, message): every `{name: (argv, message)}` of `cases` through
    `run_cli(main(argv))` in this process, then `script argv` in a real one: exit 2, stderr one line
    `error: ...` holding the message, no traceback."""
    import subprocess
    import sys

    from harness.run.cli import run_cli

    def check(main, cases, script, argv, message):
        for name, (case_argv, case_message) in cases.items():
            with pytest.raises(SystemExit) as stop:
                run_cli(lambda case_argv=case_argv: main(case_argv))
            err = capsys.readouterr().err
            assert stop.value.code == 2 and err.count('\n') == 1, (name, err)
            assert err.startswith('error: ') and case_message in err, (name, err)
        proc = subprocess.run(
            [sys.executable, str(REPO / script), *argv], cwd=REPO, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 2 and proc.stderr.startswith('error: ') and proc.stderr.count('\n') == 1, proc.stderr
        assert message in proc.stderr, proc.stderr

    return check
