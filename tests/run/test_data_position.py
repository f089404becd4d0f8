"""Resuming at iteration k puts the data loader at batch k without loading a batch (harness/engine/data_position.py).

The reference is a fresh loader iterated from the start the way mmengine's IterBasedTrainLoop iterates
(`_InfiniteDataloaderIterator`: a new pass with `set_epoch` when one ends): its batches k, k+1, ... must
equal the positioned loader's first batches, sample for sample, for each sampler mmengine and mmdet use
in iteration-based configs, across pass boundaries, with and without workers, while the dataset is
never read during positioning. The same check with mmengine's own replay shows what is saved: it reads
k batches.
"""

import pytest
import torch
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch.utils.data import DataLoader

from harness.engine.data_position import position


class _Counted(torch.utils.data.Dataset):
    """10 samples with COCO-style aspect ratios; counts reads in this process."""

    def __init__(self):
        self.reads = 0

    def __len__(self):
        return 10

    def get_data_info(self, i):  # what mmdet's AspectRatioBatchSampler reads (metadata, not images)
        return dict(width=100 + 10 * (i % 3), height=120 - 15 * (i % 2))

    def __getitem__(self, i):
        self.reads += 1
        return i


def _loader(kind, workers=0):
    from mmdet.datasets.samplers import AspectRatioBatchSampler
    from mmengine.dataset import DefaultSampler, InfiniteSampler

    data = _Counted()
    sampler = (InfiniteSampler if kind == 'infinite' else DefaultSampler)(data, shuffle=True, seed=3)
    batch = (
        AspectRatioBatchSampler(sampler, batch_size=3)
        if kind == 'aspect'
        else torch.utils.data.BatchSampler(sampler, 3, drop_last=False)
    )
    return data, DataLoader(
        data, batch_sampler=batch, num_workers=workers, collate_fn=list, persistent_workers=workers > 0
    )


def _take(iterator, n):
    return [next(iterator) for _ in range(n)]


@pytest.mark.parametrize('workers', [0, 2], ids=['in-process', '2-workers'])
@pytest.mark.parametrize('kind', ['default', 'infinite', 'aspect'])
@pytest.mark.parametrize('k', [0, 2, 9])  # 4 batches per pass (AspectRatio: about 3): 9 crosses passes
def test_positioned_loader_continues_where_an_uninterrupted_one_is_without_reading_data(kind, k, workers, monkeypatch):
    monkeypatch.setattr('time.sleep', lambda s: None)  # mmengine pauses 2 s at each pass boundary
    _, fresh = _loader(kind, workers)
    expected = _take(_InfiniteDataloaderIterator(fresh), k + 5)[k:]

    data, loader = _loader(kind, workers)
    infinite = _InfiniteDataloaderIterator(loader)  # as the loop builds it (workers prefetch pass 0 now)
    reads = data.reads
    infinite._iterator, infinite._epoch = position(loader, k)
    assert data.reads == reads  # nothing read in this process while positioning
    assert _take(infinite, 5) == expected


def test_mmengine_replay_reads_every_skipped_batch_and_positioning_none():
    data, loader = _loader('default')
    replay = _InfiniteDataloaderIterator(loader)
    _take(replay, 3)  # what IterBasedTrainLoop.run does at k = 3
    assert data.reads == 9
    data, loader = _loader('default')
    position(loader, 3)
    assert data.reads == 0


def test_unknown_samplers_are_left_to_the_replay():
    data = _Counted()
    loader = DataLoader(data, batch_size=3, shuffle=True)  # torch's RandomSampler draws from the global RNG
    assert position(loader, 2) is None
