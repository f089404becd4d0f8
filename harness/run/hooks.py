"""Runner hooks: the patch report in the work dir, a stop on non-finite loss, and what makes runs
crash-safe and preemptible: a checkpoint-and-stop on SIGTERM, and exact resumption of the random state.

A random-init tiny run with circular padding went to NaN by iteration 40 here and then "finished"
with an empty COCO result (docs/STACK.md): a grid must see that as a failure with its reason, not as
a model that detects nothing. `NonFiniteLossHook` raises `NonFiniteLossError`; tools/train.py turns it
into a distinct exit code, after the hook has written `failure.json` beside the checkpoints.
"""
import math
import os
import random

import numpy as np
import torch
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmengine.runner import BaseLoop, IterBasedTrainLoop
from mmengine.runner.checkpoint import find_latest_checkpoint

from ..errors import HarnessError
from ..patch.provenance import META_KEY, PATCH_REPORT, check_patch, saved_patch
from .data_position import skip_without_loading
from .jsonio import write_json

FAILURE = 'failure.json'
# Added to every run's config (by the grid runner and by tools/train.py) unless already there.
HARNESS_HOOKS = ('PatchReportHook', 'NonFiniteLossHook', 'PreemptionHook', 'RngStateHook')


class NonFiniteLossError(HarnessError):
    """Training produced a NaN / inf loss."""

    def __init__(self, iteration, losses):
        self.iteration = iteration
        shown = ', '.join(f'{k}={v:.4g}' for k, v in losses.items())
        super().__init__(f'loss is not finite at iteration {iteration} ({shown})')


def add_harness_hooks(cfg):
    """Append the `HARNESS_HOOKS` missing from `cfg.custom_hooks`."""
    hooks = list(cfg.get('custom_hooks', []))
    have = {h.get('type') for h in hooks}
    cfg.custom_hooks = hooks + [dict(type=t) for t in HARNESS_HOOKS if t not in have]
    return cfg


@HOOKS.register_module()
class PatchReportHook(Hook):
    """The model's patch report: `patch_report.json` in the work dir and `meta['harness_patch']` in every
    checkpoint; a loaded checkpoint (`load_from`, resume, tools/test.py) whose patch differs from the
    model's is refused (`harness.patch.provenance.check_patch`).

    The JSON is written once nothing more can be refused (after the checkpoint check, or when a loop
    starts), so a refused resume leaves the work dir's report describing its own checkpoints.
    """
    priority = 'VERY_LOW'

    def __init__(self):
        self._written = False

    @staticmethod
    def _report(runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return getattr(model, 'harness_report', None)

    def _write(self, runner):
        report = self._report(runner)
        if report is not None and runner.rank == 0 and not self._written:
            write_json(os.path.join(runner.work_dir, PATCH_REPORT), report)
        self._written = True

    def before_save_checkpoint(self, runner, checkpoint):
        report = self._report(runner)
        if report is not None:
            checkpoint.setdefault('meta', {})[META_KEY] = report

    def after_load_checkpoint(self, runner, checkpoint):
        # mmengine calls this for load_from and resume alike; the runner's own flags tell them apart, and
        # only `Runner.train` has built its train loop by then (tests and validation leave it a config)
        path = runner._load_from or (find_latest_checkpoint(runner.work_dir) if runner._resume else None)
        purpose = ('resume' if runner._resume else
                   'finetune' if isinstance(runner._train_loop, BaseLoop) else 'evaluate')
        saved, source = saved_patch(checkpoint, path)
        config = getattr(runner.cfg, 'filename', None) or f'of run {runner.experiment_name}'
        note = check_patch(saved, self._report(runner), path or 'the resumed checkpoint', config, purpose, source)
        if note:
            runner.logger.info(f'[harness] {note}')
        self._write(runner)

    def before_train(self, runner):
        self._write(runner)

    def before_val(self, runner):
        self._write(runner)

    def before_test(self, runner):
        self._write(runner)


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stops training at the first iteration whose loss is NaN or inf."""
    priority = 'VERY_HIGH'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if not outputs:
            return
        losses = {k: float(v) for k, v in outputs.items() if 'loss' in k}
        if not all(math.isfinite(v) for v in losses.values()):
            error = NonFiniteLossError(runner.iter + 1, losses)
            if runner.rank == 0:
                write_json(os.path.join(runner.work_dir, FAILURE), dict(reason=str(error), iteration=error.iteration))
            raise error


class Preempted(Exception):
    """Training or a grid stopped on SIGTERM (Slurm preemption, scancel, kill) after saving its state."""


def _reached_by_every_rank(flag):
    """`flag` OR-ed over the ranks (an all-reduce MAX per call, only when distributed): the ranks may
    get SIGTERM a moment apart, and they must all stop after the same iteration."""
    from mmengine.dist import all_reduce, get_world_size
    if get_world_size() == 1:
        return flag
    t = torch.tensor(float(flag))
    all_reduce(t, op='max')
    return bool(t.item())


@HOOKS.register_module()
class PreemptionHook(Hook):
    """After SIGTERM, save a checkpoint at the current iteration and stop with `Preempted`.

    tools/train.py installs `PreemptionHook.request` as its SIGTERM handler (the handler only sets a
    flag: a second SIGTERM changes nothing) and turns `Preempted` into exit code 143, so rerunning the
    same command (a Slurm requeue) resumes from this iteration. The checkpoint is written by the run's
    own `CheckpointHook` (same file name template, `last_checkpoint` updated, `max_keep_ckpts` obeyed);
    it runs last, so an iteration that hook has just saved is not saved twice. Epoch-based loops cannot
    resume in the middle of an epoch (mmengine restarts the epoch), so there the run stops at once and
    resumes from its last epoch checkpoint.
    """
    priority = 'LOWEST'
    requested = False

    @staticmethod
    def request(signum=None, frame=None):
        """The SIGTERM handler."""
        PreemptionHook.requested = True

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if not _reached_by_every_rank(PreemptionHook.requested):
            return
        step = runner.iter + 1
        # in mmengine's own log file: srun stops passing its tasks' output on once Slurm stops the job
        runner.logger.info(f'[harness] SIGTERM: stopping after iteration {step}')
        if isinstance(runner.train_loop, IterBasedTrainLoop):
            path = self._save(runner, step)
            raise Preempted(f'SIGTERM: stopped after iteration {step} of {runner.max_iters}, checkpoint {path}; '
                            'rerun the same command to resume')
        raise Preempted(f'SIGTERM: stopped at iteration {step} of epoch {runner.epoch + 1}; the run resumes from '
                        'its last epoch checkpoint (mmengine cannot resume in the middle of an epoch)')

    @staticmethod
    def _save(runner, step):
        hook = next((h for h in runner.hooks if isinstance(h, CheckpointHook)), None)
        if hook is None or hook.by_epoch:  # no iteration CheckpointHook: mmengine's defaults, by hand
            name = f'iter_{step}.pth'
            runner.save_checkpoint(runner.work_dir, name, meta=dict(epoch=runner.epoch, iter=step))
            path = os.path.join(runner.work_dir, name)
            if runner.rank == 0:
                with open(os.path.join(runner.work_dir, 'last_checkpoint'), 'w') as f:
                    f.write(path)
            return path
        path = hook.file_backend.join_path(hook.out_dir, hook.filename_tmpl.format(step))
        if runner.message_hub.get_info('last_ckpt') != path:  # not saved by the hook at this iteration
            runner.logger.info(f'Saving checkpoint at {step} iterations (SIGTERM)')
            hook._save_checkpoint(runner)
        return path


def _rng_state():
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = dict(python=random.getstate(), numpy=(kind, keys.tolist(), pos, has_gauss, gauss),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state):
    random.setstate(state['python'])
    kind, keys, pos, has_gauss, gauss = state['numpy']
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


class _RestoreAfterSkip:
    """The train loop's data iterator during mmengine's fast-forward over the `skip` batches already
    trained. Where the samplers were put at batch `skip` directly (`positioned`, harness/run/data_position.py)
    the fast-forward's `next()` calls load nothing; otherwise they replay the batches. Once past them,
    just before the next batch is drawn, the saved random state (if any) is set back."""

    def __init__(self, loop, skip, state, positioned=False):
        self._loop, self._it, self._skip, self._state = loop, loop.dataloader_iterator, skip, state
        self._positioned = positioned

    def __iter__(self):
        return self

    def __next__(self):
        if self._skip == 0:
            if self._state is not None:
                _set_rng_state(self._state)
            self._loop.dataloader_iterator = self._it  # out of the way from now on
            return next(self._it)
        self._skip -= 1
        return None if self._positioned else next(self._it)


@HOOKS.register_module()
class RngStateHook(Hook):
    """Saves the random state (python, numpy, torch, CUDA) in every checkpoint and restores it on resume.

    mmengine restores weights, optimizer, schedulers and the iteration, and replays the data order
    (it re-seeds the sampler and loads the batches already trained, to skip them), but not the random
    state, so a resumed run draws other dropout masks and augmentations than an uninterrupted one. With
    this hook a single-process run resumed from iteration k is bit-identical to one that never stopped.
    On resume it also puts the samplers at batch k directly (harness/run/data_position.py), so the k
    skipped batches are not loaded (a replay is kept only for samplers of unknown state), and the
    random state is restored after that fast-forward, exactly where it was saved. The checkpoint holds rank 0's state
    only (mmengine saves on rank 0), so a distributed run keeps mmengine's behaviour (logged).
    """
    priority = 'VERY_LOW'
    KEY = 'harness_rng_state'

    def __init__(self):
        self._pending = None

    def before_save_checkpoint(self, runner, checkpoint):
        checkpoint.setdefault('meta', {})[self.KEY] = dict(world_size=runner.world_size, state=_rng_state())

    def after_load_checkpoint(self, runner, checkpoint):
        saved = checkpoint.get('meta', {}).get(self.KEY)
        if saved is None:
            return
        if saved['world_size'] == 1 and runner.world_size == 1:
            self._pending = saved['state']
        else:
            runner.logger.info('[harness] distributed resume: random state not restored (saved on rank 0 only)')

    def before_train_epoch(self, runner):
        state, self._pending = self._pending, None
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop) and loop.iter > 0:  # resumed: k batches to skip
            positioned = skip_without_loading(loop, loop.iter)
            runner.logger.info(f'[harness] resuming at iteration {loop.iter}: ' + (
                'data position restored from the samplers, no batch loaded' if positioned else
                'samplers of unknown state, so mmengine replays the batches already trained'))
            loop.dataloader_iterator = _RestoreAfterSkip(loop, loop.iter, state, positioned)
        elif state is not None:  # an epoch loop resumes at an epoch boundary: nothing is skipped
            _set_rng_state(state)
