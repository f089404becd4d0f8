"""Run an ablation grid (variants x seeds): train, evaluate, write results.json per run, then a report.

Finished runs are skipped, interrupted ones resume from their last checkpoint: rerun the same
command after a crash, a kill or a Slurm preemption. With no GRID, runs the smoke grid on tiny data
that it generates itself (nothing is downloaded).
"""

import argparse
import importlib
import os

from harness.configs import check_writable_dir
from harness.errors import ConfigError
from harness.paths import REPO_ROOT

EPILOG = """examples:
  tools/run_ablation.sh                                      # smoke grid on generated tiny data (CPU)
  tools/run_ablation.sh configs/ablations/coco_padding.yaml --launcher pytorch --gpus 8
  sbatch -N1 --gres=gpu:8 --ntasks=8 --wrap "tools/run_ablation.sh configs/ablations/coco_padding.yaml --launcher slurm --gpus 8"
  tools/run_ablation.sh configs/ablations/coco_coordconv.yaml --only 'coordconv*' --dry-run
  # one Slurm job per run (an array, at most 6 at once, 8 GPUs each) and a report job after them;
  # rerun it to submit only what is neither finished nor queued
  tools/run_ablation.sh configs/ablations/coco_padding.yaml --submit slurm --gpus 8 --max-parallel 6 --time 24:00:00
  tools/run_ablation.sh configs/ablations/coco_padding.yaml --status      # queued / running / done, GPU-hours
"""
SMOKE = 'configs/ablations/smoke.yaml'
SMOKE_JOBS = 2  # the smoke grid's runs are single-threaded CPU runs: two at a time use a 2-core machine's cores
TINY_DATA_GRIDS = (
    SMOKE,
    'configs/ablations/pretrain_smoke.yaml',  # grids on data that ensure_tiny_data makes
    'configs/ablations/smoke_transformers.yaml',
)
# The positive controls: their data is generated too, by `ensure_control_data` of the named harness.data module.
CONTROLS = {
    'configs/ablations/position_control.yaml': 'tiny_coco',
    'configs/ablations/segformer_position_control.yaml': 'tiny_cityscapes',
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('grid', nargs='?', default=SMOKE, help=f'grid YAML (default: {SMOKE})')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm'],
        default='none',
        help='none: one process; pytorch: torchrun on this node; slurm: srun inside an allocation',
    )
    parser.add_argument(
        '--gpus',
        '--gpus-per-run',
        type=int,
        default=1,
        help='processes (GPUs) per run for pytorch / slurm / --submit slurm (0 with slurm: one CPU process)',
    )
    parser.add_argument('--only', help='glob over run or variant names, e.g. "none*"')
    parser.add_argument(
        '--jobs',
        type=int,
        help='runs at once on this machine, with --launcher none (each child gets '
        f'an equal share of the cores as its threads); default: {SMOKE_JOBS} for the smoke grid (CPU '
        'runs on a shared machine: see docs/STACK.md), else 1',
    )
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help="show the runs and their commands, and the grid's "
        'GPU-hours from a short timed warm-up of each variant on this device; train no run',
    )
    parser.add_argument(
        '--plan',
        action='store_true',
        help='from the finished runs (>= 2 seeds): per headline '
        'comparison, the seed and image noise, the smallest difference distinguishable with 80%% '
        'power, and with --effect the seeds it needs (with --dry-run: their GPU-hours)',
    )
    parser.add_argument(
        '--effect',
        type=float,
        help="with --plan: the difference to plan for, in the report's units (AP x100, mmseg percent), e.g. 0.5",
    )
    parser.add_argument('--warmup-iters', type=int, default=20, help='iterations of that warm-up (0: no estimate)')
    parser.add_argument(
        '--status',
        action='store_true',
        help='one line per run (queued / running at iteration i of '
        'n with ETA / done / failed / preempted), and GPU-hours so far and to finish',
    )
    parser.add_argument('--work-dir', default='work_dirs', help='runs go to WORK_DIR/<grid>/<run>/')
    parser.add_argument('--report-dir', help='default: reports/<grid>/')
    parser.add_argument('--verbose', action='store_true', help='echo the training logs')
    slurm = parser.add_argument_group('Slurm: one job per run (harness/launch/slurm.py)')
    slurm.add_argument(
        '--submit',
        choices=['slurm'],
        help='submit the unfinished runs as a job array, and a report job after it, then return',
    )
    slurm.add_argument('--max-parallel', type=int, help='runs at most running at once (the array throttle %%N)')
    slurm.add_argument('--partition', help="Slurm partition (default: the cluster's default)")
    slurm.add_argument(
        '--time',
        help='time limit per job, HH:MM:SS or D-HH:MM:SS; a run that reaches it checkpoints, '
        'requeues itself and resumes',
    )
    slurm.add_argument(
        '--max-requeues', type=int, default=3, help='a run preempted or timed out more often than this is marked failed'
    )
    slurm.add_argument(
        '--signal-lead',
        type=int,
        default=300,
        help='seconds before the time limit that a run is told to checkpoint (SIGTERM)',
    )
    slurm.add_argument(
        '--run',
        metavar='NAME',
        help='run exactly this run of the grid and write no report (what each array element does)',
    )
    args = parser.parse_args(argv)
    if args.gpus < (0 if args.launcher == 'slurm' or args.submit else 1):
        parser.error('--gpus: expected a positive number (0, one CPU process, only with Slurm)')
    for name in ('max_parallel', 'max_requeues', 'signal_lead'):
        value = getattr(args, name)
        if value is not None and value < (1 if name == 'max_parallel' else 0):
            parser.error(
                f'--{name.replace("_", "-")}: got {value}; expected a '
                f'{"positive" if name == "max_parallel" else "non-negative"} number'
            )
    if args.jobs is not None and args.jobs < 1:
        parser.error(f'--jobs: got {args.jobs}; expected a positive number')
    if args.jobs is not None and args.jobs > 1 and (args.launcher != 'none' or args.submit or args.run):
        parser.error(
            f'--jobs: got {args.jobs} with --launcher {args.launcher}{" --submit" * bool(args.submit)}'
            f'{" --run" * bool(args.run)}; expected 1 (such runs take GPUs or Slurm jobs of their own)'
        )
    if args.jobs is None:
        args.jobs = min(SMOKE_JOBS, os.cpu_count() or 1) if args.grid == SMOKE and args.launcher == 'none' else 1
    if sum(map(bool, (args.submit, args.run, args.dry_run, args.status))) > 1:
        parser.error('--submit, --run, --dry-run, --status: expected one of them at most')
    if args.plan and (args.submit or args.run or args.status):
        parser.error('--plan: expected alone or with --dry-run')
    if args.effect is not None and (not args.plan or not args.effect > 0):
        parser.error('--effect: expected a positive difference, with --plan')
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.plan and not args.dry_run:  # finished runs only: no torch
        return plan(args)
    from harness.launch.launcher import Launcher
    from harness.launch.runner import GridRunner

    if args.grid in TINY_DATA_GRIDS and not args.status and (not args.dry_run or args.warmup_iters > 0):
        from harness.data import ensure_tiny_data

        ensure_tiny_data()
    grid = os.path.realpath(args.grid)
    control = next((m for g, m in CONTROLS.items() if grid == os.path.realpath(os.path.join(REPO_ROOT, g))), None)
    if not args.dry_run and control is not None:
        importlib.import_module(f'harness.data.{control}').ensure_control_data()
    runner = GridRunner(
        args.grid, args.work_dir, Launcher(args.launcher, args.gpus), args.only, args.verbose, jobs=args.jobs
    )
    if args.submit:
        from harness.launch.slurm import SlurmOptions, submit

        submit(
            runner,
            args.grid,
            args.work_dir,
            SlurmOptions(
                args.max_parallel,
                args.partition,
                args.time,
                args.gpus,
                args.max_requeues,
                args.signal_lead,
                args.report_dir,
            ),
        )
    elif args.run:
        from harness.launch.slurm_run import run_one

        run_one(runner, args.run, args.max_requeues)
    elif args.status:
        from harness.launch.status import status

        status(runner)
    elif args.dry_run:
        runner.dry_run()
        hours = None
        if args.warmup_iters > 0:
            from harness.launch.estimate import estimate

            _, hours = estimate(
                runner, args.gpus, args.warmup_iters, warmup=min(5, args.warmup_iters - 1), every_variant=args.plan
            )
        if args.plan:
            plan(args, hours)
    else:
        # the report folder: checked once the grid's input is (before hours of training, not after)
        runner.run(checked=lambda: args.report_dir is None or check_writable_dir(args.report_dir, 'report dir'))
        write_grid_report(runner.dir, args.report_dir)


def write_grid_report(grid_dir, report_dir=None, log=print):
    """The report of the grid in `grid_dir`, once its runs have ended (harness/report/write.py)."""
    from harness.report.write import write_report

    try:
        out = write_report(grid_dir, report_dir)
    except OSError as e:
        raise ConfigError(
            f'report of {grid_dir}: cannot write {e.filename or report_dir} '
            f'({e.strerror or e}); expected a writable report dir'
        ) from None
    log(f'report: {os.path.join(out, "report.md")}')
    return out


def plan(args, run_hours=None):
    """--plan: what the finished runs of the grid say about the seeds it needs (harness/report/plan.py)."""
    from harness.grid.schema import load_grid
    from harness.report import plan_lines, read_results

    work = os.path.join(args.work_dir, load_grid(args.grid).name)
    res, _ = read_results(work)
    for line in plan_lines(res, args.effect, run_hours):
        print(line)


if __name__ == '__main__':
    from harness.run.cli import run_and_exit

    run_and_exit(main)
