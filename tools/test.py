"""Evaluate a checkpoint of an MMDetection or MMSegmentation config and save its metrics as JSON.

mmdet's tools/test.py flags; `--out-metrics FILE` writes the evaluator's metrics (rank 0, atomically),
with AP 0 and `"no_detections": true` for a COCO model that predicted nothing (mmdet's CocoMetric returns
{}), and the per-image evaluation of BorderCocoMetric / ClassIoUMetric / BorderIoUMetric as per_image.npz
next to it (`--out-per-image`), which the report's image bootstrap resamples.
A checkpoint trained with another padding / CoordConv patch than the config's is refused (exit 2, one
`error:` line naming both); a stock checkpoint loads into a stock (zeros) config with a logged note.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

EPILOG = '''examples:
  python tools/test.py configs/smoke/fcn_r18-d8_tiny-cityscapes.py work_dirs/fcn/iter_60.pth
  python tools/test.py CONFIG CHECKPOINT --out-metrics metrics.json --work-dir work_dirs/eval
  torchrun --nproc_per_node 8 tools/test.py CONFIG CHECKPOINT --launcher pytorch
'''


def parse_args(argv=None):
    import harness  # noqa: F401  (first: registers modules and silences import-time noise)
    from harness.run.cli import add_runner_args, parse_runner_args
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the evaluation logs go')
    parser.add_argument('--out-metrics', help='write the metrics dict to this JSON file')
    parser.add_argument('--out-per-image', help='write the per-image evaluation (harness.evaluation.per_image) here; '
                                                'default: per_image.npz next to --out-metrics')
    add_runner_args(parser, 'skip the dataset check')
    return parse_runner_args(parser, argv)


def main():
    args = parse_args()
    from mmengine.runner import Runner

    from harness.run.checkpoints import check_checkpoint
    from harness.run.hooks import add_harness_hooks
    from harness.evaluation import per_image
    from harness.evaluation.empty import fill_no_detections
    from harness.run.jsonio import write_json
    from harness.data import check_data
    from harness.run.config import load_config

    check_checkpoint(args.checkpoint)
    # the harness hooks: PatchReportHook refuses a checkpoint whose padding / CoordConv differ from the config's
    cfg = add_harness_hooks(load_config(args.config, args.cfg_options, args.work_dir, args.launcher))
    cfg.load_from, cfg.resume = args.checkpoint, False
    if not args.no_data_check:
        check_data(cfg, ('test',))
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if args.out_metrics and runner.rank == 0:
        # a model that predicted nothing was evaluated and scored 0: mmdet's CocoMetric says {} (evaluation.empty)
        metrics, notes = fill_no_detections(runner.test_evaluator, metrics)
        data = per_image.collect(runner.test_evaluator)
        where = args.out_per_image or os.path.join(os.path.dirname(os.path.abspath(args.out_metrics)),
                                                   per_image.PER_IMAGE)
        if data:  # before metrics.json, whose presence says the evaluation finished
            per_image.save(where, data)
        elif os.path.exists(where):  # a stale file from another evaluation must not pass for this one's
            os.unlink(where)
        extra = dict(no_detections=True, notes=notes) if notes else {}
        write_json(args.out_metrics, dict(metrics=metrics, test_images=len(runner.test_dataloader.dataset), **extra))


if __name__ == '__main__':
    from harness.run.cli import run_cli
    run_cli(main)
