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

EPILOG = """examples:
  python tools/test.py configs/smoke/fcn_r18-d8_tiny-cityscapes.py work_dirs/fcn/iter_60.pth
  python tools/test.py CONFIG CHECKPOINT --out-metrics metrics.json --work-dir work_dirs/eval
  torchrun --nproc_per_node 8 tools/test.py CONFIG CHECKPOINT --launcher pytorch
"""


def parse_args(argv=None):
    import harness.engine.register  # noqa: F401  (first: registers modules and silences import-time noise)
    from harness.run.cli import add_runner_args, parse_runner_args

    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the evaluation logs go')
    parser.add_argument('--out-metrics', help='write the metrics dict to this JSON file')
    parser.add_argument(
        '--out-per-image',
        help='write the per-image evaluation (harness.evaluation.per_image) here; '
        'default: per_image.npz next to --out-metrics',
    )
    add_runner_args(parser, 'skip the dataset check')
    return parse_runner_args(parser, argv)


def main():
    args = parse_args()
    from harness.checkpoints import check_checkpoint
    from harness.run.config import load_config
    from harness.run.evaluate import evaluate

    check_checkpoint(args.checkpoint)  # before the config creates its work dir
    evaluate(
        load_config(args.config, args.cfg_options, args.work_dir, args.launcher),
        args.checkpoint,
        args.out_metrics,
        args.out_per_image,
        data_check=not args.no_data_check,
    )


if __name__ == '__main__':
    from harness.run.cli import run_and_exit

    run_and_exit(main)
