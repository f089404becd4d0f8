"""Resuming an iteration-based run at iteration k without loading the k batches it has already trained.

mmengine's `IterBasedTrainLoop` resumes by calling `next()` on its data iterator k times: every skipped
batch is read, decoded and augmented, and each pass over a finite sampler adds a 2 s pause, so a run
preempted late in a 90k-iteration schedule spends a long time before its first step. The order of the
batches is a function of the samplers alone (indices, not images), so the position is restored from
them directly: the samplers are put back in their start state, the batch sampler is stepped through k
batches of indices (epoch by epoch, as mmengine's `_InfiniteDataloaderIterator` does), and the data
loader's next iterator draws its indices from there. Nothing is loaded; the batches that follow are
exactly those of a run that never stopped.

Only samplers whose whole state is known are positioned this way (mmengine's DefaultSampler and
InfiniteSampler, torch's BatchSampler, mmdet's AspectRatioBatchSampler); with any other, mmengine's
replay is kept (`position` returns None). With data-loader workers, the workers' random augmentations
after a resume differ from those of an uninterrupted run, as they do with mmengine's own resume.
"""

import torch
from mmengine.dataset import DefaultSampler, InfiniteSampler


def _reset_sampler(sampler):
    """Back to the state a fresh sampler has; False if its state is unknown."""
    if type(sampler) is InfiniteSampler:  # one generator over all epochs, created in __init__
        sampler.indices = sampler._indices_of_rank()
        return True
    return type(sampler) is DefaultSampler  # indices a function of (seed, epoch)


def _reset_batch_sampler(batch_sampler):
    if type(batch_sampler) is torch.utils.data.BatchSampler:
        return True
    try:
        from mmdet.datasets.samplers import AspectRatioBatchSampler
    except ImportError:
        return False
    if type(batch_sampler) is AspectRatioBatchSampler:  # two buckets of indices carried between batches
        batch_sampler._aspect_ratio_buckets = [[] for _ in range(2)]
        return True
    return False


def _set_epoch(loader, epoch):
    """What `_InfiniteDataloaderIterator` does at the end of a pass."""
    if hasattr(loader, 'sampler') and hasattr(loader.sampler, 'set_epoch'):
        loader.sampler.set_epoch(epoch)
    elif hasattr(loader, 'batch_sampler') and hasattr(loader.batch_sampler.sampler, 'set_epoch'):
        loader.batch_sampler.sampler.set_epoch(epoch)


class _Positioned:
    """The batch sampler as the loader's next iterator sees it: the positioned indices while that iterator
    is made (torch's multi-worker iterator calls `iter()` twice then), the real batch sampler's once
    `done()` (an iterator keeps its sampler: with persistent workers, for every later pass). DataLoader
    refuses a new `batch_sampler` after it is built, hence `object.__setattr__` in `position`."""

    def __init__(self, batch_sampler, indices):
        self._batch_sampler, self._indices = batch_sampler, indices

    def __iter__(self):
        return self._indices if self._indices is not None else iter(self._batch_sampler)

    def done(self):
        self._indices = None

    def __len__(self):
        return len(self._batch_sampler)

    def __getattr__(self, name):
        return getattr(self._batch_sampler, name)


def position(loader, k):
    """(iterator over the loader's batches from batch k on, its epoch), nothing loaded; None if a sampler's
    state is unknown (then only a replay restores the position)."""
    batch_sampler = getattr(loader, 'batch_sampler', None)
    if batch_sampler is None or not (_reset_batch_sampler(batch_sampler) and _reset_sampler(batch_sampler.sampler)):
        return None
    epoch = 0
    _set_epoch(loader, epoch)
    indices = iter(batch_sampler)
    for _ in range(k):
        try:
            next(indices)
        except StopIteration:
            epoch += 1
            _set_epoch(loader, epoch)
            indices = iter(batch_sampler)
            next(indices)
    if getattr(loader, '_iterator', None) is not None:  # persistent workers: a new iterator, to draw from here
        loader._iterator._shutdown_workers()
        loader._iterator = None
    positioned = _Positioned(batch_sampler, indices)
    object.__setattr__(loader, 'batch_sampler', positioned)
    try:
        return iter(loader), epoch
    finally:
        object.__setattr__(loader, 'batch_sampler', batch_sampler)
        positioned.done()


def skip_without_loading(loop, k):
    """Point `loop`'s infinite data iterator at batch k; True if done, False if the samplers are unknown."""
    infinite = loop.dataloader_iterator
    found = position(infinite._dataloader, k)
    if found is None:
        return False
    infinite._iterator, infinite._epoch = found
    return True
