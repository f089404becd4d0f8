"""posharness: padding / CoordConv ablations for MMDetection and MMSegmentation models.

`import harness` (or `custom_imports = dict(imports=['harness'])` in a config) applies the stack
shims and registers `HarnessModel` and the hooks (mmengine's root registries), `BorderCocoMetric`
(mmdet's) and `ClassIoUMetric` / `BorderIoUMetric` (mmseg's), where mmdet and mmseg configs find them.
"""
import warnings

# mmengine 0.10.7 imports pkg_resources, which warns on every import since setuptools 80.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)

from . import border_metrics, compat, metrics  # noqa: F401  (register the metrics)
from .convert import convert_padding
from .coordconv import inject_coordconv
from .errors import ConfigError, DatasetError, HarnessError, PaddingError
from .hooks import NonFiniteLossError, NonFiniteLossHook, PatchReportHook
from .model import HarnessModel, patch_model
from .modes import PADDING_MODES
from .solo import remove_solo_coords

compat.apply()

__all__ = ['ConfigError', 'DatasetError', 'HarnessError', 'HarnessModel', 'PADDING_MODES', 'PaddingError',
           'NonFiniteLossError', 'NonFiniteLossHook', 'PatchReportHook', 'convert_padding', 'inject_coordconv', 'patch_model', 'remove_solo_coords']
