"""`tools/run_ablation.sh GRID --submit slurm` against a real Slurm (tests/run/slurm_cluster.py): one job per
run as a job array, a report job after it, no duplicate on resubmission, requeue with resume.

A tiny real grid (FCN R-18 on tiny Cityscapes, 10 iterations, a checkpoint every 2, CPU, one process
per run under srun + mmengine's slurm launcher): `fcn`, `fcn-reflect`, and `fcn-diverge` whose learning
rate makes the loss NaN. Skipped, with the reason, only where Slurm cannot be installed or started
(not root, no slurm-wlm / munge).
"""

import os
import re
import subprocess
import time

import pytest
import torch
from slurm_cluster import SlurmCluster, unavailable

from harness.paths import REPO_ROOT as REPO
from harness.run.worker import EVALUATING
from harness.run.worker import MODULE as WORKER

RUN = str(REPO / 'tools' / 'run_ablation.sh')
MAX_ITERS = 10
GRID = f"""name: slurm
base: configs/smoke/fcn_r18-d8_tiny-cityscapes.py
baseline: fcn
seeds: [0]
cfg_options: {{train_cfg.max_iters: {MAX_ITERS}, default_hooks.checkpoint.interval: 2, default_hooks.logger.interval: 1}}
variants:
  - name: fcn
  - name: fcn-reflect
    padding: {{mode: reflect, scope: backbone}}
  - name: fcn-diverge
    cfg_options: {{optim_wrapper.optimizer.lr: 1.0e+12}}
"""
RUNS = ('fcn_seed0', 'fcn-reflect_seed0', 'fcn-diverge_seed0')
TIMEOUT = 1200  # a loaded 2-core machine; idle, the array takes a few minutes


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    why = unavailable()
    if why:
        pytest.skip(f'no Slurm here: {why}')
    c = SlurmCluster(tmp_path_factory.mktemp('slurm'))
    try:
        c.start()
    except (RuntimeError, subprocess.CalledProcessError) as e:
        c.stop()
        pytest.skip(f'Slurm is installed but could not be started here: {e}')
    c.env['OMP_NUM_THREADS'] = '1'  # the jobs inherit it (sbatch --export=ALL): 2 runs share 2 cores
    yield c
    c.stop()


@pytest.fixture(scope='module')
def grid(tmp_path_factory):
    path = tmp_path_factory.mktemp('grid') / 'slurm.yaml'
    path.write_text(GRID)
    return path


def _submit(cluster, grid, work, *extra):
    proc = subprocess.run(
        [
            RUN,
            str(grid),
            '--work-dir',
            str(work),
            '--report-dir',
            str(work / 'report'),
            '--submit',
            'slurm',
            '--gpus',
            '0',
            '--max-parallel',
            '2',
            *extra,
        ],
        cwd=REPO,
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _wait_until_gone(cluster, job_ids, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while any(j.split('_')[0] in job_ids for j, _ in cluster.jobs()):
        assert time.time() < deadline, cluster.jobs()
        time.sleep(1)


def _attempts(log):
    """The srun command lines of the run's child (harness/run/worker.py: trains, evaluates, probes)."""
    return [line for line in log.splitlines() if line.startswith('$ srun') and f'-m {WORKER}' in line]


def _evaluations(log):
    return log.count(EVALUATING)


def _weights(run_dir):
    return torch.load(run_dir / f'iter_{MAX_ITERS}.pth', map_location='cpu', weights_only=False)['state_dict']


def _result(run_dir):
    import json

    return json.loads((run_dir / 'results.json').read_text())


@pytest.fixture(scope='module')
def array_grid(cluster, grid, tmp_path_factory, repo_tiny_data):
    """The grid submitted once, resubmitted while queued, waited for: (work dir, outputs, seconds)."""
    work = tmp_path_factory.mktemp('array')
    t0 = time.time()
    first = _submit(cluster, grid, work)
    queued = sorted(cluster.jobs())
    second = _submit(cluster, grid, work)
    after = sorted(cluster.jobs())
    during = _status(cluster, grid, work)
    ids = set(re.findall(r'job (\d+)', first))
    _wait_until_gone(cluster, ids)
    seconds = time.time() - t0
    print(f'3-run array on Slurm: submit to report {seconds:.0f} s')
    return (
        work,
        dict(
            first=first,
            second=second,
            queued=queued,
            after=after,
            ids=ids,
            during=during,
            end=_status(cluster, grid, work),
        ),
        seconds,
    )


def _status(cluster, grid, work):
    proc = subprocess.run(
        [RUN, str(grid), '--work-dir', str(work), '--status'],
        cwd=REPO,
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_array_runs_every_run_exactly_once_and_the_report_job_last(cluster, array_grid):
    work, out, _ = array_grid
    d = work / 'slurm'
    assert 'grid slurm: 3 runs: 0 finished, 0 queued or running, 3 to submit' in out['first']
    array = re.search(r'fcn_seed0: job (\d+)_0', out['first']).group(1)
    report = re.search(r'report: job (\d+), after ' + array, out['first']).group(1)
    for i, run in enumerate(RUNS):
        log = (d / run / 'run.log').read_text()
        assert len(_attempts(log)) == 1, log[-2000:]  # trained (and evaluated) once, under srun
        assert '--launcher slurm' in _attempts(log)[0]
        assert cluster.job(f'{array}_{i}')['JobState'] == 'COMPLETED'
    assert [_evaluations((d / r / 'run.log').read_text()) for r in RUNS] == [1, 1, 0]
    assert [_result(d / r)['status'] for r in RUNS] == ['done', 'done', 'failed']
    assert _result(d / 'fcn_seed0')['meta']['iterations'] == MAX_ITERS
    ends = max(cluster.job(f'{array}_{i}')['EndTime'] for i in range(3))  # ISO times sort as text
    assert cluster.job(report)['JobState'] == 'COMPLETED' and cluster.job(report)['StartTime'] >= ends
    md = (work / 'report' / 'report.md').read_text()
    assert 'fcn-diverge' in md and 'not finite' in md  # the failed run is reported, with its reason
    assert f'tensorboard --logdir {d / "tensorboard"}' in md  # the report says where the logs are
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for run in RUNS[:2]:  # one TensorBoard folder per run, the same tags in each
        events = EventAccumulator(str(d / 'tensorboard' / run))
        events.Reload()
        assert [e.step for e in events.Scalars('loss')] == list(range(1, MAX_ITERS + 1))
    assert os.path.getmtime(work / 'report' / 'report.md') > max(os.path.getmtime(d / r / 'results.json') for r in RUNS)


def test_a_second_submit_while_the_runs_are_queued_submits_nothing(cluster, grid, array_grid):
    work, out, _ = array_grid
    assert 'grid slurm: 3 runs: 0 finished, 3 queued or running, 0 to submit' in out['second']
    assert {j for j, _ in out['after']} <= {j for j, _ in out['queued']}  # no job added
    third = _submit(cluster, grid, work)  # everything finished: nothing at all
    assert '3 runs: 3 finished, 0 queued or running, 0 to submit' in third and 'every run is finished' in third
    assert not cluster.jobs()


def test_status_shows_the_queue_while_it_runs_and_the_verdicts_after(array_grid):
    _, out, _ = array_grid
    during = {line.split()[0]: line for line in out['during'].splitlines() if line.startswith('  ')}
    assert set(during) == set(RUNS), out['during']
    assert all(
        re.search(r'(queued \(job \d+_\d, pending\)|running at iteration \d+ of 10)', line)
        for name, line in during.items()
        if 'failed' not in line and 'done' not in line
    ), out['during']
    end = out['end']
    print(end)
    assert 'grid slurm: 3 runs: 2 done, 1 failed' in end
    assert re.search(r'fcn-diverge_seed0 +failed: loss is not finite at iteration \d+', end)
    assert re.search(r'GPU-hours \(training\): [\d.]+ so far; about 0.000 more to finish', end)


def test_failed_run_is_reported_and_the_others_go_on(array_grid):
    work, _, _ = array_grid
    failed = _result(work / 'slurm' / 'fcn-diverge_seed0')
    assert failed['status'] == 'failed' and 'loss is not finite at iteration' in failed['error']
    assert _result(work / 'slurm' / 'fcn-reflect_seed0')['metrics']['mIoU'] >= 0


def test_scontrol_requeue_resumes_from_the_checkpoint_and_ends_as_the_uninterrupted_run(
    cluster, grid, array_grid, tmp_path
):
    reference, _, _ = array_grid
    out = _submit(cluster, grid, tmp_path, '--only', 'fcn_seed0')
    job = re.search(r'fcn_seed0: job (\d+_0)', out).group(1)
    d = tmp_path / 'slurm' / 'fcn_seed0'
    deadline = time.time() + TIMEOUT
    while not (d / 'last_checkpoint').exists() or 'iter_2.pth' not in (d / 'last_checkpoint').read_text():
        assert time.time() < deadline and cluster.jobs(), (d / 'run.log').read_text()[-2000:]
        time.sleep(0.05)
    requeued = time.time()
    cluster.run(['scontrol', 'requeue', job])
    while 'resumed epoch' not in (d / 'run.log').read_text():
        assert time.time() < deadline and cluster.jobs(), (d / 'run.log').read_text()[-2000:]
        time.sleep(0.2)
    resumed = time.time()
    _wait_until_gone(cluster, {job.split('_')[0]})
    log = (d / 'run.log').read_text()
    first, second = _attempts(log)  # trained twice: stopped once, resumed once
    # srun stops passing its task's output on once Slurm stops the job: mmengine's own log file of the first
    # attempt says where SIGTERM stopped it (a checkpoint between the periodic ones, every 2 iterations)
    first_log = sorted(d.glob('2*/2*.log'))[0].read_text()
    stopped = int(re.search(r'\[harness\] SIGTERM: stopping after iteration (\d+)', first_log).group(1))
    assert 2 < stopped < MAX_ITERS
    assert stopped % 2 or f'Saving checkpoint at {stopped} iterations' in first_log
    assert f'resumed epoch: 0, iter: {stopped}' in log and 'no batch loaded' in log
    resumed_iters = re.findall(r'Iter\(train\) \[\s*(\d+)/\d+\]', log.split('resumed epoch: 0', 1)[1])
    assert resumed_iters == [str(i) for i in range(stopped + 1, MAX_ITERS + 1)]  # resumed, not restarted
    assert cluster.job(job)['Restarts'] == '1' and cluster.job(job)['JobState'] == 'COMPLETED'
    assert _result(d)['status'] == 'done' and _evaluations(log) == 1
    ours, theirs = _weights(d), _weights(reference / 'slurm' / 'fcn_seed0')
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours), 'weights differ from the uninterrupted run'
    print(
        f'scontrol requeue to training resumed: {resumed - requeued:.0f} s (Slurm holds a requeued job for '
        f'cred_expire=10 s), to the run finished: {time.time() - requeued:.0f} s'
    )


def test_a_run_stopped_more_often_than_max_requeues_is_marked_failed(grid, tmp_path, repo_tiny_data):
    env = {k: v for k, v in os.environ.items() if not k.startswith('SLURM_')}
    proc = subprocess.run(
        [RUN, str(grid), '--work-dir', str(tmp_path), '--run', 'fcn_seed0', '--max-requeues', '1'],
        cwd=REPO,
        env=dict(env, SLURM_RESTART_COUNT='2'),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = _result(tmp_path / 'slurm' / 'fcn_seed0')
    assert result['status'] == 'failed'
    assert result['error'].startswith(
        'stopped by Slurm (preempted or timed out) and requeued 2 times, more than --max-requeues 1; no checkpoint yet'
    ), result['error']
