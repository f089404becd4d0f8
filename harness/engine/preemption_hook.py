"""Preemptible training: on SIGTERM (Slurm preemption, the time-limit warning, scancel, kill) save the
current iteration and stop with `Preempted`, so the rerun resumes exactly there."""

import os
from typing import Any

import torch
from mmengine.hooks import CheckpointHook, Hook
from mmengine.registry import HOOKS
from mmengine.runner import IterBasedTrainLoop

from ..errors import Preempted


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
    def request(signum: int | None = None, frame: Any = None) -> None:
        """The SIGTERM handler."""
        PreemptionHook.requested = True

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        if not _reached_by_every_rank(PreemptionHook.requested):
            return
        step = runner.iter + 1
        # in mmengine's own log file: srun stops passing its tasks' output on once Slurm stops the job
        runner.logger.info(f'[harness] SIGTERM: stopping after iteration {step}')
        if isinstance(runner.train_loop, IterBasedTrainLoop):
            path = self._save(runner, step)
            raise Preempted(
                f'SIGTERM: stopped after iteration {step} of {runner.max_iters}, checkpoint {path}; '
                'rerun the same command to resume'
            )
        raise Preempted(
            f'SIGTERM: stopped at iteration {step} of epoch {runner.epoch + 1}; the run resumes from '
            'its last epoch checkpoint (mmengine cannot resume in the middle of an epoch)'
        )

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
