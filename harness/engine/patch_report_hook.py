"""The model's patch report beside its checkpoints and inside them, and the refusal of a checkpoint
trained with another patch (harness/patch/provenance.py decides; this hook is where mmengine loads and
saves)."""

import os
from typing import Any

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmengine.runner import BaseLoop
from mmengine.runner.checkpoint import find_latest_checkpoint

from ..jsonio import write_json
from ..patch.provenance import META_KEY, PATCH_REPORT, check_patch, saved_patch


@HOOKS.register_module()
class PatchReportHook(Hook):
    """The model's patch report: `patch_report.json` in the work dir and `meta['harness_patch']` in every
    checkpoint; a loaded checkpoint (`load_from`, resume, tools/test.py) whose patch differs from the
    model's is refused (`harness.patch.provenance.check_patch`).

    The JSON is written once nothing more can be refused (after the checkpoint check, or when a loop
    starts), so a refused resume leaves the work dir's report describing its own checkpoints.
    """

    priority = 'VERY_LOW'

    def __init__(self):
        self._written = False

    @staticmethod
    def _report(runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return getattr(model, 'harness_report', None)

    def _write(self, runner):
        report = self._report(runner)
        if report is not None and runner.rank == 0 and not self._written:
            write_json(os.path.join(runner.work_dir, PATCH_REPORT), report)
        self._written = True

    def before_save_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        report = self._report(runner)
        if report is not None:
            checkpoint.setdefault('meta', {})[META_KEY] = report

    def after_load_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        # mmengine calls this for load_from and resume alike; the runner's own flags tell them apart, and
        # only `Runner.train` has built its train loop by then (tests and validation leave it a config)
        path = runner._load_from or (find_latest_checkpoint(runner.work_dir) if runner._resume else None)
        purpose = 'resume' if runner._resume else 'finetune' if isinstance(runner._train_loop, BaseLoop) else 'evaluate'
        saved = saved_patch(checkpoint)
        config = getattr(runner.cfg, 'filename', None) or f'of run {runner.experiment_name}'
        note = check_patch(saved, self._report(runner), path or 'the resumed checkpoint', config, purpose)
        if note:
            runner.logger.info(f'[harness] {note}')
        self._write(runner)

    def before_train(self, runner: Any) -> None:
        self._write(runner)

    def before_val(self, runner: Any) -> None:
        self._write(runner)

    def before_test(self, runner: Any) -> None:
        self._write(runner)
