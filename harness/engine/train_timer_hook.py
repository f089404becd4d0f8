"""Where a training loop's time goes: loading data, the iterations themselves, and saving checkpoints.

mmengine's IterTimerHook logs a `data_time` per iteration, but its clock runs from its own
`after_train_iter` (priority NORMAL) to the next `before_train_iter`: the hooks that come after it
(the LoggerHook, the CheckpointHook saving a checkpoint) are counted as the next iteration's data time.
This hook runs last (LOWEST), so each interval it measures ends after every other hook of the iteration:
- data: from the end of the previous iteration to the start of this one (the dataloader's `next()`);
- checkpoint: from `before_save_checkpoint` (the file is written right after it) to the end of the
  iteration (the rest of the CheckpointHook: `last_checkpoint`, removing old checkpoints);
- compute: the rest of the iteration (data_preprocessor, forward, backward, optimizer step, the other hooks).
`started` / `ended` (perf_counter) bracket the loop, for whoever times what comes before and after it.
"""

import time
from typing import Any

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class TrainTimerHook(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.seconds = dict(data=0.0, compute=0.0, checkpoint=0.0)
        self.iterations = 0
        self.started = self.ended = None
        self._mark = self._iter_start = self._save_start = None

    def before_train(self, runner: Any) -> None:
        self.started = self._mark = time.perf_counter()

    def before_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None) -> None:
        now = time.perf_counter()
        self.seconds['data'] += now - self._mark
        self._iter_start, self._save_start = now, None

    def before_save_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        if self._iter_start is not None:  # a save inside an iteration (not mmengine's after_train save_last)
            self._save_start = time.perf_counter()

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        now = time.perf_counter()
        saved = now - self._save_start if self._save_start is not None else 0.0
        self.seconds['checkpoint'] += saved
        self.seconds['compute'] += now - self._iter_start - saved
        self.iterations += 1
        self._mark, self._iter_start, self._save_start = now, None, None

    def after_train(self, runner: Any) -> None:
        self.ended = time.perf_counter()
