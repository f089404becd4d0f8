"""Time to resume an iteration-based run at iteration k: the data position restored from the samplers
(harness/engine/data_position.py, what RngStateHook does on resume) vs mmengine's replay of the k batches.

The smoke FCN R-18 on tiny Cityscapes (InfiniteSampler, batch 4, 128x256 images, as mmseg's 80k configs
sample) trains 2 iterations and saves a checkpoint; its iteration counter is then set to k, so a
resume skips k batches (the weights are those of iteration 2: the skip is all that depends on k).
Measured, as process CPU time (data loading runs in this process, so other jobs on the machine do not
inflate it) and wall time: the whole resume, from building the runner to the end of the first training
step after it (model, checkpoint loading, skip, one step), and the skip alone, from the start of the
train loop to the start of that step (including the loading of the batch it trains on).
"""

import os
import tempfile
import time
from unittest import mock

import torch

CONFIG = 'configs/smoke/fcn_r18-d8_tiny-cityscapes.py'


def _runner(work_dir, max_iters, resume_from=None):
    from mmengine.runner import Runner

    from harness.engine.harness_hooks import add_harness_hooks
    from harness.run.config import load_config

    cfg = add_harness_hooks(load_config(CONFIG, dict(train_cfg=dict(max_iters=max_iters)), work_dir))
    cfg.default_hooks.checkpoint.interval = 10**9  # no checkpoint inside the timed part
    cfg.default_hooks.logger.interval = 10**9
    cfg.log_level = 'WARNING'
    if resume_from:
        cfg.resume, cfg.load_from = True, resume_from
    return Runner.from_cfg(cfg)


def _now():
    return time.process_time(), time.perf_counter()


def _since(t):
    now = _now()
    return now[0] - t[0], now[1] - t[1]


class _Stopwatch:
    """Skip: `before_train` to the first `before_train_iter`; total: `start` to the first `after_train_iter`,
    which stops the loop. Each (CPU s, wall s)."""

    def __init__(self, start):
        self.start, self.t0, self.skip, self.total = start, None, None, None

    def before_train(self, runner):
        self.t0 = _now()

    def before_train_iter(self, runner, *args, **kwargs):
        if self.skip is None:
            self.skip = _since(self.t0)

    def after_train_iter(self, runner, *args, **kwargs):
        if self.total is None:
            self.total = _since(self.start)
        runner.train_loop.stop_training = True


def checkpoint_at(work_dir, k, source):
    """A copy of `source` whose iteration counter says k."""
    ckpt = torch.load(source, map_location='cpu', weights_only=False)
    ckpt['meta']['iter'] = k
    path = os.path.join(work_dir, f'fake_iter_{k}.pth')
    torch.save(ckpt, path)
    return path


def time_resume(work_dir, ckpt, k, replay):
    """{'skip': (CPU s, wall s), 'total': (CPU s, wall s)} of a resume at k (see the module docstring)."""
    from mmengine.hooks import Hook

    watch = _Stopwatch(_now())
    runner = _runner(os.path.join(work_dir, f'{k}-{replay}'), k + 1, ckpt)
    hook = type(
        'ResumeStopwatch',
        (Hook,),
        dict(
            before_train=lambda s, r: watch.before_train(r),
            before_train_iter=lambda s, r, *a, **kw: watch.before_train_iter(r),
            after_train_iter=lambda s, r, *a, **kw: watch.after_train_iter(r),
        ),
    )()
    runner.register_hook(hook, priority='HIGHEST')
    # replay: RngStateHook finds the samplers "unknown" and leaves the skip to mmengine, as before issue 11
    with mock.patch('harness.engine.rng_state_hook.skip_without_loading', return_value=False) if replay else _nothing():
        runner.train()
    return dict(skip=watch.skip, total=watch.total)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def measure(ks=(20, 2000), repeats=1, log=print):
    """{(k, 'positioned' | 'replay'): [time_resume(...), ...]}, rounds interleaved."""
    import harness.engine.register  # noqa: F401  (registers HarnessModel, the metrics and the hooks)
    from harness.configs import quiet_logs
    from harness.data import ensure_tiny_data

    ensure_tiny_data()
    out = {}
    with tempfile.TemporaryDirectory(prefix='posharness-resume-') as tmp, quiet_logs():
        base = _runner(os.path.join(tmp, 'base'), 2)
        base.train()
        source = os.path.join(tmp, 'base', 'iter_2.pth')
        base.save_checkpoint(os.path.join(tmp, 'base'), 'iter_2.pth')
        ckpts = {k: checkpoint_at(tmp, k, source) for k in ks}
        for r in range(repeats):
            for k in ks:
                for how in ('positioned', 'replay'):
                    s = time_resume(tmp, ckpts[k], k, how == 'replay')
                    out.setdefault((k, how), []).append(s)
                    log(
                        f'[resume] round {r + 1}: k={k} {how}: resume {s["total"][0]:.2f} s CPU '
                        f'({s["total"][1]:.2f} s wall), of which the skip {s["skip"][0]:.2f} s CPU'
                    )
    return out


if __name__ == '__main__':
    measure()
