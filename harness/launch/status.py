"""`tools/run_ablation.sh GRID --status`: where every run of a grid stands, and its GPU-hours so far and to come.

Read from what already exists, nothing recorded for it: results.json (done / failed and why), the run's logs
(run.log: the launcher command of each attempt, hence the GPU count; mmengine's own log file of each training
attempt, `<run>/<timestamp>/<timestamp>.log`: the `Iter(train) [i/n] ... eta ... time` lines and the SIGTERM
stops, hence how often it was preempted; run.log alone where those are missing: srun stops passing a task's
output on once Slurm stops the job), and, for a grid submitted to Slurm (`--submit slurm` made its `slurm/`
folder), Slurm's queue (queued / running); a grid that ran locally is never asked about, and when Slurm cannot
be asked one short line says so. GPU-hours count training only: for each logged window, the iterations trained
times mmengine's mean iteration time, times the GPUs.
"""

import glob
import os.path as osp
import re
import shutil

from ..jsonio import read_json
from ..run.outputs import RESULTS

_ITER = re.compile(r'Iter\(train\) \[\s*(\d+)/(\d+)\].*?eta: (.+?)\s+time: ([\d.]+)')
_RESUMED = re.compile(r'resumed epoch: \d+, iter: (\d+)')
_PROCS = re.compile(r'--(?:ntasks|nproc_per_node)=(\d+)')
# the commands that train a run: a grid run's child (harness/run/worker.py), or tools/train.py before it
_TRAINERS = ('harness.run.worker', 'tools/train.py')


def _trains(line):
    return line.startswith('$ ') and any(t in line for t in _TRAINERS)


def parse_log(text):
    """{'iteration', 'max_iters', 'eta', 'sec_per_iter', 'train_s' (GPU-seconds), 'gpus', 'stops'} of a run.log."""
    out = dict(iteration=0, max_iters=None, eta=None, sec_per_iter=None, train_s=0.0, gpus=None, stops=0)
    last = 0
    for line in text.splitlines():
        if _trains(line):  # a new training attempt
            m = _PROCS.search(line)
            out['gpus'] = max(int(m.group(1)), 1) if m else 1
            last = 0
        elif (m := _RESUMED.search(line)) is not None:
            last = int(m.group(1))
        elif (m := _ITER.search(line)) is not None:
            i, n, eta, t = int(m.group(1)), int(m.group(2)), m.group(3), float(m.group(4))
            out['train_s'] += max(i - last, 0) * t * (out['gpus'] or 1)
            out.update(iteration=i, max_iters=n, eta=eta, sec_per_iter=t)
            last = i
    # the PreemptionHook's line in mmengine's log; tools/train.py's last line in run.log (the same stop)
    out['stops'] = max(text.count('[harness] SIGTERM: stopping'), text.count('\npreempted: SIGTERM'))
    return out


def parse_run(run_dir):
    """`parse_log` of a run's training attempts: mmengine's log files, with the launcher command from run.log."""
    log = _read(osp.join(run_dir, 'run.log'))
    files = sorted(glob.glob(osp.join(run_dir, '[0-9]*_[0-9]*', '[0-9]*_[0-9]*.log')))
    if not files:
        return parse_log(log)
    commands = [line for line in log.splitlines() if _trains(line)]
    command = commands[-1] if commands else '$ tools/train.py'
    return parse_log(''.join(f'{command}\n{_read(f)}\n' for f in files))


def _read(path):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except OSError:
        return ''


def _hours(seconds):
    hours = seconds / 3600
    return f'{hours:,.1f}' if hours >= 10 else f'{hours:.3f}'


def _queue(grid_dir, log):
    """{array index: (job id, state)} from squeue for a grid submitted to Slurm; {} for a grid that never was
    (nothing asked), or where Slurm cannot be asked (one short line says so)."""
    from .slurm import SLURM_DIR

    if not osp.isdir(osp.join(grid_dir, SLURM_DIR)):  # never submitted: its runs ran here
        return {}
    if shutil.which('squeue') is None:
        log('Slurm: not asked (no squeue here); queued runs show as not started or stopped')
        return {}
    from ..errors import HarnessError
    from .slurm import queued_jobs

    try:
        return {j.task: (j.job_id, j.state) for j in queued_jobs(grid_dir) if j.task is not None}
    except HarnessError:
        log('Slurm: cannot be asked (squeue failed); queued runs show as not started or stopped')
        return {}


def status(runner, log=print):
    """Print one line per run and the grid's GPU-hours; returns {run name: state}."""
    grid_dir = runner.dir
    index = {r.name: i for i, r in enumerate(runner.grid.runs())}
    queue = _queue(grid_dir, log)
    configs = runner.resolve_all()
    states, rows, logs = {}, [], {}
    for run in runner.runs:
        d = osp.join(grid_dir, run.name)
        p = logs[run.name] = parse_run(d)
        p['max_iters'] = p['max_iters'] or configs[run.name].get('train_cfg', {}).get('max_iters')
        result = read_json(osp.join(d, RESULTS))
        job, state = queue.get(index[run.name], (None, None))
        at = f'iteration {p["iteration"]:,} of {p["max_iters"]:,}' if p['max_iters'] else f'iteration {p["iteration"]}'
        if result is not None and result.get('status') == 'failed':
            states[run.name], line = 'failed', f'failed: {result.get("error")}'
        elif result is not None:
            states[run.name], line = 'done', 'done'
        elif state in ('RUNNING', 'COMPLETING') or (state is None and not queue and p['eta'] and _fresh(d)):
            states[run.name] = 'running'
            line = f'running at {at}' + (f', ETA {p["eta"]}' if p['eta'] else '') + (f' (job {job})' if job else '')
        elif state is not None:
            states[run.name] = 'queued'
            line = f'queued (job {job}, {state.lower()})' + (f', stopped at {at}' if p['iteration'] else '')
        else:
            states[run.name] = 'stopped' if p['iteration'] else 'not started'
            line = f'stopped at {at}, not queued' if p['iteration'] else 'not started'
        if p['stops']:
            line += f'; preempted {p["stops"]} time{"s" * (p["stops"] != 1)}'
        rows.append((run.name, line))
    width = max(len(name) for name, _ in rows)
    counts = {s: list(states.values()).count(s) for s in dict.fromkeys(states.values())}
    log(f'grid {runner.grid.name}: {len(rows)} runs: ' + ', '.join(f'{n} {s}' for s, n in counts.items()))
    for name, line in rows:
        log(f'  {name:<{width}}  {line}')
    log(_gpu_hours(runner.runs, states, logs))
    return states


def _fresh(run_dir, minutes=10):
    """A log written in the last minutes: a local run in progress (no Slurm to ask)."""
    import time

    paths = [osp.join(run_dir, 'run.log'), *glob.glob(osp.join(run_dir, '[0-9]*_[0-9]*', '*.log'))]
    times = [osp.getmtime(p) for p in paths if osp.exists(p)]
    return bool(times) and time.time() - max(times) < minutes * 60


def _gpu_hours(runs, states, logs):
    spent = sum(p['train_s'] for p in logs.values())
    timed = [p for p in logs.values() if p['sec_per_iter']]
    if not timed:
        return (
            f'GPU-hours: {_hours(spent)} so far; to finish: unknown (no run has logged an iteration yet; '
            '--dry-run estimates it from a short timed warm-up)'
        )
    typical = sorted(p['sec_per_iter'] * (p['gpus'] or 1) for p in timed)[len(timed) // 2]  # GPU-s per iteration
    left = 0.0
    for run in runs:
        p = logs[run.name]
        if states[run.name] in ('done', 'failed') or not p['max_iters']:
            continue
        per_iter = p['sec_per_iter'] * (p['gpus'] or 1) if p['sec_per_iter'] else typical
        left += (p['max_iters'] - p['iteration']) * per_iter
    return (
        f'GPU-hours (training): {_hours(spent)} so far; about {_hours(left)} more to finish (remaining '
        "iterations x each run's logged iteration time, or the median of the logged runs for runs not started)"
    )
