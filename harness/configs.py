"""Reading an mmengine config file (or a packaged `mmdet::` / `mmseg::` one) with errors that name it, the
work / report folders a tool writes to, and mmengine's logger turned down for a while: what the diagnosis,
the run and the tools all need before any of them builds a model. Importing it makes mmengine parse each
metafile of mmdet / mmseg once per process (below; docs/STACK.md).
"""

import functools
import logging
import os
import os.path as osp
from contextlib import contextmanager

import mmengine.config.utils as _config_utils
from mmengine.config import Config
from mmengine.fileio import load

from .errors import ConfigError


# mmengine 0.10.7 finds the file of a config's `mmseg::` / `mmdet::` base by parsing every metafile YAML of
# the package (53 for mmseg, with PyYAML's pure-Python loader) at each lookup, even for a `_base_/` file that
# no metafile lists: 16 of the 20 s it took to resolve the 36 runs of
# configs/ablations/cityscapes_padding_matched.yaml. That lookup (`_get_cfg_metainfo`) is the only user of
# its module's `load`, so each metafile is parsed once per process here, and again if it changes on disk.
@functools.cache
def _parsed_metafile(path, mtime_ns):
    return load(path)


def _load_metafile(path):
    return _parsed_metafile(path, os.stat(path).st_mtime_ns)


_config_utils.load = _load_metafile


def check_config_file(path):
    if not osp.isfile(path):
        raise ConfigError(f'{path}: config file not found; expected the path of an mmengine config (.py)')


def read_config(path):
    """The config at `path`, a file or `mmdet::` / `mmseg::` inside those packages; ConfigError naming it
    if it is missing or does not load."""
    packaged = str(path).startswith(('mmdet::', 'mmseg::', 'mmpretrain::'))  # mmpretrain: matched pretraining
    if not packaged:
        check_config_file(path)
    try:
        if packaged:
            from mmengine.hub import get_config

            return get_config(path)
        return Config.fromfile(path)
    except Exception as e:  # mmengine raises many types for a broken config; name the file
        first = (str(e).splitlines() or [''])[0]
        raise ConfigError(
            f'{path}: cannot load config ({type(e).__name__}: {first}); expected a valid mmengine config file'
        ) from e


def check_writable_dir(path, what='work dir'):
    """Create `path` if needed; ConfigError naming it if that fails or it is not writable."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise ConfigError(f'{what} {path}: cannot create it ({e.strerror}); expected a writable folder') from e
    if not os.access(path, os.W_OK):
        raise ConfigError(f'{what} {path}: not writable; expected a writable folder')


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
