"""Experiment tracking: every grid run logs to TensorBoard, one folder per grid, and to W&B / MLflow where the
grid asks (`vis_backends: [wandb]`), the mmengine way: backends of the run's visualizer.

TensorBoard: `<grid dir>/tensorboard/<run>/`, so `tensorboard --logdir <grid dir>/tensorboard` shows
one curve per run, and the runs overlay because mmengine logs the same tags in each (loss, lr, the
metrics). W&B: one run per grid run in project <grid>, grouped by variant, with an id derived from the
grid and run names so that a requeued run continues its own W&B run instead of starting another. MLflow:
experiment <grid>, run name <run>. A mapping in `vis_backends` is passed to mmengine as it is.
"""

import importlib.util
import os.path as osp
import re
from collections.abc import Sequence
from typing import Any

SHORT_NAMES = {'wandb': 'WandbVisBackend', 'mlflow': 'MLflowVisBackend', 'tensorboard': 'TensorboardVisBackend'}
TENSORBOARD = 'tensorboard'  # the folder, under the grid's work dir


def tensorboard_dir(grid_dir, run_name):
    return osp.join(grid_dir, TENSORBOARD, run_name)


def _backend(entry, run):
    if isinstance(entry, dict):
        return dict(entry)
    if entry == 'wandb':
        run_id = re.sub(r'[^A-Za-z0-9_-]', '-', f'{run.grid}-{run.name}')[:64]
        return dict(
            type='WandbVisBackend',
            init_kwargs=dict(project=run.grid, name=run.name, group=run.variant.name, id=run_id, resume='allow'),
        )
    if entry == 'mlflow':
        return dict(type='MLflowVisBackend', exp_name=run.grid, run_name=run.name)
    return None  # 'tensorboard': always there


def add_vis_backends(cfg: Any, run: Any, grid_dir: str, extra: Sequence[Any] = ()) -> Any:
    """`cfg.visualizer.vis_backends`: mmengine's local files, TensorBoard (if installed), then `extra`."""
    backends = [dict(type='LocalVisBackend')]
    if importlib.util.find_spec('tensorboard') is not None:  # a declared dependency; absent, the run still trains
        backends.append(dict(type='TensorboardVisBackend', save_dir=tensorboard_dir(grid_dir, run.name)))
    backends += [b for b in (_backend(e, run) for e in extra) if b is not None]
    visualizer = dict(cfg.get('visualizer') or dict(type='Visualizer', name='visualizer'))
    visualizer['vis_backends'] = backends
    cfg.visualizer = visualizer
    return cfg
