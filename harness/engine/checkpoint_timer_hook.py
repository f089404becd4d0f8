"""Checkpoint about every N minutes of training, whatever the GPU: the interval in iterations is set from
the iteration time measured at the start of each (re)start.

SIGTERM (preemption, the time-limit warning) already saves the current iteration (PreemptionHook), but
a node failure, an out-of-memory kill or a SIGKILL after Slurm's KillWait does not: then the loss is
whatever the run trained since its last checkpoint. A fixed interval in iterations means minutes on one
GPU and hours on another; this hook bounds the loss in time instead. mmengine's CheckpointHook has no
time-based interval, so this hook only sets that hook's `interval` (file names, `max_keep_ckpts` and
`last_checkpoint` stay the CheckpointHook's). Every rank uses rank 0's measurement, so all ranks
save at the same iterations.
"""

import time
from typing import Any

from mmengine.dist import broadcast_object_list
from mmengine.hooks import CheckpointHook, Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class CheckpointTimerHook(Hook):
    """After `warmup` + `measure` iterations from a (re)start, set the iteration CheckpointHook's interval to
    about `minutes` of training at the measured mean iteration time (data loading included)."""

    priority = 'LOW'

    def __init__(self, minutes: float = 30, warmup: int = 10, measure: int = 50) -> None:
        if minutes <= 0 or warmup < 0 or measure < 1:
            raise ValueError(
                f'CheckpointTimerHook: got minutes={minutes}, warmup={warmup}, measure={measure}; '
                'expected minutes > 0, warmup >= 0, measure >= 1'
            )
        self.minutes, self.warmup, self.measure = minutes, warmup, measure
        self._first: int | None = None
        self._t0: float | None = None

    def before_train(self, runner: Any) -> None:
        self._first, self._t0 = runner.iter, None

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        done = runner.iter + 1 - self._first
        if done == self.warmup:
            self._t0 = time.perf_counter()
        if done != self.warmup + self.measure:
            return
        seconds = [(time.perf_counter() - self._t0) / self.measure if self._t0 is not None else None]
        broadcast_object_list(seconds)  # rank 0's value everywhere (a no-op on one process)
        hook = next((h for h in runner.hooks if isinstance(h, CheckpointHook) and not h.by_epoch), None)
        if hook is None or not seconds[0]:
            return
        hook.interval = max(1, round(self.minutes * 60 / seconds[0]))
        runner.logger.info(
            f'[harness] {seconds[0]:.3f} s per iteration: a checkpoint every {hook.interval} iterations '
            f'(about {self.minutes:g} min of training)'
        )
