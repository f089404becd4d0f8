"""posharness: padding / CoordConv ablations for MMDetection and MMSegmentation models.

`import harness` (or `custom_imports = dict(imports=['harness'])` in a config) applies the stack
shims and registers `HarnessModel` and `PatchReportHook` in mmengine's root registries, where mmdet
and mmseg find them.
"""
from . import compat
from .convert import convert_padding
from .coordconv import inject_coordconv
from .errors import ConfigError, DatasetError, HarnessError, PaddingError
from .model import HarnessModel, PatchReportHook, patch_model
from .modes import PADDING_MODES
from .solo import remove_solo_coords

compat.apply()

__all__ = ['ConfigError', 'DatasetError', 'HarnessError', 'HarnessModel', 'PADDING_MODES', 'PaddingError',
           'PatchReportHook', 'convert_padding', 'inject_coordconv', 'patch_model', 'remove_solo_coords']
