"""Training one config: what tools/train.py and a grid run's child process (harness/run/worker.py) both do.

mmdet's train flow with the harness's additions: `--resume` without a value takes the work dir's newest
complete checkpoint (`resume_point`: a broken `last_checkpoint` is not fatal), the data are checked
before anything is built, and rank 0 writes `train_meta.json` (iterations, images, batch, world size)
once training has finished: its presence says the run is trained.
"""

import os

from ..checkpoints import resume_point
from ..errors import ConfigError
from ..jsonio import write_json
from .outputs import TRAIN_DONE


def set_resume(cfg, resume):
    """`resume`: None (start from scratch, or `load_from`), 'auto' (the work dir's newest complete
    checkpoint, if any) or a checkpoint file."""
    if resume == 'auto':  # like mmengine's auto-resume, but a broken last_checkpoint is not fatal
        ckpt, note = resume_point(cfg.work_dir)
        if note:
            print(f'[harness] {note}; resuming from {ckpt or "scratch"}', flush=True)
        cfg.resume, cfg.load_from = ckpt is not None, ckpt
    elif resume is not None:
        if not os.path.isfile(resume):
            raise ConfigError(
                f'--resume {resume}: checkpoint file not found; expected a checkpoint written '
                'by training, e.g. WORK_DIR/iter_<n>.pth'
            )
        cfg.resume, cfg.load_from = True, resume
    return cfg


def amp(cfg):
    """Automatic mixed precision (mmdet's `--amp`)."""
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    return cfg


def build_runner(cfg):
    from mmengine.runner import Runner

    return Runner.from_cfg(cfg)


def train(runner):
    """Train `runner` to its end and write train_meta.json (rank 0); returns the runner."""
    runner.train()
    if runner.rank == 0:
        loader = runner.train_dataloader
        # A batch sampler (mmdet's AspectRatioBatchSampler in the COCO configs) leaves DataLoader.batch_size None.
        per_process = loader.batch_size or loader.batch_sampler.batch_size
        write_json(
            os.path.join(runner.work_dir, TRAIN_DONE),
            dict(
                iterations=runner.iter,
                train_images=len(loader.dataset),
                batch_size=per_process * runner.world_size,
                world_size=runner.world_size,
            ),
        )
    return runner
