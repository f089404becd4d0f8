"""What tools/train.py and tools/test.py share: config loading, CPU/GPU distributed set-up, data
checks before anything runs, the run metadata, and turning harness errors into one-line exits.

CPU-only DDP (CI, laptops): mmengine's `init_dist` calls `torch.cuda.set_device` unconditionally, so
without CUDA the gloo process group is started here before the Runner exists (the Runner then skips
`init_dist`), DDP gets `device_ids=None`, and SyncBN, which has no CPU kernel, becomes BN.
"""
import os
import os.path as osp
import platform
import sys

import torch
import torch.distributed as dist
from mmengine.config import Config

from .datasets import check_cityscapes, check_coco
from .errors import ConfigError, HarnessError

EXIT_BAD_INPUT = 2
EXIT_NON_FINITE = 3


def load_config(path, cfg_options=None, work_dir=None, launcher='none'):
    """Config from `path` with overrides; work dir: CLI > config > ./work_dirs/<config stem>."""
    if not osp.isfile(path):
        raise ConfigError(f'{path}: config file not found')
    try:
        cfg = Config.fromfile(path)
    except Exception as e:  # mmengine raises many types for a broken config; name the file
        raise ConfigError(f'{path}: cannot load config: {type(e).__name__}: {str(e).splitlines()[0]}') from e
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    _check_work_dir(cfg.work_dir)
    if launcher != 'none':
        if torch.cuda.is_available():  # the smoke configs default to gloo for CPU runs
            cfg.env_cfg = dict(cfg.get('env_cfg', {}), dist_cfg=dict(backend='nccl'))
        else:
            _setup_cpu_distributed(cfg)
    return cfg


def _check_work_dir(work_dir):
    try:
        os.makedirs(work_dir, exist_ok=True)
    except OSError as e:
        raise ConfigError(f'work dir {work_dir}: cannot create it ({e.strerror}); expected a writable folder')
    if not os.access(work_dir, os.W_OK):
        raise ConfigError(f'work dir {work_dir}: not writable; expected a writable folder')


def _setup_cpu_distributed(cfg):
    cfg.env_cfg = dict(cfg.get('env_cfg', {}), dist_cfg=dict(backend='gloo'))
    cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None)
    _replace_type(cfg.model, 'SyncBN', 'BN')
    if not dist.is_initialized():
        dist.init_process_group('gloo')


def _replace_type(node, old, new):
    if isinstance(node, dict):
        if node.get('type') == old:
            node['type'] = new
        for v in node.values():
            _replace_type(v, old, new)
    elif isinstance(node, (list, tuple)):
        for v in node:
            _replace_type(v, old, new)


def check_data(cfg, splits=('train', 'test'), max_files=200):
    """Check the datasets a run will read, naming the file at fault, before any model is built."""
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        ds = loader['dataset']
        while 'dataset' in ds:  # RepeatDataset / ClassBalancedDataset wrappers
            ds = ds['dataset']
        root = ds.get('data_root', '')
        if ds.get('type') == 'CocoDataset' or str(ds.get('type', '')).endswith('CocoDataset'):
            img = ds.get('data_prefix', {}).get('img', '')
            check_coco(root, ds['ann_file'], img, max_files=max_files)
        elif ds.get('type') == 'CityscapesDataset':
            img = ds.get('data_prefix', {}).get('img_path', '')
            check_cityscapes(root, osp.basename(img.rstrip('/')), max_files=max_files, require_label_ids=False)


def hardware():
    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        return f'{n}x {torch.cuda.get_device_name(0)}'
    return f'{os.cpu_count()}-core {platform.machine()} CPU, no GPU'


def run_cli(main):
    """Run `main()`; a HarnessError becomes `error: <message>` and exit 2 (3 for a diverged run)."""
    from .hooks import NonFiniteLossError
    try:
        main()
    except NonFiniteLossError as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(EXIT_NON_FINITE)
    except HarnessError as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
