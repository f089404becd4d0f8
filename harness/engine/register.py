"""Loads the harness into mmengine: what a config names in `custom_imports`
(`dict(imports=['harness.engine.register'])`, configs/_base_/harness.py) and what a tool imports before it
builds anything.

Importing it applies the stack shims (harness/compat.py) and registers, by importing their modules,
`HarnessModel` (mmengine's root MODELS, seen by mmdet and mmseg), `BorderCocoMetric` (mmdet's METRICS),
`ClassIoUMetric` / `BorderIoUMetric` (mmseg's) and the hooks of harness/engine/ (root HOOKS). `import
harness` alone registers nothing and imports no torch.
"""

from .. import compat
from ..evaluation import border_coco, seg_iou  # noqa: F401  (registers the metrics)
from ..patch import model  # noqa: F401  (registers HarnessModel)
from . import (  # noqa: F401  (register the hooks)
    checkpoint_timer_hook,
    non_finite_loss_hook,
    patch_report_hook,
    preemption_hook,
    rng_state_hook,
    train_timer_hook,
)

compat.apply()
