"""What one element of a grid's Slurm job array does: its one run, then a requeue or a verdict.

`tools/run_ablation.py GRID --run NAME` runs exactly that run with the grid runner's own per-run logic
(train, evaluate, probe, results.json; crash-safe resume), holding that run's lock only, and writes no
report (the report job does, harness/launch/slurm.py).

Stopped by SIGTERM, the run has saved a checkpoint at its current iteration (tools/train.py) and the
element exits 143. Who sent it decides what happens next, and the job's state tells which:
- Slurm is stopping the job (preemption, `scontrol requeue`, `scancel`): the state is no longer
  RUNNING, and Slurm itself requeues a preempted or requeued job (`--requeue`) or ends a cancelled one;
- the `--signal=B:TERM@N` warning ahead of the time limit: the job is still RUNNING, and nobody would
  requeue it, so the element does (`scontrol requeue`), as submitit does on a timeout.
Each start of a requeued job counts in SLURM_RESTART_COUNT: a run stopped more than `--max-requeues`
times is marked failed with the reason (results.json), so the report shows it and the array ends.
"""

import os
import os.path as osp
import re
import time
from datetime import datetime, timezone

from ..checkpoints import resume_point
from ..errors import ConfigError, Preempted
from ..jsonio import read_json
from ..run.environment import environment
from ..run.outputs import RESULTS, write_result
from .launcher import free_port
from .slurm import slurm


def restarts():
    return int(os.environ.get('SLURM_RESTART_COUNT') or 0)


def job_state(job_id):
    out = slurm(['scontrol', 'show', 'job', job_id], 'asking the job state')
    for word in out.split():
        if word.startswith('JobState='):
            return word.split('=', 1)[1]
    return 'UNKNOWN'


def select_run(runner, name):
    """Keep only run `name` (exactly: `--only` would also match a variant of that name)."""
    names = [r.name for r in runner.grid.runs()]
    if name not in names:
        raise ConfigError(f'--run {name}: no such run in grid {runner.grid.name}; expected one of {", ".join(names)}')
    runner.runs = [r for r in runner.grid.runs() if r.name == name]
    return runner.runs[0]


def mark_failed(runner, run, why):
    """results.json of `run`, failed: `why` and where its last checkpoint stands."""
    d = osp.join(runner.dir, run.name)
    os.makedirs(d, exist_ok=True)
    cfg = runner.resolve_all()[run.name]
    ckpt, _ = resume_point(d)
    m = re.search(r'(iter|epoch)_(\d+)\.pth$', ckpt or '')
    step = int(m.group(2)) if m and m.group(1) == 'iter' else None
    total = cfg.get('train_cfg', {}).get('max_iters')
    reason = (
        f'{why}; '
        + (f'last checkpoint {osp.basename(ckpt)}' if ckpt else 'no checkpoint yet')
        + (f' (iteration {step} of {total})' if step is not None and total else '')
    )
    write_result(run, d, cfg, environment(), datetime.now(timezone.utc), 0.0, dict(reason=reason, iteration=step))
    runner.log(f'{run.name}: failed: {reason}')


def run_one(runner, name, max_requeues):
    """Run `name` of the grid (an array element's whole job). Raises Preempted (exit 143) when stopped."""
    run = select_run(runner, name)
    d = osp.join(runner.dir, run.name)
    count = restarts()
    if count > max_requeues and read_json(osp.join(d, RESULTS)) is None:
        mark_failed(
            runner,
            run,
            f'stopped by Slurm (preempted or timed out) and requeued {count} times, more than '
            f'--max-requeues {max_requeues}',
        )
        return
    if count:
        runner.log(f'{run.name}: start {count + 1} (requeued {count} times; --max-requeues {max_requeues})')
    # A free rendezvous port on this node (the batch host is the allocation's first node, where rank 0 runs),
    # chosen at each start: runs sharing a node must not meet on mmengine's default 29500, and a requeued
    # run must not wait for its previous start's port (seen: EADDRINUSE when it was derived from the job id).
    os.environ['MASTER_PORT'] = str(free_port())
    try:
        runner.run(exclusive=False)
    except Preempted:
        job = os.environ.get('SLURM_JOB_ID')
        if job and job_state(job) == 'RUNNING':  # the time-limit warning: nobody else will requeue it
            if count >= max_requeues:
                mark_failed(
                    runner, run, f'reached the time limit with {count} requeues already (--max-requeues {max_requeues})'
                )
                return
            time.sleep(1)  # let the last log lines reach the files before the job is killed
            slurm(['scontrol', 'requeue', job], 'requeueing the run before its time limit')
            runner.log(f'{run.name}: time limit near: checkpoint saved, job {job} requeued')
        raise
    if read_json(osp.join(d, RESULTS)) is None:  # a killed child, out of memory, a bug: the job FAILED (exit 1)
        raise SystemExit(
            f'error: {run.name}: ended without a result (see {osp.join(d, "run.log")}); a new --submit slurm retries it'
        )
