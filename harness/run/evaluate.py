"""Evaluating a checkpoint: what tools/test.py and a grid run's child process (harness/run/worker.py) both do.

The harness hooks go into the config, so PatchReportHook refuses a checkpoint whose padding / CoordConv
differ from the config's. Rank 0 writes the evaluator's metrics atomically, with AP 0 and
`"no_detections": true` for a COCO model that predicted nothing (mmdet's CocoMetric returns {}), and the
per-image evaluation (BorderCocoMetric / ClassIoUMetric / BorderIoUMetric) as per_image.npz, before
metrics.json, whose presence says the evaluation finished.
"""

import os

from ..checkpoints import check_checkpoint
from ..engine.harness_hooks import add_harness_hooks
from ..jsonio import write_json


def evaluate(cfg, checkpoint, out_metrics=None, out_per_image=None, data_check=True):
    """Test `checkpoint` with config `cfg` (loaded by `load_config`); returns the metrics."""
    from mmengine.runner import Runner

    from ..data import check_data
    from ..evaluation import per_image
    from ..evaluation.empty import fill_no_detections

    check_checkpoint(checkpoint)
    cfg = add_harness_hooks(cfg)
    cfg.load_from, cfg.resume = checkpoint, False
    if data_check:
        check_data(cfg, ('test',))
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if out_metrics and runner.rank == 0:
        metrics, notes = fill_no_detections(runner.test_evaluator, metrics)
        data = per_image.collect(runner.test_evaluator)
        where = out_per_image or os.path.join(os.path.dirname(os.path.abspath(out_metrics)), per_image.PER_IMAGE)
        if data:
            per_image.save(where, data)
        elif os.path.exists(where):  # a stale file from another evaluation must not pass for this one's
            os.unlink(where)
        extra = dict(no_detections=True, notes=notes) if notes else {}
        write_json(out_metrics, dict(metrics=metrics, test_images=len(runner.test_dataloader.dataset), **extra))
    return metrics
