"""CheckpointTimerHook: a checkpoint about every N minutes of training, from the measured iteration time.

A toy mmengine run on a fake clock that advances 6 s per training iteration: with minutes=1 the hook
must set the CheckpointHook's interval to 10 iterations after its measurement, and the run then saves
at iterations 10, 20 and 30 instead of the configured 1000; on a clock twice as fast, every 20.
"""

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.registry import MODELS
from mmengine.runner import Runner

import harness.engine.checkpoint_timer_hook as timer


class _Clock:
    def __init__(self, step):
        self.now, self.step = 0.0, step

    def perf_counter(self):
        return self.now


@MODELS.register_module()
class TimerToyNet(BaseModel):
    clock = None

    def __init__(self):
        super().__init__()
        self.w = nn.Linear(2, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        TimerToyNet.clock.now += TimerToyNet.clock.step  # one iteration takes `step` seconds
        return dict(loss=((self.w(inputs).squeeze(1) - targets) ** 2).mean())


class _Data(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return dict(inputs=torch.full((2,), float(i)), targets=torch.tensor(float(i)))


@pytest.mark.parametrize('step,interval', [(6.0, 10), (3.0, 20)])
def test_interval_follows_the_measured_iteration_time(tmp_path, monkeypatch, step, interval):
    TimerToyNet.clock = _Clock(step)
    monkeypatch.setattr(timer, 'time', TimerToyNet.clock)
    runner = Runner(
        model=dict(type='TimerToyNet'),
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=_Data(),
            sampler=dict(type='InfiniteSampler'),
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0,
        ),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=45),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, save_last=False),
            timer_ckpt=dict(type='CheckpointTimerHook', minutes=1, warmup=2, measure=5),
        ),
        default_scope='mmengine',
    )
    runner.train()
    saved = sorted(int(p.stem.split('_')[1]) for p in tmp_path.glob('iter_*.pth'))
    assert saved == list(range(interval, 46, interval))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match='expected minutes > 0'):
        timer.CheckpointTimerHook(minutes=0)
