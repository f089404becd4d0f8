"""Runner hooks: the patch report in the work dir, and a stop on non-finite loss.

A random-init tiny run with circular padding went to NaN by iteration 40 here and then "finished"
with an empty COCO result (docs/STACK.md): a grid must see that as a failure with its reason, not as
a model that detects nothing. `NonFiniteLossHook` raises `NonFiniteLossError`; tools/train.py turns it
into a distinct exit code, after the hook has written `failure.json` beside the checkpoints.
"""
import json
import math
import os

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from .errors import HarnessError

PATCH_REPORT = 'patch_report.json'
FAILURE = 'failure.json'


class NonFiniteLossError(HarnessError):
    """Training produced a NaN / inf loss."""

    def __init__(self, iteration, losses):
        self.iteration = iteration
        shown = ', '.join(f'{k}={v:.4g}' for k, v in losses.items())
        super().__init__(f'loss is not finite at iteration {iteration} ({shown})')


def write_json(path, obj):
    """Write JSON atomically: a reader sees the old file or the whole new one, never a part."""
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@HOOKS.register_module()
class PatchReportHook(Hook):
    """Saves the model's patch report as `patch_report.json` in the run's work dir."""
    priority = 'VERY_LOW'

    def before_run(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        report = getattr(model, 'harness_report', None)
        if report is not None and runner.rank == 0:
            write_json(os.path.join(runner.work_dir, PATCH_REPORT), report)


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stops training at the first iteration whose loss is NaN or inf."""
    priority = 'VERY_HIGH'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if not outputs:
            return
        losses = {k: float(v) for k, v in outputs.items() if 'loss' in k}
        if not all(math.isfinite(v) for v in losses.values()):
            error = NonFiniteLossError(runner.iter + 1, losses)
            if runner.rank == 0:
                write_json(os.path.join(runner.work_dir, FAILURE), dict(reason=str(error), iteration=error.iteration))
            raise error
