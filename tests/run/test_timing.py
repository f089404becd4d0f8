"""Where a run's time goes (harness/run/timing.py, harness/engine/train_timer_hook.py): the training loop's data /
compute / checkpoint split on a real mmengine Runner whose data loading and checkpoint saving take a known
time, the summary results.json gets, and the process start-up clock.

The smoke grid's own results.json carry `timing` too (tests/run/test_pipeline.py).
"""

import json
import subprocess
import sys
import time

import pytest
import torch
import toy_regressor  # noqa: F401  (registers ToyRegressor)
from mmengine.runner import Runner

from harness.engine.train_timer_hook import TrainTimerHook
from harness.run.timing import PHASES, TIMING, AttemptTimer, process_age, summarize

LOAD_S, SAVE_S = 0.03, 0.2


class _SlowData(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        time.sleep(LOAD_S)  # decoding an image
        return dict(
            inputs=torch.randn(3, 16, 16, generator=torch.Generator().manual_seed(i)),
            targets=torch.tensor(float(i % 2)),
        )


def test_train_timer_splits_the_loop_into_data_compute_and_checkpoints(tmp_path, monkeypatch):
    import mmengine.runner.runner as runner_module

    write = runner_module.save_checkpoint

    def slow_write(*args, **kwargs):  # a slow disk: each checkpoint file takes SAVE_S longer to write
        time.sleep(SAVE_S)
        return write(*args, **kwargs)

    monkeypatch.setattr(runner_module, 'save_checkpoint', slow_write)
    runner = Runner(
        model=dict(type='ToyRegressor'),
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=_SlowData(),
            sampler=dict(type='InfiniteSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0,
        ),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=6),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=3)),
        custom_hooks=[dict(type='TrainTimerHook')],
        default_scope='mmengine',
    )
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, TrainTimerHook))
    s = hook.seconds
    assert hook.iterations == 6
    assert s['data'] >= 6 * 2 * LOAD_S  # 2 samples loaded per iteration
    assert 2 * SAVE_S <= s['checkpoint'] < 2 * SAVE_S + 2  # saved at iterations 3 and 6, each at least SAVE_S
    assert 0 < s['compute'] < s['data'] + s['checkpoint']  # the toy model itself costs almost nothing
    assert sum(s.values()) == pytest.approx(hook.ended - hook.started, rel=0.05)


def test_summary_sums_attempts_and_gives_the_rest_to_the_runner(tmp_path):
    first = dict(
        startup=4.0, config=1.0, model_build=2.0, train_setup=1.0, train_data=5.0, train_compute=20.0, checkpoint=1.0
    )  # killed while training
    second = dict(
        startup=4.0,
        config=1.0,
        model_build=2.0,
        train_setup=1.5,
        train_data=5.0,
        train_compute=20.0,
        checkpoint=0.5,
        train_end=0.5,
        evaluate=10.0,
        probe=6.0,
    )
    (tmp_path / TIMING).write_text(json.dumps(dict(attempts=[first, second])))
    t = summarize(str(tmp_path), wall=95.0, preflight=5.0)
    assert t['wall'] == 100.0 and t['attempts'] == 2 and list(t['phases']) == list(PHASES)
    assert t['phases']['train_compute'] == 40.0 and t['phases']['preflight'] == 5.0
    assert t['phases']['runner'] == pytest.approx(100.0 - 5.0 - (34.0 + 50.5))  # what no phase accounts for
    assert sum(t['phases'].values()) == pytest.approx(100.0)
    assert t['train_loop_share'] == pytest.approx((10 + 40) / 100)
    assert t['overhead'] == pytest.approx(1 - (10 + 40 + 10 + 6) / 100)
    assert summarize(str(tmp_path / 'nothing'), 10.0) is None


def test_attempt_timer_keeps_earlier_attempts_and_writes_after_each_phase(tmp_path):
    a = AttemptTimer(str(tmp_path))
    a.add('startup', 1.5)
    with a.phase('config'):
        time.sleep(0.01)
    b = AttemptTimer(str(tmp_path))  # a second attempt, after a kill
    b.add('startup', 2.0)
    attempts = json.loads((tmp_path / TIMING).read_text())['attempts']
    assert [x['startup'] for x in attempts] == [1.5, 2.0] and attempts[0]['config'] >= 0.01
    AttemptTimer(str(tmp_path / 'rank1'), enabled=False).add('startup', 1.0)
    assert not (tmp_path / 'rank1').exists()


def test_process_age_counts_the_start_up_before_it_is_called():
    code = 'import time; time.sleep(0.6); from harness.run.timing import process_age; print(process_age())'
    age = float(subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout)
    assert 0.6 <= age < 60
    assert 0 <= process_age()
