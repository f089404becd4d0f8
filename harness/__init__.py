"""posharness: padding / CoordConv ablations for MMDetection and MMSegmentation models.

`import harness` (or `custom_imports = dict(imports=['harness'])` in a config) applies the stack
shims and registers `HarnessModel` and the hooks (mmengine's root registries), `BorderCocoMetric`
(mmdet's) and `ClassIoUMetric` / `BorderIoUMetric` (mmseg's), where mmdet and mmseg configs find them.

The sub-packages, one idea each: `patch` (padding modes, CoordConv, SOLO coordinates, HarnessModel),
`data` (dataset checks, tiny generated sets, subsets), `evaluation` (border-stratified metrics),
`diagnose` (position probe, leak audit), `run` (grids, runner, hooks, checkpoints, configs),
`report` (results, statistics, the document, plots).
"""
import warnings

# mmengine 0.10.7 imports pkg_resources, which warns on every import since setuptools 80.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)

from . import compat, evaluation, run  # noqa: E402,F401  (register the metrics and hooks)
from .errors import ConfigError, DatasetError, HarnessError, PaddingError  # noqa: E402
from .patch import (PADDING_MODES, HarnessModel, convert_padding, inject_coordconv, patch_model,  # noqa: E402
                    remove_solo_coords)

compat.apply()

__all__ = ['ConfigError', 'DatasetError', 'HarnessError', 'HarnessModel', 'PADDING_MODES', 'PaddingError',
           'convert_padding', 'inject_coordconv', 'patch_model', 'remove_solo_coords']
