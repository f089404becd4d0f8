"""One run of a grid in one child process: train it (resuming), evaluate its final checkpoint, probe its backbone.

    python -m harness.run.worker RUN_DIR/config.py --work-dir RUN_DIR [--probe JSON] [--launcher pytorch|slurm]

The grid runner starts it through the grid's launcher (plain, torchrun, srun), one per run. One process
instead of three (tools/train.py, tools/test.py, tools/probe_position.py) pays the interpreter start-up
and the imports of torch, mmengine, mmdet and mmseg once per run. Crash safety is unchanged: each phase
leaves its file last and atomically (train_meta.json, metrics.json, probe.json) and a rerun skips what
is done; training resumes from the newest complete checkpoint (`resume_point`), and the evaluation
always reads the final checkpoint, as tools/test.py did, so a run resumed after a kill is evaluated on
the same weights in the same way as one that never stopped.

SIGTERM: during training, PreemptionHook checkpoints the current iteration and the process exits 143;
after the last iteration it exits 143 before evaluating (no result; a rerun evaluates); during the
evaluation or the probe it ends the process (a rerun evaluates again). Exit codes are run_cli's. A probe
that fails does not fail the run: `probe_failed.json` says why (the runner records it in results.json).
The seconds of each phase go to timing.json (harness/run/timing.py).
"""

import argparse
import json
import os
import os.path as osp
import signal
import time

MODULE = 'harness.run.worker'
EVALUATING = '[harness] evaluating'  # the lines that tell the runner (and a reader of run.log) the phase
PROBING = '[harness] probing position information'
THREADS = '[harness] CPU threads:'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog=f'python -m {MODULE}', description=__doc__.splitlines()[0])
    parser.add_argument('config', help="the run's resolved config (RUN_DIR/config.py)")
    parser.add_argument('--work-dir', required=True, help='the run dir')
    parser.add_argument(
        '--probe',
        type=json.loads,
        metavar='JSON',
        help="probe settings (a grid's `probe:`, resolved: size, images, seeds, max_images)",
    )
    parser.add_argument('--no-data-check', action='store_true', help='the runner has checked the datasets')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    import torch
    from mmengine.dist import get_rank

    from ..engine.preemption_hook import PreemptionHook
    from ..errors import Preempted
    from .outputs import TRAIN_DONE
    from .timing import AttemptTimer, process_age

    rank = os.environ.get('RANK', os.environ.get('SLURM_PROCID', '0'))  # before the process group exists
    timer = AttemptTimer(args.work_dir, enabled=rank == '0')
    timer.add('startup', process_age())  # the interpreter and the imports so far
    print(f'{THREADS} {torch.get_num_threads()}', flush=True)
    signal.signal(signal.SIGTERM, PreemptionHook.request)  # checkpoint at the next iteration, then exit 143
    if not osp.exists(osp.join(args.work_dir, TRAIN_DONE)):
        _train(args, timer)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # from here on a SIGTERM ends the process; a rerun evaluates
    if PreemptionHook.requested:
        raise Preempted('SIGTERM after the last iteration: trained, not evaluated; rerun the same command to evaluate')
    _evaluate(args, timer)
    if args.probe is not None and get_rank() == 0:
        probe(args.work_dir, args.probe, timer)


def _train(args, timer):
    import gc

    from ..data import check_data
    from ..engine.harness_hooks import add_harness_hooks
    from ..engine.train_timer_hook import TrainTimerHook
    from .config import load_config
    from .training import build_runner, set_resume, train

    with timer.phase('config'):
        cfg = set_resume(add_harness_hooks(load_config(args.config, None, args.work_dir, args.launcher)), 'auto')
        cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='TrainTimerHook')]
        if not args.no_data_check:
            check_data(cfg, ('train', 'test'))
    with timer.phase('startup'):  # the task library's models and datasets, imported where the runner would
        _import_scope(cfg.get('default_scope'))
    with timer.phase('model_build'):
        runner = build_runner(cfg)
    hook = next(h for h in runner.hooks if isinstance(h, TrainTimerHook))
    start = time.perf_counter()
    try:
        train(runner)
    finally:  # what it measured, also when training stopped (SIGTERM, a non-finite loss)
        end = time.perf_counter()
        if hook.started is not None:
            timer.add('train_setup', hook.started - start)
            for name, seconds in hook.seconds.items():
                timer.add(name if name == 'checkpoint' else f'train_{name}', seconds)
            timer.add('train_end', end - (hook.ended or end))
        else:
            timer.add('train_setup', end - start)
    with timer.phase('train_end'):  # the training runner's memory, before the evaluation builds its own
        del runner, hook
        gc.collect()


def _import_scope(scope):
    import importlib

    if scope in ('mmdet', 'mmseg', 'mmpretrain'):
        for part in ('models', 'datasets', 'evaluation'):
            importlib.import_module(f'{scope}.{part}')


def _evaluate(args, timer):
    from ..checkpoints import resume_point
    from .config import load_config
    from .evaluate import evaluate
    from .outputs import METRICS

    with timer.phase('evaluate'):
        ckpt, _ = resume_point(args.work_dir)
        print(f'{EVALUATING} {ckpt}', flush=True)
        cfg = load_config(args.config, None, osp.join(args.work_dir, 'test'), args.launcher)
        evaluate(cfg, ckpt or 'no-checkpoint', osp.join(args.work_dir, METRICS), data_check=not args.no_data_check)


def probe(run_dir, settings, timer=None):
    """The position probe of the trained run in `run_dir` with the grid's `settings` (PROBE_DEFAULTS-like):
    probe.json when it ran, probe_failed.json with why when it failed; nothing when probe.json exists."""
    from ..errors import HarnessError, one_line
    from ..jsonio import read_json, write_json
    from .outputs import PROBE, PROBE_FAILED

    if read_json(osp.join(run_dir, PROBE)) is not None:
        return
    failed = osp.join(run_dir, PROBE_FAILED)
    if osp.exists(failed):
        os.unlink(failed)
    print(PROBING, flush=True)
    from .probe import run_probe

    start = time.perf_counter()
    try:
        run_probe(
            run_dir,
            images=settings.get('images'),
            seeds=settings.get('seeds'),
            max_images=settings.get('max_images'),
            size=settings.get('size'),
            out=osp.join(run_dir, PROBE),
        )
    except Exception as e:  # a failed probe is recorded, the run is not failed
        reason = one_line(e) if isinstance(e, HarnessError) else f'{type(e).__name__}: {one_line(str(e))}'
        print(f'[harness] probe failed: {reason}', flush=True)
        write_json(failed, dict(reason=reason))
    finally:
        if timer is not None:
            timer.add('probe', time.perf_counter() - start)


if __name__ == '__main__':
    from .cli import run_and_exit

    run_and_exit(main)
