"""Stop training at the first NaN / inf loss, and say so.

A random-init tiny run with circular padding went to NaN by iteration 40 here and then "finished"
with an empty COCO result (docs/STACK.md): a grid must see that as a failure with its reason, not as
a model that detects nothing. `NonFiniteLossHook` raises `NonFiniteLossError` after writing
`failure.json` beside the checkpoints; the tools turn it into a distinct exit code (harness/run/cli.py).
"""

import math
import os
from typing import Any

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..errors import FAILURE, NonFiniteLossError
from ..jsonio import write_json


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stops training at the first iteration whose loss is NaN or inf."""

    priority = 'VERY_HIGH'

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        if not outputs:
            return
        losses = {k: float(v) for k, v in outputs.items() if 'loss' in k}
        if not all(math.isfinite(v) for v in losses.values()):
            error = NonFiniteLossError(runner.iter + 1, losses)
            if runner.rank == 0:
                write_json(os.path.join(runner.work_dir, FAILURE), dict(reason=str(error), iteration=error.iteration))
            raise error
