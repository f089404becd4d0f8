"""Evaluate a checkpoint of an MMDetection or MMSegmentation config and save its metrics as JSON.

mmdet's tools/test.py flags; `--out-metrics FILE` writes the evaluator's metrics (rank 0, atomically).
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
    add_runner_args(parser, 'skip the dataset check')
    return parse_runner_args(parser, argv)


def main():
    args = parse_args()
    from mmengine.runner import Runner

    from harness.run.checkpoints import check_checkpoint
    from harness.run.jsonio import write_json
    from harness.data import check_data
    from harness.run.config import load_config

    check_checkpoint(args.checkpoint)
    cfg = load_config(args.config, args.cfg_options, args.work_dir, args.launcher)
    cfg.load_from, cfg.resume = args.checkpoint, False
    if not args.no_data_check:
        check_data(cfg, ('test',))
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if args.out_metrics and runner.rank == 0:
        write_json(args.out_metrics, dict(metrics=metrics, test_images=len(runner.test_dataloader.dataset)))


if __name__ == '__main__':
    from harness.run.cli import run_cli
    run_cli(main)
