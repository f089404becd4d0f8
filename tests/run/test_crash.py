"""Crash safety and preemption of tools/run_ablation.sh, shown by killing it.

A tiny real grid (FCN R-18 on tiny Cityscapes, 2 variants x 1 seed, 4 iterations, a checkpoint every 2,
CPU, fixed seeds) is run once uninterrupted as the reference. Then the same grid is run in another
work dir and SIGKILLed again and again: at each phase where a crash could lose or corrupt something
(training before / after a checkpoint, while a checkpoint is written, while evaluating, between
metrics.json and results.json, right after a result, while the report is written) and at random
moments from a seeded RNG, alternately the whole process group and the runner alone (its children
must then die of PR_SET_PDEATHSIG). After every kill: no process of the grid survives, every
results.json parses and says done, a result once written is never rewritten, and decoy `*.tmp*` result
files are never read. Rerunning the same command each time must finish the grid with every run done
exactly once, runs resumed from their last complete checkpoint (never restarted when one existed),
and models, metrics and report tables identical to the reference, bit for bit: training on CPU is
deterministic, and the harness restores the random state on resume (harness/hooks.py, RngStateHook).

The SIGTERM test plays a Slurm preemption: SIGTERM to the grid's process group during iteration 3
gives exit code 143, a checkpoint of iteration 3 named by `last_checkpoint`, no result for the
interrupted run; rerunning resumes at iteration 3 and ends identical to the reference.

These two take several minutes on 2 CPU cores (each restart pays Python / torch start-up). A run is one
child process (harness/run/worker.py) that trains, then evaluates: the kill points are found in its log. The last
tests check the pieces in process, in seconds, and fail without them: a toy run stopped by the
PreemptionHook and resumed equals an uninterrupted one only with the RngStateHook, and `resume_point`
gets past the broken `last_checkpoint` that mmengine's CheckpointHook can leave when killed.
"""

import csv
import io
import json
import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from grid_cli import RUN
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import HOOKS, MODELS
from mmengine.runner import Runner

from harness.checkpoints import is_readable, resume_point
from harness.engine.preemption_hook import PreemptionHook
from harness.errors import Preempted
from harness.paths import REPO_ROOT
from harness.run.worker import EVALUATING
from harness.run.worker import MODULE as WORKER

REPO = REPO_ROOT
RUNS = ('fcn_seed0', 'fcn-reflect_seed0')
MAX_ITERS = 4
GRID = f"""name: crash
base: configs/smoke/fcn_r18-d8_tiny-cityscapes.py
baseline: fcn
seeds: [0]
# {MAX_ITERS} iterations, a checkpoint every 2 (the config keeps only the newest one), a log line each
cfg_options: {{train_cfg.max_iters: {MAX_ITERS}, default_hooks.checkpoint.interval: 2, default_hooks.logger.interval: 1}}
variants:
  - name: fcn
  - name: fcn-reflect
    padding: {{mode: reflect, scope: backbone}}
"""
DECOY = dict(run='decoy', status='done', metrics={'mIoU': 99.99}, meta={})
METRIC_SECTIONS = ('Headline', 'Segmentation', 'Per-class IoU')


class Grid:
    """The tiny grid in its own work dir and report dir."""

    def __init__(self, root):
        self.root, self.work, self.report = root, root / 'work', root / 'report'
        self.dir = self.work / 'crash'
        self.yaml = root / 'grid.yaml'
        self.yaml.write_text(GRID)

    def start(self):
        # A session of its own: the test can signal the whole process group, and find every process.
        out, err = open(self.root / 'stdout.txt', 'a'), open(self.root / 'stderr.txt', 'a')
        with out, err:
            err.write('\n--- attempt\n')
            err.flush()
            return subprocess.Popen(
                RUN + [str(self.yaml), '--work-dir', str(self.work), '--report-dir', str(self.report)],
                cwd=REPO,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    def run_dir(self, run):
        return self.dir / run

    def log(self, run):
        try:
            return (self.dir / run / 'run.log').read_text(errors='replace')
        except OSError:
            return ''

    def result(self, run):
        return json.loads((self.dir / run / 'results.json').read_text())

    def results(self):
        return {run: (self.dir / run / 'results.json') for run in RUNS if (self.dir / run / 'results.json').exists()}

    def current(self):
        """The run being worked on: the first one without results.json."""
        return next((run for run in RUNS if not (self.dir / run / 'results.json').exists()), None)

    def report_started(self):
        return self.report.is_dir() and any(self.report.iterdir())


def _session(sid):
    """Live (non-zombie) processes of session `sid`."""
    pids = []
    for p in Path('/proc').iterdir():
        if not p.name.isdigit():
            continue
        try:
            stat = (p / 'stat').read_text()
        except OSError:
            continue
        state, _ppid, _pgrp, session = stat[stat.rindex(')') + 2 :].split()[:4]
        if int(session) == sid and state != 'Z':
            pids.append(int(p.name))
    return pids


def _assert_session_gone(sid, timeout=30):
    deadline = time.time() + timeout
    while _session(sid) and time.time() < deadline:
        time.sleep(0.1)
    assert not _session(sid), f'processes of the killed grid still run: {_session(sid)}'


def _ckpt_iter(path):
    m = re.search(r'iter_(\d+)\.pth$', str(path or ''))
    return int(m.group(1)) if m else None


def _last_checkpoint(run_dir):
    try:
        return (run_dir / 'last_checkpoint').read_text().strip()
    except OSError:
        return ''


def _train_attempts(log):
    """The text of each attempt of the run's child (harness/run/worker.py) in a run.log, from its command line
    to the next one."""
    parts = re.split(r'\n(?=\$ )', log)
    return [p for p in parts if p.startswith('$ ') and WORKER in p.splitlines()[0]]


def _weights(run_dir):
    ckpt = torch.load(run_dir / f'iter_{MAX_ITERS}.pth', map_location='cpu', weights_only=False)
    return ckpt['state_dict']


def _sections(report_md):
    """{title: text} of the report's metric sections."""
    parts = re.split(r'^## ', report_md, flags=re.M)
    return {p.split('\n', 1)[0]: p for p in parts[1:] if p.split('\n', 1)[0] in METRIC_SECTIONS}


def _csv_without(path, column):
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    for row in rows:
        row.pop(column, None)
    return rows


def _assert_same_as_reference(grid, ref):
    for run in RUNS:
        result, expected = grid.result(run), ref.result(run)
        assert result['status'] == 'done' and result['metrics'] == expected['metrics'], (run, result, expected)
        assert result['meta']['iterations'] == MAX_ITERS
        ours, theirs = _weights(grid.run_dir(run)), _weights(ref.run_dir(run))
        assert ours.keys() == theirs.keys()
        different = [k for k in ours if not torch.equal(ours[k], theirs[k])]
        assert not different, f'{run}: weights differ from the uninterrupted run in {different[:5]}'
    assert (grid.report / 'summary.csv').read_text() == (ref.report / 'summary.csv').read_text()
    assert _csv_without(grid.report / 'results.csv', 'wall_s') == _csv_without(ref.report / 'results.csv', 'wall_s')
    ours, theirs = (_sections((g.report / 'report.md').read_text()) for g in (grid, ref))
    assert set(ours) == set(METRIC_SECTIONS) and ours == theirs


@pytest.fixture(scope='module')
def reference(tmp_path_factory, repo_tiny_data):
    """The grid run once without interruption."""
    grid = Grid(tmp_path_factory.mktemp('reference'))
    proc = grid.start()
    assert proc.wait(timeout=1200) == 0, (grid.root / 'stderr.txt').read_text()[-3000:]
    assert sorted(grid.results()) == sorted(RUNS)
    return grid


# ------------------------------------------------------------------ SIGKILL


def _phases(grid, ctx):
    """Kill points: name -> condition, checked every 20 ms during an attempt."""

    def since_start(run):
        return grid.log(run)[ctx['log_size'].get(run, 0) :]

    def cur():
        return grid.current() or RUNS[-1]

    def ckpt_being_written(k):
        d = grid.run_dir(cur())
        return (d / f'iter_{k}.pth').exists() and f'iter_{k}.pth' not in _last_checkpoint(d)

    return {
        'training, before the first checkpoint': lambda: 'Iter(train) [1/4]' in since_start(cur()),
        'writing checkpoint iter_2': lambda: ckpt_being_written(2),
        'training, after checkpoint iter_2': lambda: 'Iter(train) [3/4]' in since_start(cur()),
        'training, resumed from iter_2': lambda: (
            re.search(r'resumed epoch: 0, iter: 2\b.*Iter\(train\) \[3/4\]', since_start(cur()), re.S) is not None
        ),
        'writing the final checkpoint (the old one is deleted first)': lambda: ckpt_being_written(MAX_ITERS),
        'evaluating': lambda: EVALUATING in since_start(cur()),
        'metrics.json written, results.json not yet': lambda: (
            (grid.run_dir(cur()) / 'metrics.json').exists() and not (grid.run_dir(cur()) / 'results.json').exists()
        ),
        'right after a results.json': lambda: len(grid.results()) > ctx['results'],
    }


def test_sigkill_at_any_moment_then_rerun_completes_every_run_exactly_once(tmp_path, reference):
    grid = Grid(tmp_path)
    rng = random.Random(20261128)
    for run in RUNS:  # decoys: complete-looking results under temp-file names must never be read
        grid.run_dir(run).mkdir(parents=True)
        (grid.run_dir(run) / 'results.json.tmp999999').write_text(json.dumps(DECOY))
    ctx = {}
    phases = _phases(grid, ctx)
    # Kill points in the order a grid reaches them; a phase already passed in the first run is met in
    # the second. Where a phase lasts long enough, the kill comes a random moment into it. A random kill
    # never goes past the next named phase: if that phase comes first, the kill is there and counts for it.
    # The kill right after iteration 3 leaves iter_2 as the resume point while iteration 4 runs; the next
    # attempt must resume from it and is killed once it has trained iteration 3 again.
    plan = [
        ('training, before the first checkpoint', 2),
        ('random', 30),
        ('writing checkpoint iter_2', 0),
        ('training, after checkpoint iter_2', 0),
        ('training, resumed from iter_2', 0),
        ('writing the final checkpoint (the old one is deleted first)', 0),
        ('evaluating', 4),
        ('metrics.json written, results.json not yet', 0),
        ('right after a results.json', 0),
        ('random', 30),
        ('training, after checkpoint iter_2', 2),
        ('writing the report', 0.5),
    ]
    kills, resumes, written, finished = [], [], {}, 0
    i = 0
    while i < len(plan) or len(kills) < 10:  # then random kills early in start-up, up to 10
        assert i < len(plan) + 20 and finished <= 3, kills
        point, spread = plan[i] if i < len(plan) else ('random', 3)
        delay = rng.uniform(1.0 if point == 'random' else 0.0, spread)
        i += 1
        following = None  # the next named phase, which a random kill must not pass
        if point == 'random':
            point = f'random, {delay:.1f} s after start'
            deadline = time.time() + delay
            condition = lambda deadline=deadline: time.time() >= deadline  # noqa: E731
            following = next((j for j in range(i, len(plan)) if plan[j][0] != 'random'), None)
        else:
            condition = phases.get(point, grid.report_started)
        ctx.update(log_size={run: len(grid.log(run)) for run in RUNS}, results=len(grid.results()))
        proc = grid.start()
        hit = None
        while hit is None and proc.poll() is None:
            if condition():
                hit = point
            elif following is not None and phases.get(plan[following][0], grid.report_started)():
                hit, i = f'{plan[following][0]} (before a random kill {delay:.1f} s after start)', following + 1
            elif grid.report_started():  # every run finished: the report is the only kill point left
                hit = 'writing the report'
            else:
                time.sleep(0.02)
        if hit == point and not point.startswith('random') and delay:
            hit += f' (+{delay:.1f} s)'
            time.sleep(delay)
        if proc.poll() is not None:  # the grid finished before this kill point came
            assert proc.returncode == 0, (grid.root / 'stderr.txt').read_text()[-3000:]
            finished += 1
            continue
        group = i % 2 == 1  # the whole process group, or the runner alone (children: PR_SET_PDEATHSIG)
        os.killpg(proc.pid, signal.SIGKILL) if group else os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        _assert_session_gone(proc.pid)
        # Invariants after the kill.
        for run, path in grid.results().items():
            data = path.read_bytes()
            result = json.loads(data)  # complete JSON, never half written
            assert result['status'] == 'done' and result['run'] == run and result['metrics'], result
            if run in written:
                assert written[run] == (data, path.stat().st_mtime_ns), f'{run}: results.json was rewritten'
            written[run] = (data, path.stat().st_mtime_ns)
        state = []
        for run in RUNS:
            d = grid.run_dir(run)
            if (d / 'train_meta.json').exists():
                continue
            ckpt, note = resume_point(d)
            half = [p.name for p in d.glob('iter_*.pth') if not is_readable(p)]
            resumes.append((run, len(grid.log(run)), _ckpt_iter(ckpt)))
            state.append(
                f'{run}: resume point {Path(ckpt).name if ckpt else "none"}'
                + (f', half-written {half}' if half else '')
                + (' (last_checkpoint broken)' if note else '')
            )
        kills.append(f'{hit} [{"group" if group else "runner only"}] -> {"; ".join(state) or "training done"}')
        if hit.startswith('writing the report'):
            i = max(i, len(plan))  # nothing but the report is left
    print('\n'.join(f'kill {k + 1}: {line}' for k, line in enumerate(kills)))
    assert len(kills) >= 10, kills

    proc = grid.start()  # the same command, once more: it must finish
    assert proc.wait(timeout=1200) == 0, (grid.root / 'stderr.txt').read_text()[-3000:]
    _assert_session_gone(proc.pid)
    assert sorted(grid.results()) == sorted(RUNS)
    for run, (data, _mtime) in written.items():  # finished before the last kill: never redone
        assert (grid.run_dir(run) / 'results.json').read_bytes() == data
    # Each interrupted training resumed from the last complete checkpoint it had, or started over
    # when it had none; it never re-trained an iteration that a checkpoint held.
    resumed = 0
    for run, offset, k in resumes:
        attempts = _train_attempts(grid.log(run)[offset:])
        if not attempts or 'Iter(train) [' not in attempts[0]:
            continue  # killed again before it trained anything
        text = attempts[0]
        done = sorted(int(j) for j in re.findall(r'Iter\(train\) \[(\d+)/\d+\]', text))
        if k:
            assert f'resumed epoch: 0, iter: {k}' in text and done[0] == k + 1, (run, k, done)
            resumed += 1
        else:
            assert done[0] == 1, (run, done)
    assert resumed >= 1
    _assert_same_as_reference(grid, reference)
    assert '99.99' not in (grid.report / 'results.csv').read_text()


# ------------------------------------------------------------------ SIGTERM


def test_sigterm_checkpoints_the_current_iteration_exits_143_and_rerun_resumes(tmp_path, reference):
    grid = Grid(tmp_path)
    run = RUNS[0]
    d = grid.run_dir(run)
    proc = grid.start()
    # Iteration 3 is under way once iteration 2's checkpoint is complete: a SIGTERM now must save iter_3.
    deadline = time.time() + 600
    while 'iter_2.pth' not in _last_checkpoint(d):
        assert proc.poll() is None and time.time() < deadline, (grid.root / 'stderr.txt').read_text()[-3000:]
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=300) == 143, (grid.root / 'stderr.txt').read_text()[-3000:]
    _assert_session_gone(proc.pid)
    assert (
        (grid.root / 'stderr.txt')
        .read_text()
        .splitlines()[-1]
        .startswith('preempted: grid crash: stopped by SIGTERM with 0 of 2 runs finished')
    )
    log = grid.log(run)
    assert 'Saving checkpoint at 3 iterations (SIGTERM)' in log
    assert 'preempted: SIGTERM: stopped after iteration 3 of 4' in log
    assert _last_checkpoint(d).endswith('iter_3.pth') and is_readable(d / 'iter_3.pth')
    assert not (d / 'iter_2.pth').exists()  # max_keep_ckpts=1 kept only the newest, as the CheckpointHook does
    assert not (d / 'results.json').exists() and not (d / 'train_meta.json').exists()
    assert not grid.run_dir(RUNS[1]).exists()  # nothing more started

    offset = len(log)
    proc = grid.start()
    assert proc.wait(timeout=1200) == 0, (grid.root / 'stderr.txt').read_text()[-3000:]
    text = _train_attempts(grid.log(run)[offset:])[0]
    assert 'resumed epoch: 0, iter: 3' in text
    assert re.findall(r'Iter\(train\) \[(\d+)/4\]', text) == ['4']  # resumed, not restarted
    _assert_same_as_reference(grid, reference)


# ------------------------------------------------------------------ the pieces, in process (seconds)


class _NoisyData(torch.utils.data.Dataset):
    """Draws from numpy's global RNG when a sample is loaded, like mmcv's random transforms do."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return dict(
            inputs=torch.randn(3, 16, 16, generator=g) * float(np.random.uniform(0.5, 1.5)),
            targets=torch.tensor(float(i % 2)),
        )


@MODELS.register_module()
class CrashTestDropoutNet(BaseModel):
    """Conv + dropout (torch's RNG) regressor."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Dropout(0.5), nn.Conv2d(8, 1, 3, padding=1)
        )

    def forward(self, inputs, targets=None, mode='tensor'):
        out = self.net(inputs).mean((1, 2, 3))
        return dict(loss=((out - targets) ** 2).mean()) if mode == 'loss' else out


@HOOKS.register_module()
class SigtermAtIter(Hook):
    """Plays a SIGTERM arriving during iteration `at`."""

    priority = 'HIGHEST'

    def __init__(self, at):
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.at:
            PreemptionHook.request()


def _toy_runner(work_dir, hooks, resume=False):
    return Runner(
        model=dict(type='CrashTestDropoutNet'),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_NoisyData(),
            sampler=dict(type='InfiniteSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0,
        ),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        train_cfg=dict(by_epoch=False, max_iters=6),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2, max_keep_ckpts=1),
            logger=dict(type='LoggerHook', interval=1),
        ),
        custom_hooks=hooks,
        resume=resume,
        randomness=dict(seed=0),
        default_scope='mmengine',
    )


@pytest.mark.parametrize('rng_hook', [True, False], ids=['RngStateHook', 'mmengine-alone'])
def test_preempted_and_resumed_training_is_bit_identical_only_with_the_rng_hook(tmp_path, rng_hook):
    hooks = [dict(type='PreemptionHook')] + [dict(type='RngStateHook')] * rng_hook
    PreemptionHook.requested = False
    whole = _toy_runner(tmp_path / 'whole', hooks)
    whole.train()
    PreemptionHook.requested = False
    with pytest.raises(Preempted, match='stopped after iteration 3 of 6'):
        _toy_runner(tmp_path / 'cut', hooks + [dict(type='SigtermAtIter', at=3)]).train()
    PreemptionHook.requested = False
    assert (tmp_path / 'cut' / 'last_checkpoint').read_text().endswith('iter_3.pth')
    assert sorted(p.name for p in (tmp_path / 'cut').glob('*.pth')) == ['iter_3.pth']  # max_keep_ckpts obeyed
    resumed = _toy_runner(tmp_path / 'cut', hooks, resume=True)
    resumed.train()
    assert resumed.iter == 6
    a, b = whole.model.state_dict(), resumed.model.state_dict()
    same = all(torch.equal(a[k], b[k]) for k in a)
    assert same == rng_hook  # mmengine alone resumes with other dropout masks and augmentations


def test_resume_point_survives_a_kill_inside_mmengines_checkpoint_save(tmp_path):
    """CheckpointHook (max_keep_ckpts=1) deletes iter_2.pth, then writes iter_4.pth, then rewrites
    last_checkpoint: killed in between, last_checkpoint names a deleted file (mmengine's auto-resume
    then fails on every rerun). resume_point takes the newest complete checkpoint instead."""
    from mmengine.runner.checkpoint import find_latest_checkpoint

    torch.save({'meta': {}}, tmp_path / 'iter_4.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))  # deleted already
    assert find_latest_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_2.pth')  # mmengine: a dead end
    assert resume_point(tmp_path) == (
        str(tmp_path / 'iter_4.pth'),
        f'last_checkpoint names {tmp_path}/iter_2.pth, which is not a complete checkpoint',
    )
    (tmp_path / 'last_checkpoint').write_text('')  # killed between truncating and writing it
    assert resume_point(tmp_path)[0] == str(tmp_path / 'iter_4.pth')
    torch.save({'meta': {}}, tmp_path / 'iter_2.pth')
    (tmp_path / 'iter_4.pth').write_bytes((tmp_path / 'iter_4.pth').read_bytes()[:100])  # half written
    assert resume_point(tmp_path)[0] == str(tmp_path / 'iter_2.pth')
    (tmp_path / 'iter_2.pth').unlink()
    assert resume_point(tmp_path) == (None, 'last_checkpoint names nothing, which is not a complete checkpoint')
