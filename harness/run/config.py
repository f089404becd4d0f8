"""A run's config: loaded with its overrides (`load_config`), resolved from a grid run's variant
(`resolve_config`), its model built once before anything trains (`check_model`), and the CPU/GPU
distributed settings.

CPU-only DDP (CI, laptops): mmengine's `init_dist` calls `torch.cuda.set_device` unconditionally, so
without CUDA the gloo process group is started here before the Runner exists (the Runner then skips
`init_dist`), DDP gets `device_ids=None`, and SyncBN, which has no CPU kernel, becomes BN.
"""

import importlib
import logging
import os
import os.path as osp
import warnings
from collections.abc import Sequence
from typing import Any

import torch
import torch.distributed as dist

from ..configs import check_writable_dir, quiet_logs, read_config
from ..engine.harness_hooks import add_harness
from ..engine.tracking import add_vis_backends
from ..errors import ConfigError, HarnessError
from ..grid.spec import PlannedRun
from ..patch.model import harness_model


def load_config(path: str, cfg_options: dict | None = None, work_dir: str | None = None, launcher: str = 'none') -> Any:
    """Config from `path` with overrides; work dir: CLI > config > ./work_dirs/<config stem>."""
    cfg = read_config(path)
    cfg.launcher = launcher
    if cfg_options:
        try:
            cfg.merge_from_dict(cfg_options)
        except Exception as e:  # e.g. a dotted key through a value that is not a dict
            raise ConfigError(f'--cfg-options {cfg_options}: cannot apply to {path}: {type(e).__name__}: {e}') from e
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    check_writable_dir(cfg.work_dir)
    if launcher != 'none':
        if torch.cuda.is_available():  # the smoke configs default to gloo for CPU runs
            cfg.env_cfg = dict(cfg.get('env_cfg', {}), dist_cfg=dict(backend='nccl'))
        else:
            _setup_cpu_distributed(cfg, launcher)
    return cfg


def _setup_cpu_distributed(cfg, launcher='pytorch'):
    cfg.env_cfg = dict(cfg.get('env_cfg', {}), dist_cfg=dict(backend='gloo'))
    if launcher == 'slurm':
        _env_from_slurm()
    cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None)
    _replace_type(cfg.model, 'SyncBN', 'BN')
    if not dist.is_initialized():
        dist.init_process_group('gloo')


def _env_from_slurm():
    """torch's env:// rendezvous from srun's variables, as mmengine's `_init_dist_slurm` sets it (which
    cannot run without CUDA: it takes the local rank modulo the GPU count)."""
    import subprocess

    nodes = os.environ['SLURM_NODELIST']
    first = subprocess.run(['scontrol', 'show', 'hostnames', nodes], capture_output=True, text=True).stdout.split()
    os.environ.setdefault('MASTER_ADDR', first[0] if first else '127.0.0.1')
    os.environ.setdefault('MASTER_PORT', '29500')  # mmengine's default; the Slurm array sets one per job
    os.environ.update(
        RANK=os.environ['SLURM_PROCID'],
        WORLD_SIZE=os.environ['SLURM_NTASKS'],
        LOCAL_RANK=os.environ.get('SLURM_LOCALID', '0'),
    )


def _replace_type(node, old, new):
    if isinstance(node, dict):
        if node.get('type') == old:
            node['type'] = new
        for v in node.values():
            _replace_type(v, old, new)
    elif isinstance(node, (list, tuple)):
        for v in node:
            _replace_type(v, old, new)


# With `border: true` in the grid, the test evaluator becomes its border-stratified subclass.
_BORDER_METRICS = {
    'CocoMetric': 'BorderCocoMetric',
    'IoUMetric': 'BorderIoUMetric',
    'ClassIoUMetric': 'BorderIoUMetric',
}


def resolve_config(run: PlannedRun, run_dir: str, border: bool = False, vis_backends: Sequence[Any] = ()) -> Any:
    """The run's full config: its variant's base + patches + logging (TensorBoard + `vis_backends`, in the
    grid's folder: harness/engine/tracking.py) + cfg_options + seed + work dir."""
    cfg = read_config(str(run.variant.base))
    v = run.variant
    cfg.model = harness_model(cfg.model, v.padding, v.coordconv, None if v.solo_coords else False)
    add_harness(cfg)
    add_vis_backends(cfg, run, osp.dirname(osp.normpath(run_dir)), vis_backends)
    try:
        cfg.merge_from_dict(dict(v.cfg_options))
    except Exception as e:
        raise ConfigError(f'{run.name}: cfg_options {v.cfg_options}: {e}') from e
    cfg.randomness = dict(seed=run.seed, deterministic=False)
    cfg.work_dir = run_dir
    evaluator = cfg.get('test_evaluator')
    if border and isinstance(evaluator, dict) and evaluator.get('type') in _BORDER_METRICS:
        evaluator['type'] = _BORDER_METRICS[evaluator['type']]
    return cfg


def check_model(name: str, cfg: Any) -> Any:
    """Build the model of `cfg` once (CPU, no weights loaded) and return it: ConfigError naming run `name`
    if it fails."""
    from mmengine.registry import MODELS, DefaultScope

    try:
        for module in cfg.get('custom_imports', {}).get('imports', []):
            importlib.import_module(module)
        with (
            DefaultScope.overwrite_default_scope(cfg.get('default_scope')),
            warnings.catch_warnings(),
            quiet_logs(logging.ERROR),
        ):  # the build logs (patch summary) belong in the run's log
            warnings.simplefilter('ignore')
            return MODELS.build(cfg.model)
    except HarnessError as e:
        raise ConfigError(f'{name}: {e}') from e
    except Exception as e:  # e.g. a cfg_options key the model does not take
        raise ConfigError(
            f'{name}: cannot build the model ({type(e).__name__}: {e}); expected model settings '
            "its classes accept (check the grid's cfg_options)"
        ) from e
