"""`--status` (harness/launch/status.py), `--dry-run`'s GPU-hour estimate (harness/launch/estimate.py) and the
tracking backends every grid run gets (harness/engine/tracking.py).

The status is read from the runs' own files: a run.log in mmengine's format (two attempts, the first
stopped by SIGTERM, on 8 processes under srun), results.json of a finished and a failed run, and the
Slurm queue (stubbed here; tests/run/test_slurm.py asks a real one).
"""

import json
import os
import subprocess
import time

import pytest

from harness.launch import status as status_mod
from harness.launch.runner import GridRunner
from harness.launch.status import parse_log
from harness.paths import REPO_ROOT as REPO

GRID = """name: st
base: configs/smoke/fcn_r18-d8_tiny-cityscapes.py
baseline: fcn
seeds: [0]
cfg_options: {train_cfg.max_iters: 40}
variants:
  - name: fcn
  - {name: reflect, padding: {mode: reflect, scope: backbone}}
  - {name: circular, padding: {mode: circular, scope: backbone}}
  - {name: replicate, padding: {mode: replicate, scope: backbone}}
"""
LOG = """
$ srun --ntasks=8 --ntasks-per-node=8 --gres=gpu:8 --kill-on-bad-exit=1 python -u tools/train.py c.py --launcher slurm
12/02 05:25:01 - mmengine - INFO - Iter(train) [10/40]  lr: 1.0000e-04  eta: 0:00:50  time: 2.0000  data_time: 0.09
12/02 05:25:17 - mmengine - INFO - Iter(train) [20/40]  lr: 6.2105e-04  eta: 0:00:33  time: 3.0000  data_time: 0.09
12/02 05:25:19 - mmengine - INFO - Saving checkpoint at 23 iterations (SIGTERM)
preempted: SIGTERM: stopped after iteration 23 of 40, checkpoint iter_23.pth; rerun the same command to resume
$ srun --ntasks=8 --ntasks-per-node=8 --gres=gpu:8 --kill-on-bad-exit=1 python -u tools/train.py c.py --launcher slurm
12/02 06:00:00 - mmengine - INFO - resumed epoch: 0, iter: 23
12/02 06:00:09 - mmengine - INFO - Iter(train) [30/40]  lr: 1.0000e-04  eta: 0:00:10  time: 1.0000  data_time: 0.09
"""


def test_parse_log_counts_iterations_stops_gpus_and_gpu_seconds():
    p = parse_log(LOG)
    assert (p['iteration'], p['max_iters'], p['eta'], p['stops'], p['gpus']) == (30, 40, '0:00:10', 1, 8)
    # iterations trained per window x that window's mean time x 8 GPUs; 20 -> 23 was trained but not logged
    assert p['train_s'] == pytest.approx(((10 - 0) * 2.0 + (20 - 10) * 3.0 + (30 - 23) * 1.0) * 8)


def _mmengine_logs(run_dir):
    """LOG as the runner's run.log and as mmengine's log file of each attempt, where srun dropped the tail of the
    first attempt's output from run.log (as it does when Slurm stops a job): only mmengine's file has it."""
    commands, attempts = [], []
    for part in LOG.strip().split('$ ')[1:]:
        command, _, body = part.partition('\n')
        commands.append('$ ' + command)
        attempts.append(body.replace('12/02', '2026/12/02').replace('preempted: SIGTERM', 'x'))
    attempts[0] = attempts[0].replace(
        'Saving checkpoint at 23 iterations (SIGTERM)', '[harness] SIGTERM: stopping after iteration 23'
    )
    (run_dir / 'run.log').write_text('\n'.join(commands) + '\n')
    for i, body in enumerate(attempts):
        (run_dir / f'20261202_0{i}0000').mkdir()
        (run_dir / f'20261202_0{i}0000' / f'20261202_0{i}0000.log').write_text(body)


def test_status_line_per_run_and_gpu_hours(tmp_path, monkeypatch):
    grid = tmp_path / 'st.yaml'
    grid.write_text(GRID)
    runner = GridRunner(str(grid), str(tmp_path / 'work'))
    d = tmp_path / 'work' / 'st'
    for run, result in (('fcn_seed0', dict(status='done')), ('reflect_seed0', dict(status='failed', error='loss NaN'))):
        (d / run).mkdir(parents=True)
        (d / run / 'results.json').write_text(json.dumps(result))
    (d / 'circular_seed0').mkdir()
    _mmengine_logs(d / 'circular_seed0')
    old = time.time() - 3600
    for f in (d / 'circular_seed0').rglob('*.log'):
        os.utime(f, (old, old))  # not written lately: stopped, not running
    monkeypatch.setattr(status_mod, '_queue', lambda grid_dir, log: {3: ('7_3', 'PENDING')})
    lines = []
    states = status_mod.status(runner, log=lines.append)
    assert states == {
        'fcn_seed0': 'done',
        'reflect_seed0': 'failed',
        'circular_seed0': 'stopped',
        'replicate_seed0': 'queued',
    }
    text = '\n'.join(lines)
    assert 'reflect_seed0    failed: loss NaN' in text
    assert 'circular_seed0   stopped at iteration 30 of 40, not queued; preempted 1 time' in text
    assert 'replicate_seed0  queued (job 7_3, pending)' in text
    spent = ((10 * 2.0 + 10 * 3.0 + 7 * 1.0) * 8) / 3600
    left = ((40 - 30) * 1.0 * 8 + 40 * 1.0 * 8) / 3600  # the queued run at the one logged run's GPU-s per iteration
    assert f'GPU-hours (training): {spent:.3f} so far; about {left:.3f} more to finish' in text


def test_every_grid_run_logs_to_tensorboard_and_grid_extras(tmp_path):
    grid = tmp_path / 'st.yaml'
    grid.write_text(
        GRID.replace('variants:', 'vis_backends: [wandb, {type: MLflowVisBackend, exp_name: e}]\nvariants:')
    )
    cfg = GridRunner(str(grid), str(tmp_path / 'work')).resolve_all()['reflect_seed0']
    backends = cfg.visualizer.vis_backends
    assert backends[0] == dict(type='LocalVisBackend')
    assert backends[1] == dict(
        type='TensorboardVisBackend', save_dir=str(tmp_path / 'work' / 'st' / 'tensorboard' / 'reflect_seed0')
    )
    assert backends[2]['type'] == 'WandbVisBackend' and backends[2]['init_kwargs']['id'] == 'st-reflect_seed0'
    assert backends[3] == dict(type='MLflowVisBackend', exp_name='e')
    bad = tmp_path / 'bad.yaml'
    bad.write_text(GRID.replace('variants:', 'vis_backends: [wandbx]\nvariants:'))
    with pytest.raises(Exception, match=r'vis_backends\[0\]: got .wandbx.; expected a list of wandb, mlflow'):
        GridRunner(str(bad), str(tmp_path / 'work'))


def test_dry_run_estimates_gpu_hours_from_a_timed_warm_up(tmp_path, repo_tiny_data):
    grid = tmp_path / 'st.yaml'
    # one variant, whose weights do not exist yet (as a matched backbone before its pretraining): timed from random init
    missing = '{type: Pretrained, checkpoint: /nonexistent/backbone.pth}'
    grid.write_text(
        GRID.split('  - {name: reflect')[0].replace(
            'max_iters: 40}', f'max_iters: 40, load_from: /nonexistent/model.pth, model.backbone.init_cfg: {missing}}}'
        )
    )
    proc = subprocess.run(
        [
            str(REPO / 'tools' / 'run_ablation.sh'),
            str(grid),
            '--work-dir',
            str(tmp_path / 'w'),
            '--dry-run',
            '--warmup-iters',
            '4',
            '--gpus',
            '2',
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1'),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert 'each variant timed for 4 iterations (the first 3 not counted) on CPU' in out and 'x 2 GPU(s) per run' in out
    line = next(line for line in out.splitlines() if line.startswith('  fcn_seed0: 40 iterations x '))
    seconds = float(line.split(' x ')[1].split(' s = ')[0])
    hours = float(line.split(' = ')[1].split()[0])
    assert seconds > 0 and hours == pytest.approx(40 * seconds * 2 / 3600, abs=6e-4)
    assert f'estimate: {line.split(" = ")[1].split()[0]} GPU-hours for the grid' in out
    assert not (tmp_path / 'w' / 'st' / 'fcn_seed0' / 'results.json').exists()  # nothing trained for real


def test_dry_run_without_the_dataset_times_the_warm_up_on_synthetic_data(tmp_path):
    """No dataset on this machine (COCO before its download): the warm-up trains on generated images and
    targets of each config's training size and says so; a config whose training size cannot be read
    without its images is left unpriced, with why."""
    # the smoke Mask R-CNN resized to 96x160 (h x w) for training, batched as mmdet's COCO configs batch
    config = tmp_path / 'mask-rcnn_resized.py'
    config.write_text(
        f"_base_ = ['{REPO / 'configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py'}']\n"
        "train_dataloader = dict(batch_sampler=dict(_delete_=True, type='AspectRatioBatchSampler'), dataset=dict(pipeline=[\n"
        "    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True, with_mask=True),\n"
        "    dict(type='Resize', scale=(160, 96), keep_ratio=True), dict(type='PackDetInputs')]))\n"
    )
    grid = tmp_path / 'syn.yaml'
    grid.write_text(f"""name: syn
base: {config}
baseline: mrcnn
seeds: [0]
cfg_options: {{train_dataloader.dataset.data_root: {tmp_path / 'no-data'}/}}
variants:
  - name: mrcnn
  - {{name: fcn, base: {REPO / 'configs/smoke/fcn_r18-d8_tiny-cityscapes.py'}, baseline: fcn}}
  - {{name: nosize, base: {REPO / 'configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py'}, baseline: nosize}}
""")
    proc = subprocess.run(
        [
            str(REPO / 'tools' / 'run_ablation.sh'),
            str(grid),
            '--work-dir',
            str(tmp_path / 'w'),
            '--dry-run',
            '--warmup-iters',
            '3',
            '--gpus',
            '8',
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1'),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = {line.split(':')[0].strip(): line for line in proc.stdout.splitlines() if line.startswith('  ')}
    for run, iters, size in (('mrcnn_seed0', 60, '96x160'), ('fcn_seed0', 60, '128x256')):  # fcn: its crop size
        line = lines[run]
        assert line.endswith(f'GPU-hours (timed on synthetic data of size {size}: the dataset is not on this machine)')
        seconds = float(line.split(' x ')[1].split(' s = ')[0])
        hours = float(line.split(' = ')[1].split()[0])
        assert 0 < seconds < 600 and hours == pytest.approx(iters * seconds * 8 / 3600, abs=6e-4), line
    assert lines['nosize_seed0'] == (
        f'  nosize_seed0: not estimated: {tmp_path / "no-data"}/annotations/instances_train2017.json does not exist '
        'on this machine and the training size is unknown (no resize in the training pipeline and its image folder '
        f'{tmp_path / "no-data"}/train2017 does not exist)'
    )
    assert (
        not (tmp_path / 'no-data').exists() and not (tmp_path / 'w' / 'syn' / 'mrcnn_seed0' / 'results.json').exists()
    )


def _fake_squeue(tmp_path, monkeypatch, script):
    """An `squeue` first on PATH that records each call and then runs `script`."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'squeue').write_text(f'#!/usr/bin/env bash\necho call >> {tmp_path}/squeue-calls\n{script}\n')
    (bin_dir / 'squeue').chmod(0o755)
    monkeypatch.setenv('PATH', f'{bin_dir}{os.pathsep}{os.environ["PATH"]}')
    return tmp_path / 'squeue-calls'


def test_status_of_a_local_grid_never_asks_slurm(tmp_path, monkeypatch):
    """A grid that ran here (no `slurm/` folder: never submitted) is not looked up in Slurm's queue, even where
    squeue exists; a submitted one whose Slurm cannot answer gets one short line, not Slurm's error text."""
    calls = _fake_squeue(
        tmp_path,
        monkeypatch,
        'echo "squeue: error: resolve_ctls_from_dns_srv: res_nsearch error: Unknown host" >&2; exit 1',
    )
    grid = tmp_path / 'st.yaml'
    grid.write_text(GRID)
    runner = GridRunner(str(grid), str(tmp_path / 'work'))
    lines = []
    status_mod.status(runner, log=lines.append)
    assert not calls.exists() and lines[0].startswith('grid st: 4 runs: 4 not started'), lines
    (tmp_path / 'work' / 'st' / 'slurm').mkdir(parents=True)  # `--submit slurm` made it
    lines = []
    status_mod.status(runner, log=lines.append)
    assert calls.exists()
    assert lines[0] == 'Slurm: cannot be asked (squeue failed); queued runs show as not started or stopped', lines
    assert not any('res_nsearch' in line for line in lines)
