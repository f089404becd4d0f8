"""The bill before submitting: a grid's GPU-hours from a short timed warm-up of each variant on this device.

`tools/run_ablation.sh GRID --dry-run` trains each variant of the unfinished runs for a few iterations
(`python -m harness.commands.train`, one process, the run's own resolved config, a temporary work dir), reads mmengine's
iteration times from the log after the first `warmup` iterations, and multiplies: iterations of the
schedule x seconds per iteration x GPUs per run. On G GPUs the per-GPU batch is the same as here
(data parallel), so a step takes about as long; communication is not in it, so this is a lower
bound. The device it was timed on is printed: a CPU or a different GPU gives a different bill.

A dataset that is not on this machine (COCO before its download) would leave the grid unpriced, so
the warm-up then trains on generated images and targets of the config's training size
(`harness.data.synthetic`), without validation, and each line says so: the bill is known before the
download.
"""

import copy
import os.path as osp
import subprocess
import sys
import tempfile

from ..data.input_size import train_dataset, train_input_size
from ..data.synthetic import missing_path, point_at_synthetic
from ..diagnose.loading import drop_pretrained
from ..errors import ConfigError
from .launcher import child_env
from .status import _ITER, _hours


def device_name():
    import torch

    if torch.cuda.is_available():
        return f'GPU {torch.cuda.get_device_name(0)}'
    return f'CPU ({torch.get_num_threads()} threads): no GPU visible'


def _synthetic(cfg, tmp):
    """Point `cfg`'s training set at generated data under `tmp` when its own is not on this machine.
    Returns ('', None) with real data, (note, None) with synthetic data, or ('', why not) if impossible."""
    dataset, _ = train_dataset(cfg)
    missing = missing_path(dataset) if dataset is not None else None
    if missing is None:
        return '', None
    size, how = train_input_size(cfg)
    if size is None:
        return '', f'{missing} does not exist on this machine and the training size is unknown ({how})'
    batch = int((cfg.get('train_dataloader') or {}).get('batch_size') or 1)
    try:
        point_at_synthetic(dataset, osp.join(tmp, 'data'), size, images=2 * batch)
    except ConfigError as e:
        return '', f'{missing} does not exist on this machine, and {e}'
    # The validation set is missing too; the warm-up never validates (val_begin below), but mmengine
    # builds the evaluator, and CocoMetric reads its annotation file on construction.
    cfg.val_dataloader, cfg.val_cfg, cfg.val_evaluator = None, None, None
    return f'timed on synthetic data of size {size[0]}x{size[1]}: the dataset is not on this machine', None


def time_variant(cfg, iters, warmup):
    """(seconds per iteration, note) from `iters` training iterations of `cfg`, or (None, why). From random
    init: weights do not change a step's time, and a matched backbone (`init: matched`) does not exist
    before its pretraining has run. The note is '' on the config's own data, or says the warm-up ran
    on synthetic data of the training size because the dataset is not on this machine."""
    cfg = copy.deepcopy(cfg)
    drop_pretrained(cfg.model)
    cfg.load_from = None
    with tempfile.TemporaryDirectory(prefix='posharness-warmup-') as tmp:
        note, why = _synthetic(cfg, tmp)
        if why is not None:
            return None, why
        path = osp.join(tmp, 'config.py')
        cfg.dump(path)
        cmd = [
            sys.executable,
            '-m',
            'harness.commands.train',
            path,
            '--work-dir',
            osp.join(tmp, 'work'),
            '--cfg-options',
            f'train_cfg.max_iters={iters}',
            'default_hooks.logger.interval=1',
            f'default_hooks.checkpoint.interval={iters + 1}',
            'default_hooks.checkpoint.save_last=False',
            f'train_cfg.val_begin={iters + 1}',
        ]  # no validation pass at the end of the warm-up
        proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env())
    times = [float(m.group(4)) for m in map(_ITER.search, proc.stdout.splitlines()) if m and int(m.group(1)) > warmup]
    if proc.returncode != 0 or not times:
        last = (proc.stderr.strip().splitlines() or [f'exit code {proc.returncode}'])[-1]
        return None, f'the warm-up failed ({last})'
    return sum(times) / len(times), note


def estimate(runner, gpus, iters=20, warmup=5, log=print, every_variant=False):
    """Log the GPU-hours of the grid's unfinished runs. Returns (total or None if a run could not be
    priced, {variant: GPU-hours of one run or None}); `every_variant` also times the variants whose runs are
    all finished (what `--plan --dry-run` prices more seeds of)."""
    configs = runner.resolve_all()
    todo = [r for r, s in runner.plan() if s not in ('done', 'failed')]
    timed = todo + ([r for r in runner.runs if r not in todo] if every_variant else [])
    log(
        f'estimate: {len(todo)} unfinished runs, each variant timed for {iters} iterations '
        f'(the first {warmup} not counted) on {device_name()}, x {max(gpus, 1)} GPU(s) per run'
    )
    per_variant, run_hours = {}, {}
    for run in timed:
        if run.variant.name in per_variant:
            continue
        loop = configs[run.name].get('train_cfg', {})
        if 'max_iters' not in loop:
            per_variant[run.variant.name] = (None, 'epoch-based schedule (an iteration count is needed)')
            run_hours[run.variant.name] = None
            continue
        seconds, text = per_variant[run.variant.name] = time_variant(configs[run.name], iters, warmup)
        run_hours[run.variant.name] = None if seconds is None else loop['max_iters'] * seconds * max(gpus, 1) / 3600
    total, complete = 0.0, True
    for run in todo:
        seconds, text = per_variant[run.variant.name]
        if seconds is None:
            log(f'  {run.name}: not estimated: {text}')
            complete = False
            continue
        iterations = configs[run.name]['train_cfg']['max_iters']
        total += run_hours[run.variant.name] * 3600
        log(
            f'  {run.name}: {iterations:,} iterations x {seconds:.3f} s = {_hours(run_hours[run.variant.name] * 3600)} '
            'GPU-hours' + (f' ({text})' if text else '')
        )
    for variant, hours in run_hours.items():
        if not any(r.variant.name == variant for r in todo):  # every run finished: priced for --plan only
            log(
                f'  one more run of {variant}: '
                + (
                    f'{_hours(hours * 3600)} GPU-hours'
                    if hours is not None
                    else f'not estimated: {per_variant[variant][1]}'
                )
            )
    log(f'estimate: {_hours(total)} GPU-hours for the grid' + ('' if complete else ' (runs above not estimated)'))
    return (total if complete else None), run_hours
