"""Run an ablation grid (variants x seeds): train, evaluate, write results.json per run, then a report.

Finished runs are skipped, interrupted ones resume from their last checkpoint: rerun the same
command after a crash, a kill or a Slurm preemption. With no GRID, runs the smoke grid on tiny data
that it generates itself (nothing is downloaded).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

EPILOG = '''examples:
  tools/run_ablation.sh                                      # smoke grid on generated tiny data (CPU)
  tools/run_ablation.sh configs/ablations/coco_padding.yaml --launcher pytorch --gpus 8
  sbatch -N1 --gres=gpu:8 --ntasks=8 --wrap "tools/run_ablation.sh configs/ablations/coco_padding.yaml --launcher slurm --gpus 8"
  tools/run_ablation.sh configs/ablations/coco_coordconv.yaml --only 'coordconv*' --dry-run
'''
SMOKE = 'configs/ablations/smoke.yaml'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('grid', nargs='?', default=SMOKE, help=f'grid YAML (default: {SMOKE})')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                        help='none: one process; pytorch: torchrun on this node; slurm: srun inside an allocation')
    parser.add_argument('--gpus', type=int, default=1, help='processes (GPUs) per run for pytorch / slurm')
    parser.add_argument('--only', help='glob over run or variant names, e.g. "none*"')
    parser.add_argument('--dry-run', action='store_true', help='show the runs and their commands, run nothing')
    parser.add_argument('--work-dir', default='work_dirs', help='runs go to WORK_DIR/<grid>/<run>/')
    parser.add_argument('--report-dir', help='default: reports/<grid>/')
    parser.add_argument('--verbose', action='store_true', help='echo the training logs')
    args = parser.parse_args(argv)
    if args.gpus < 1:
        parser.error('--gpus: expected a positive number')
    return args


def main():
    args = parse_args()
    from harness.run.launch import Launcher
    from harness.run.runner import GridRunner
    if args.grid == SMOKE and not args.dry_run:
        from harness.data import ensure_tiny_data
        ensure_tiny_data()
    runner = GridRunner(args.grid, args.work_dir, Launcher(args.launcher, args.gpus), args.only, args.verbose,
                        args.report_dir)
    if args.dry_run:
        runner.dry_run()
    else:
        runner.run()


if __name__ == '__main__':
    from harness.run.cli import run_cli
    run_cli(main)
