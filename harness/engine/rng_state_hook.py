"""Exact resumption: the random state (python, numpy, torch, CUDA) saved in every checkpoint and set back
on resume, after the samplers have been put at the resumed batch (harness/engine/data_position.py)."""

import random
from typing import Any

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import IterBasedTrainLoop

from .data_position import skip_without_loading


def _rng_state():
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = dict(
        python=random.getstate(), numpy=(kind, keys.tolist(), pos, has_gauss, gauss), torch=torch.get_rng_state()
    )
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
    trained. Where the samplers were put at batch `skip` directly (`positioned`, harness/engine/data_position.py)
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
    On resume it also puts the samplers at batch k directly (harness/engine/data_position.py), so the k
    skipped batches are not loaded (a replay is kept only for samplers of unknown state), and the
    random state is restored after that fast-forward, exactly where it was saved. The checkpoint holds rank 0's state
    only (mmengine saves on rank 0), so a distributed run keeps mmengine's behaviour (logged).
    """

    priority = 'VERY_LOW'
    KEY = 'harness_rng_state'

    def __init__(self):
        self._pending = None

    def before_save_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[self.KEY] = dict(world_size=runner.world_size, state=_rng_state())

    def after_load_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        saved = checkpoint.get('meta', {}).get(self.KEY)
        if saved is None:
            return
        if saved['world_size'] == 1 and runner.world_size == 1:
            self._pending = saved['state']
        else:
            runner.logger.info('[harness] distributed resume: random state not restored (saved on rank 0 only)')

    def before_train_epoch(self, runner: Any) -> None:
        state, self._pending = self._pending, None
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop) and loop.iter > 0:  # resumed: k batches to skip
            positioned = skip_without_loading(loop, loop.iter)
            runner.logger.info(
                f'[harness] resuming at iteration {loop.iter}: '
                + (
                    'data position restored from the samplers, no batch loaded'
                    if positioned
                    else 'samplers of unknown state, so mmengine replays the batches already trained'
                )
            )
            loop.dataloader_iterator = _RestoreAfterSkip(loop, loop.iter, state, positioned)
        elif state is not None:  # an epoch loop resumes at an epoch boundary: nothing is skipped
            _set_rng_state(state)
