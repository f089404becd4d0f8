"""Train an MMDetection or MMSegmentation config (plain or patched by the harness).

mmdet's tools/train.py flags and work-dir rule; works for mmseg configs too, and on CPU-only
machines under torchrun (gloo). Bad input exits 2 with one line; a NaN/inf loss exits 3 after
writing failure.json in the work dir; SIGTERM (Slurm preemption) saves a checkpoint at the current
iteration and exits 143, and `--resume` continues from it, bit-identically on one process.
"""

import argparse
import signal

EPILOG = """examples:
  python -m harness.commands.train configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py
  python -m harness.commands.train configs/mask_rcnn/mask-rcnn_r50-padnone_fpn_1x_coco.py --work-dir work_dirs/none --amp
  torchrun --nproc_per_node 8 -m harness.commands.train CONFIG --launcher pytorch
  srun -p PART --ntasks 8 --gres gpu:8 python -u -m harness.commands.train CONFIG --launcher slurm
  python -m harness.commands.train CONFIG --resume                # resume from the work dir's last checkpoint
  python -m harness.commands.train CONFIG --cfg-options train_cfg.max_iters=100 randomness.seed=1
"""


def parse_args(argv=None):
    import harness.engine.register  # noqa: F401  (first: registers modules and silences import-time noise)
    from harness.run.cli import add_runner_args, parse_runner_args

    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: config, else ./work_dirs/<name>)')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        help='resume from CHECKPOINT, or with no value from the latest one in the work dir',
    )
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    add_runner_args(parser, 'skip the dataset check before training')
    return parse_runner_args(parser, argv)


def main():
    args = parse_args()
    from harness.data import check_data
    from harness.engine.harness_hooks import add_harness_hooks
    from harness.engine.preemption_hook import PreemptionHook
    from harness.run.config import load_config
    from harness.run.training import amp, build_runner, set_resume, train

    signal.signal(signal.SIGTERM, PreemptionHook.request)  # checkpoint at the next iteration, then exit 143
    cfg = add_harness_hooks(load_config(args.config, args.cfg_options, args.work_dir, args.launcher))
    if args.amp:
        amp(cfg)
    set_resume(cfg, args.resume)
    if not args.no_data_check:
        check_data(cfg, ('train',))
    train(build_runner(cfg))


if __name__ == '__main__':
    from harness.run.cli import run_and_exit

    run_and_exit(main)
