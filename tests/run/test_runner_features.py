"""One runner feature per grid, each on a few iterations of FCN on tiny Cityscapes: a dry run's plan, a run
under torchrun on CPU, two runs at once (`--jobs`), a diverging run, a bad grid file. The smoke grid end to end
is tests/run/test_pipeline.py."""

import os
import re

import pytest
from grid_cli import read_result as _result
from grid_cli import run_grid as _run
from grid_cli import write_grid as _grid

from harness.run.worker import THREADS

pytestmark = pytest.mark.usefixtures('repo_tiny_data')  # the configs read data/


def test_dry_run_lists_commands_without_running(tmp_path):
    proc = _run(
        '--dry-run',
        '--warmup-iters',
        '0',  # the plan only: the GPU-hour estimate is tests/run/test_status.py's
        '--only',
        'fcn*',
        '--launcher',
        'pytorch',
        '--gpus',
        '2',
        '--work-dir',
        str(tmp_path),
    )
    assert proc.returncode == 0
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2 and all('torch.distributed.run --nproc_per_node=2' in line for line in lines)
    assert not (tmp_path / 'smoke').exists()


def test_distributed_run_under_torchrun_on_cpu(tmp_path):
    grid = _grid(
        tmp_path,
        'name: dist\nbase: configs/smoke/fcn_r18-d8_tiny-cityscapes.py\nbaseline: fcn\n'
        'cfg_options: {train_cfg.max_iters: 4}\nvariants:\n  - name: fcn\n',
    )
    proc = _run(
        grid,
        '--launcher',
        'pytorch',
        '--gpus',
        '2',
        '--work-dir',
        str(tmp_path / 'work'),
        '--report-dir',
        str(tmp_path / 'report'),
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    result = _result(tmp_path / 'work', 'dist', 'fcn_seed0')
    assert result['status'] == 'done' and result['meta']['gpus'] == 2 and 'mIoU' in result['metrics']
    log = (tmp_path / 'work' / 'dist' / 'fcn_seed0' / 'run.log').read_text()
    assert 'Distributed training: True' in log and "backend': 'gloo'" in log


def test_two_runs_at_once_with_jobs(tmp_path):
    """--jobs 2: the second run starts before the first ends, each child on half the cores, both finish."""
    grid = _grid(
        tmp_path,
        'name: jobs\nbase: configs/smoke/fcn_r18-d8_tiny-cityscapes.py\nbaseline: fcn\n'
        'cfg_options: {train_cfg.max_iters: 2}\nvariants:\n  - name: fcn\n'
        '  - {name: fcn-reflect, padding: {mode: reflect, scope: backbone}}\n',
    )
    env = {k: v for k, v in os.environ.items() if k != 'OMP_NUM_THREADS'}
    proc = _run(
        grid, '--jobs', '2', '--work-dir', str(tmp_path / 'work'), '--report-dir', str(tmp_path / 'report'), env=env
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    second = next(i for i, line in enumerate(lines) if line.startswith('[2/2]') and 'training' in line)
    first_done = next(i for i, line in enumerate(lines) if ': done in ' in line)
    assert second < first_done, proc.stdout
    for run in ('fcn_seed0', 'fcn-reflect_seed0'):
        assert _result(tmp_path / 'work', 'jobs', run)['status'] == 'done'
        log = (tmp_path / 'work' / 'jobs' / run / 'run.log').read_text()
        assert f'{THREADS} {max(1, (os.cpu_count() or 1) // 2)}\n' in log, log[:2000]


def test_diverging_run_is_marked_failed_and_the_grid_goes_on(tmp_path):
    grid = _grid(
        tmp_path,
        """name: nan
base: configs/smoke/fcn_r18-d8_tiny-cityscapes.py
baseline: ok
cfg_options: {train_cfg.max_iters: 2}
variants:
  - name: diverge
    cfg_options: {optim_wrapper.optimizer.lr: 1.0e+8, optim_wrapper.clip_grad: null, train_cfg.max_iters: 6}
  - name: ok
""",
    )
    proc = _run(grid, '--work-dir', str(tmp_path / 'work'), '--report-dir', str(tmp_path / 'report'))
    assert proc.returncode == 0, proc.stdout[-3000:]
    failed = _result(tmp_path / 'work', 'nan', 'diverge_seed0')
    assert failed['status'] == 'failed' and 'not finite at iteration' in failed['error'] and failed['iteration'] >= 1
    assert _result(tmp_path / 'work', 'nan', 'ok_seed0')['status'] == 'done'
    report = (tmp_path / 'report' / 'report.md').read_text()
    assert 'diverge_seed0' in report and 'not finite at iteration' in report


@pytest.mark.parametrize(
    'text,message',
    [
        ('name: x\nbaseline: a\nvariants: [{name: a}]\n', r'base'),
        (
            'base: configs/smoke/fcn_r18-d8_tiny-cityscapes.py\nbaseline: a\nvariants:\n  - {name: a, padding: {mode: mirror}}\n',
            r"variants\[0\]\.padding\.mode: unknown padding mode 'mirror'",
        ),
    ],
)
def test_bad_grid_is_one_line_error(tmp_path, text, message):
    proc = _run(_grid(tmp_path, text), '--work-dir', str(tmp_path / 'work'), timeout=120)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ')
    assert re.search(message, lines[0]), lines[0]
