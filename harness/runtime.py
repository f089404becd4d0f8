"""What tools/train.py and tools/test.py share: config loading, CPU/GPU distributed set-up, data
checks before anything runs, the run metadata, and turning harness errors into one-line exits.

CPU-only DDP (CI, laptops): mmengine's `init_dist` calls `torch.cuda.set_device` unconditionally, so
without CUDA the gloo process group is started here before the Runner exists (the Runner then skips
`init_dist`), DDP gets `device_ids=None`, and SyncBN, which has no CPU kernel, becomes BN.
"""
import argparse
import logging
import os
import os.path as osp
import platform
import sys
import warnings
from contextlib import contextmanager

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction

from .datasets import check_cityscapes, check_coco
from .errors import ConfigError, DatasetError, HarnessError, one_line

EXIT_BAD_INPUT = 2
EXIT_NON_FINITE = 3
EXIT_PREEMPTED = 128 + 15  # what a shell reports for SIGTERM; Slurm requeues on it


class CfgOptionsAction(DictAction):
    """mmengine's `--cfg-options` action, with a usage error (not a traceback) for an item without `=`."""

    def __call__(self, parser, namespace, values, option_string=None):
        for kv in values or []:
            if '=' not in kv or not kv.split('=', 1)[0]:
                raise argparse.ArgumentError(self, f'got {kv!r}; expected KEY=VALUE items, e.g. train_cfg.max_iters=20')
        super().__call__(parser, namespace, values, option_string)


def add_runner_args(parser, data_check_help):
    """The options tools/train.py and tools/test.py share, after their own."""
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, help='key=value overrides of the config')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none', help='job launcher')
    parser.add_argument('--no-data-check', action='store_true', help=data_check_help)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0, help=argparse.SUPPRESS)


def parse_runner_args(parser, argv=None):
    """Parse; torch.distributed.launch's --local-rank goes to LOCAL_RANK, as torchrun sets it."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def check_config_file(path):
    if not osp.isfile(path):
        raise ConfigError(f'{path}: config file not found; expected the path of an mmengine config (.py)')


def read_config(path):
    """The config at `path`, a file or `mmdet::` / `mmseg::` inside those packages; ConfigError naming it
    if it is missing or does not load."""
    packaged = str(path).startswith(('mmdet::', 'mmseg::'))
    if not packaged:
        check_config_file(path)
    try:
        if packaged:
            from mmengine.hub import get_config
            return get_config(path)
        return Config.fromfile(path)
    except Exception as e:  # mmengine raises many types for a broken config; name the file
        first = (str(e).splitlines() or [''])[0]
        raise ConfigError(f'{path}: cannot load config ({type(e).__name__}: {first}); '
                          'expected a valid mmengine config file') from e


@contextmanager
def quiet_logs(level=logging.WARNING):
    """mmengine's current logger at `level` for a while (init_weights logs one block per parameter)."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    saved = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(saved)


def load_config(path, cfg_options=None, work_dir=None, launcher='none'):
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
            _setup_cpu_distributed(cfg)
    return cfg


def check_writable_dir(path, what='work dir'):
    """Create `path` if needed; ConfigError naming it if that fails or it is not writable."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise ConfigError(f'{what} {path}: cannot create it ({e.strerror}); expected a writable folder')
    if not os.access(path, os.W_OK):
        raise ConfigError(f'{what} {path}: not writable; expected a writable folder')


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
        try:
            if ds.get('type') == 'CocoDataset' or str(ds.get('type', '')).endswith('CocoDataset'):
                img = ds.get('data_prefix', {}).get('img', '')
                expected = f'a COCO split: {osp.join(root, ds["ann_file"])} and its images in {osp.join(root, img)}'
                check_coco(root, ds['ann_file'], img, max_files=max_files)
            elif ds.get('type') == 'CityscapesDataset':
                img = ds.get('data_prefix', {}).get('img_path', '')
                part = osp.basename(img.rstrip('/'))
                expected = (f'a Cityscapes split: {osp.join(root, "leftImg8bit", part)}/<city>/*_leftImg8bit.png with '
                            f'{osp.join(root, "gtFine", part)}/<city>/*_gtFine_labelTrainIds.png')
                check_cityscapes(root, part, max_files=max_files, require_label_ids=False)
        except DatasetError as e:  # name the config field, and say what it should point at
            message = str(e) if 'expected' in str(e) else f'{e}; expected {expected}'
            raise DatasetError(f'{split}_dataloader.dataset (data_root {root!r}): {message}') from None


def hardware():
    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        return f'{n}x {torch.cuda.get_device_name(0)}'
    return f'{os.cpu_count()}-core {platform.machine()} CPU, no GPU'


def run_cli(main):
    """Run `main()` with library warnings on stdout. A HarnessError becomes one line `error: <message>`
    on stderr and exit 2 (3 for a diverged run); a run or grid stopped by SIGTERM after saving its state
    prints `preempted: <message>` and exits 143."""
    _warnings_to_stdout()
    from .hooks import NonFiniteLossError, Preempted
    try:
        main()
    except Preempted as e:
        print(f'preempted: {one_line(e)}', file=sys.stderr, flush=True)
        sys.exit(EXIT_PREEMPTED)
    except NonFiniteLossError as e:
        print(f'error: {one_line(e)}', file=sys.stderr, flush=True)
        sys.exit(EXIT_NON_FINITE)
    except HarnessError as e:
        print(f'error: {one_line(e)}', file=sys.stderr, flush=True)
        sys.exit(EXIT_BAD_INPUT)


def _warnings_to_stdout():
    """Library warnings go to stdout, with the logs (the grid runner keeps both in run.log): stderr is
    left for the one line that says how the command ended."""
    def show(message, category, filename, lineno, file=None, line=None):
        sys.stdout.write(warnings.formatwarning(message, category, filename, lineno, line))
    warnings.showwarning = show
