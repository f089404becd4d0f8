"""One Slurm job per run: a grid submitted as a job array, and a report job that runs after it.

The real grids are ~20 runs of 8 GPUs x 8-12 h: one allocation running them in turn breaks most
clusters' time limits and leaves the cluster's parallelism unused. `tools/run_ablation.sh GRID --submit
slurm` submits every unfinished run as an element of one job array (`%N` throttles how many run at
once), each element running exactly that run (`tools/run_ablation.py GRID --run NAME`, the grid
runner's own per-run logic with `srun` + mmengine's slurm launcher, harness/launch/slurm_run.py), and
one job that writes the report once the array has ended (`--dependency=afterany`).

Slurm keeps the state: the runs queued or running are asked from `squeue` (the jobs carry the grid's
work dir in their comment), the finished ones are those with a results.json. A second submission
submits only runs that are neither, and moves a still-pending report job behind every array of the
grid; nothing else is recorded. An element's array index is the run's position in the grid (every
run, in file order) and the batch script lists the run names, so an element never reads a changed
run list; a grid whose run list changed while an earlier submission is queued is refused.

Plain sbatch, not submitit: submitit pickles a Python function and runs it in every srun task, while
a run here is a parent process that starts training, evaluation and the probe as children (srun +
mmengine's launcher), and submitit keeps a job folder of pickles of its own. A generated batch
script does what is needed with nothing of ours to keep.
"""

import hashlib
import os
import os.path as osp
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..configs import check_writable_dir
from ..errors import ConfigError, HarnessError
from ..grid.grid_json import GRID_JSON, dump_resolved
from ..jsonio import write_json
from .launcher import python_path
from .lock import submit_lock

SLURM_DIR = 'slurm'  # <grid dir>/slurm/: the jobs' output; it exists once the grid was submitted
GPUS_PER_NODE = 8  # the launcher's srun puts at most this many tasks on one node (harness/launch/launcher.py)


@dataclass
class SlurmOptions:
    max_parallel: int | None = None  # array throttle (%N); None: as many as Slurm will run
    partition: str | None = None
    time: str | None = None  # HH:MM:SS (or any --time format); None: the partition's default
    gpus_per_run: int = 1  # 0: one CPU process per run
    max_requeues: int = 3  # a run stopped (preempted / timed out) more often is marked failed
    signal_lead: int = 300  # seconds before the time limit that a run gets SIGTERM (Slurm may send it up to 60 s early)
    report_dir: str | None = None  # where the report job writes (default: reports/<grid>/)


@dataclass
class QueuedJob:
    job_id: str  # '123_4' for an array element
    array_id: str
    task: int | None  # array index, None for the report job
    state: str
    runs_hash: str


def job_name(grid_name, report=False):
    return f'posharness-{grid_name}' + ('-report' if report else '')


def runs_hash(runs):
    """Identifies the run list an array's indices refer to."""
    return hashlib.sha1('\n'.join(r.name for r in runs).encode()).hexdigest()[:10]


def _comment(grid_dir, digest):
    return f'posharness {digest} {osp.abspath(grid_dir)}'


def slurm(cmd, what):
    """Run a Slurm client command; its stdout, or HarnessError with Slurm's own message."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise ConfigError(
            f'{cmd[0]}: not found; expected the Slurm client commands (sbatch, squeue, scontrol) '
            'on PATH, i.e. a Slurm login node'
        ) from None
    except subprocess.TimeoutExpired:
        raise HarnessError(
            f'{" ".join(cmd[:2])}: no answer from Slurm in 120 s; expected a reachable slurmctld'
        ) from None
    if proc.returncode != 0:
        message = ' '.join(proc.stderr.split()) or f'exit code {proc.returncode}'
        raise HarnessError(f'{what}: {cmd[0]} failed ({message}); expected Slurm to accept it')
    return proc.stdout


def queued_jobs(grid_dir):
    """The grid's jobs in Slurm's queue (pending, running, completing, requeued, held): [QueuedJob]."""
    out = slurm(['squeue', '--noheader', '--array', '--me', '--format=%i|%F|%K|%T|%k'], 'asking which runs are queued')
    want = f' {osp.abspath(grid_dir)}'
    jobs = []
    for line in out.splitlines():
        parts = line.strip().split('|', 4)
        if len(parts) != 5 or not parts[4].startswith('posharness ') or not parts[4].endswith(want):
            continue
        job_id, array_id, task, state, comment = parts
        if comment != f'posharness {comment.split()[1]}{want}':
            continue
        jobs.append(QueuedJob(job_id, array_id, int(task) if task.isdigit() else None, state, comment.split()[1]))
    return jobs


def batch_script(grid, grid_path, work_root, opts):
    """The script every element of the array runs: the run at its index, under srun, requeued on a time limit."""
    names = ' '.join(shlex.quote(r.name) for r in grid.runs())
    cmd = [
        sys.executable,
        '-m',
        'harness.commands.run_ablation',
        osp.abspath(grid_path),
        '--work-dir',
        osp.abspath(work_root),
        '--launcher',
        'slurm',
        '--gpus',
        str(opts.gpus_per_run),
        '--max-requeues',
        str(opts.max_requeues),
    ]
    return '\n'.join(
        [
            '#!/bin/bash',
            f'# posharness grid {grid.name}: one run per array element (tools/run_ablation.py --submit slurm)',
            f'export PYTHONPATH={shlex.quote(python_path())}',
            f'RUNS=({names})',
            'RUN="${RUNS[$SLURM_ARRAY_TASK_ID]}"',
            f'exec {shlex.join(cmd)} --run "$RUN"',
            '',
        ]
    )


def _resources(opts):
    g = opts.gpus_per_run
    if g == 0:
        res = ['--ntasks=1']
    else:
        per_node = min(g, GPUS_PER_NODE)
        res = [
            f'--nodes={-(-g // per_node)}',
            f'--ntasks={g}',
            f'--ntasks-per-node={per_node}',
            f'--gres=gpu:{per_node}',
        ]
    res += [f'--partition={opts.partition}'] * bool(opts.partition) + [f'--time={opts.time}'] * bool(opts.time)
    return res + os.environ.get('SBATCH_ARGS', '').split()  # e.g. --account, --qos, --cpus-per-task, --mem


def _ranges(indices):
    """[0, 1, 2, 5] -> '0-2,5' (sbatch --array)."""
    out, start = [], None
    for i, k in enumerate(indices):
        if start is None:
            start = k
        if i + 1 == len(indices) or indices[i + 1] != k + 1:
            out.append(f'{start}-{k}' if k > start else str(k))
            start = None
    return ','.join(out)


def submit(
    runner: Any, grid_path: str, work_root: str, opts: SlurmOptions, log: Callable[[str], object] = print
) -> tuple[str | None, str | None]:
    """Submit the runs of `runner` (a GridRunner, `--only` applied) that are neither finished nor queued,
    and a report job after every array of the grid. Returns (array job id or None, report job id or None)."""
    grid, grid_dir = runner.grid, runner.dir
    check_writable_dir(grid_dir)
    if opts.report_dir is not None:
        check_writable_dir(opts.report_dir, 'report dir')
    os.makedirs(osp.join(grid_dir, SLURM_DIR), exist_ok=True)
    everything = grid.runs()
    index = {r.name: i for i, r in enumerate(everything)}
    digest = runs_hash(everything)
    with submit_lock(grid_dir):
        write_json(osp.join(grid_dir, GRID_JSON), dump_resolved(grid))
        jobs = queued_jobs(grid_dir)
        stale = sorted({j.array_id for j in jobs if j.runs_hash != digest})
        if stale:
            raise ConfigError(
                f'{grid_path}: its run list changed while jobs {", ".join(stale)} of the earlier '
                'list are queued; expected them to end first (or scancel them), since array indices '
                'name runs by position'
            )
        active = {j.task: j for j in jobs if j.task is not None}
        plan = runner.plan()
        todo = [r for r, state in plan if state not in ('done', 'failed') and index[r.name] not in active]
        finished = sum(state in ('done', 'failed') for _, state in plan)
        log(
            f'grid {grid.name}: {len(plan)} runs: {finished} finished, '
            f'{sum(index[r.name] in active for r, _ in plan)} queued or running, {len(todo)} to submit'
        )
        array = None
        if todo:
            _preflight(runner, todo)  # bad input fails here, before anything is submitted
            tasks = _ranges(sorted(index[r.name] for r in todo))
            throttle = f'%{opts.max_parallel}' if opts.max_parallel else ''
            cmd = [
                'sbatch',
                '--parsable',
                f'--job-name={job_name(grid.name)}',
                f'--comment={_comment(grid_dir, digest)}',
                f'--array={tasks}{throttle}',
                '--requeue',
                f'--signal=B:TERM@{opts.signal_lead}',
                '--open-mode=append',
                f'--chdir={os.getcwd()}',
                f'--output={osp.abspath(grid_dir)}/slurm/%A_%a.out',
                *_resources(opts),
            ]
            array = _submit_script(cmd, batch_script(grid, grid_path, work_root, opts))
            for r in todo:
                log(f'  {r.name}: job {array}_{index[r.name]}')
        arrays = sorted({j.array_id for j in jobs if j.task is not None} | ({array} if array else set()), key=int)
        report = _report_job(runner, grid_dir, digest, arrays, [j for j in jobs if j.task is None], opts, log)
    return array, report


def _preflight(runner, runs):
    """The grid runner's own checks, for the runs about to be submitted: configs, models, data."""
    keep, runner.runs = runner.runs, runs
    try:
        configs = runner.resolve_all()
        runner.check_models(configs)
        runner._check_data(configs)
    finally:
        runner.runs = keep


def _submit_script(cmd, script):
    try:
        proc = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise ConfigError(
            'sbatch: not found; expected the Slurm client commands on PATH, i.e. a Slurm login node'
        ) from None
    if proc.returncode != 0:
        raise HarnessError(
            f'sbatch refused the job array ({" ".join(proc.stderr.split())}); expected valid '
            f'--partition / --time / --gpus-per-run for this cluster'
        )
    return proc.stdout.strip().split(';')[0]


def _report_job(runner, grid_dir, digest, arrays, report_jobs, opts, log):
    """One report job after every array of the grid: a pending one is moved behind them, else a new one."""
    if not arrays:
        log(
            'nothing queued: every run is finished'
            if not report_jobs
            else f'report job {report_jobs[0].job_id} is {report_jobs[0].state.lower()}'
        )
        return None
    dependency = 'afterany:' + ':'.join(arrays)
    pending = [j for j in report_jobs if j.state == 'PENDING']
    if pending:
        slurm(['scontrol', 'update', f'JobId={pending[0].job_id}', f'Dependency={dependency}'], 'moving the report job')
        log(f'  report: job {pending[0].job_id}, after {", ".join(arrays)}')
        return pending[0].job_id
    cmd = ['env', f'PYTHONPATH={python_path()}', sys.executable, '-m', 'harness.commands.report', osp.abspath(grid_dir)]
    if opts.report_dir is not None:
        cmd += ['--out', osp.abspath(opts.report_dir)]
    out = slurm(
        [
            'sbatch',
            '--parsable',
            f'--job-name={job_name(runner.grid.name, report=True)}',
            f'--comment={_comment(grid_dir, digest)}',
            f'--dependency={dependency}',
            '--ntasks=1',
            f'--chdir={os.getcwd()}',
            f'--output={osp.abspath(grid_dir)}/slurm/report_%j.out',
            *[f'--partition={opts.partition}'] * bool(opts.partition),
            *os.environ.get('SBATCH_ARGS', '').split(),
            f'--wrap={shlex.join(cmd)}',
        ],
        'submitting the report job',
    )
    job = out.strip().split(';')[0]
    log(f'  report: job {job}, after {", ".join(arrays)}')
    return job
