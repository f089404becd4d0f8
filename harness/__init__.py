"""posharness: padding / CoordConv ablations for MMDetection and MMSegmentation models.

`import harness` imports no torch, mmengine or mmdet: the names below are imported on first use
(harness/exports.py). A config loads the harness into mmengine with
`custom_imports = dict(imports=['harness.engine.register'])`, which applies the stack shims and registers
`HarnessModel`, the hooks, `BorderCocoMetric` (mmdet's registry) and `ClassIoUMetric` / `BorderIoUMetric`
(mmseg's).

The sub-packages, one idea each, from the bottom floor up (a module imports only from its floor or below;
docs/ARCHITECTURE.md): shared utilities (`errors`, `paths`, `jsonio`, `configs`, `checkpoints`,
`compat`), `patch` (padding spec and modes, CoordConv, SOLO coordinates, the batch canvas, HarnessModel),
`data` (dataset checks, tiny generated sets, subsets), `evaluation` (border-stratified metrics) and
`diagnose` (position probe, leak audit), `engine` (mmengine hooks), `grid` (grid files), `run` (one run's
life), `launch` (the grid runner, Slurm, status), `report` (results, statistics, the document, plots),
`commands` (the CLIs' code) and `testing` (the test toolkit).
"""

import warnings

from .exports import lazy_exports

# mmengine 0.10.7 imports pkg_resources, which warns on every import since setuptools 80.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        'errors': ['ConfigError', 'DatasetError', 'HarnessError', 'PaddingError'],
        'patch.model': ['HarnessModel', 'patch_model'],
        'patch.convert': ['convert_padding'],
        'patch.coordconv': ['inject_coordconv'],
        'patch.modes': ['PADDING_MODES'],
        'patch.solo_coords': ['remove_solo_coords'],
        'patch.spec': ['PaddingSpec'],
    },
)
