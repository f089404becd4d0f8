"""Run an ablation grid: variants x seeds, each trained and evaluated once, crash-safe (the report is
written after it, by harness/commands/run_ablation.py).

Each run lives in `<work-dir>/<grid>/<variant>_seed<k>/`. A run is done when its `results.json`
exists; that file is written last and atomically (temp file + rename), so a killed runner leaves
either no result (the run is resumed from its last checkpoint next time) or a whole one (the run is
skipped). Each run is one child process that trains, evaluates and probes (harness/run/worker.py, started
by `launch`), and a lock file (flock, released by the kernel when the runner dies, however it dies)
stops two runners from working on one grid at once.

Before anything runs, every run's config is resolved, every distinct model is built once and run on
one image of its training input size on CPU (`preflight`: a padding scope or CoordConv site that
matches nothing, a bad `cfg_options` key, or padding `none` on a layer wider than its input fails
here), and every dataset is checked: bad input is one `error:` line and exit 2, and no run starts. An
error that only shows on other data (e.g. a test image smaller than the training size) fails that
run: its results.json says why, and the grid goes on.

SIGTERM (Slurm preemption, scancel, kill): the runner passes it on to the running child (which
checkpoints the current iteration if it is training, and exits 143), waits for it, writes no result for that run,
starts nothing more and exits 143. Rerunning the same command (a requeue) resumes where it stopped.
"""

import json
import os
import os.path as osp
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..checkpoints import resume_point
from ..configs import check_writable_dir
from ..data.checks import check_data
from ..data.input_size import train_input_size
from ..errors import FAILURE, DatasetError, Preempted
from ..grid.grid_json import GRID_JSON, dump_resolved
from ..grid.schema import load_grid
from ..grid.spec import PlannedRun
from ..jsonio import read_json, write_json
from ..run.cli import EXIT_BAD_INPUT, EXIT_NON_FINITE
from ..run.config import check_model, resolve_config
from ..run.environment import environment
from ..run.outputs import PROBE, PROBE_FAILED, RESULTS, write_result
from ..run.preflight import forward_check
from ..run.pretrain import PRETRAIN_DIR, PretrainStage
from ..run.timing import TIMING
from ..run.worker import EVALUATING, PROBING
from ..run.worker import MODULE as WORKER
from .launcher import Launcher, run_child, terminate
from .lock import GridLock


class GridRunner:
    def __init__(
        self,
        grid_path: str,
        work_root: str = 'work_dirs',
        launcher: Launcher | None = None,
        only: str | list[str] | None = None,
        verbose: bool = False,
        log: Callable[[str], object] = print,
        jobs: int = 1,
    ) -> None:
        self.grid = load_grid(grid_path)
        self.runs = self.grid.runs(only)
        self.dir = osp.join(work_root, self.grid.name)
        self.launcher, self.verbose = launcher or Launcher(), verbose
        said = threading.Lock()

        def say(line: str) -> None:  # one line at a time: with --jobs, print() from two threads interleaves
            with said:
                log(line)

        self.log = say
        self._stop = False  # SIGTERM received
        self._children: set = set()  # the child processes running now
        self.jobs = jobs  # runs at once (`--jobs`: one machine's cores shared by CPU runs)
        self._preflight_s = 0.0  # seconds of the checks before the runs, per run started (harness/run/timing.py)
        # init: matched -> the classifiers to pretrain first (harness/run/pretrain.py), cached under the work root
        self.pretrain = PretrainStage(self.runs, osp.join(work_root, PRETRAIN_DIR), self.launcher, log)

    def plan(self) -> list[tuple[PlannedRun, str]]:
        """[(run, state)] with state done / failed / resume / new."""
        out = []
        for run in self.runs:
            d = osp.join(self.dir, run.name)
            result = read_json(osp.join(d, RESULTS))
            if result is not None:
                out.append((run, result.get('status', 'done')))
            else:
                out.append((run, 'resume' if resume_point(d)[0] else 'new'))
        return out

    def resolve_all(self) -> dict[str, Any]:
        """Every run's config, resolved before anything runs: a bad base or override fails here."""
        return {
            run.name: self.pretrain.apply(
                run, resolve_config(run, osp.join(self.dir, run.name), self.grid.border, self.grid.vis_backends)
            )
            for run in self.runs
        }

    def check_models(self, configs: dict[str, Any]) -> None:
        """Build each distinct model once and run it on one image of its training input size (`preflight`):
        a bad padding scope, CoordConv site or model key, or a layer too wide for its input, fails here.
        Variants that differ only in settings outside the model (seeds, schedules, evaluator) share one check."""
        checked = set()
        for run in self.runs:
            cfg = configs[run.name]
            key = (
                run.variant.name
                if run.variant.init == 'matched'
                # its own pretrained backbone
                else repr((cfg.model, cfg.get('default_scope'), train_input_size(cfg)[0]))
            )
            if key not in checked:
                model = check_model(run.name, cfg)
                self.pretrain.check_variant(run.name, run.variant, model)  # backbone init fits (pretrain.py)
                note = forward_check(run.name, model, cfg)
                if note:
                    self.log(note)
                checked.add(key)

    def dry_run(self) -> None:
        self.check_models(self.resolve_all())
        for line in self.pretrain.describe():
            self.log(line)
        for i, (run, state) in enumerate(self.plan(), 1):
            d = osp.join(self.dir, run.name)
            cmd = self.launcher.command(WORKER, self._worker_args(d))
            self.log(f'[{i}/{len(self.runs)}] {run.name} ({state}): {" ".join(cmd)}')

    def run(self, exclusive: bool = True, checked: Callable[[], object] | None = None) -> None:
        """Every unfinished run (the report is written after, by the CLI: harness/commands/run_ablation.py).
        `exclusive=False`: holding the grid's lock shared and each run's own (a Slurm array element runs one
        run this way, harness/launch/slurm_run.py). `checked()` is called once the grid's input has passed
        every check, before anything is created (the CLI checks its report folder there)."""
        start = time.time()
        configs = self.resolve_all()  # bad input fails here, before anything is created
        self.check_models(configs)
        self._check_data(configs)
        self.pretrain.check_data()
        self._preflight_s = time.time() - start
        if checked is not None:
            checked()
        check_writable_dir(self.dir)
        lock = GridLock(self.dir, None if exclusive else ','.join(r.name for r in self.runs))
        on_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, self._on_sigterm) if on_main_thread else None
        try:
            self._run(configs)
        finally:
            if on_main_thread and previous is not None:
                signal.signal(signal.SIGTERM, previous)
            lock.close()

    def _on_sigterm(self, signum, frame):
        """Remember it and pass it on to the running children (a child that got it already, from a signal to
        the whole process group or job, only sets its stop flag once more)."""
        self._stop = True
        for child in list(self._children):
            terminate(child)

    def _spawn(self, cmd, log_path, on_line=None):
        """`run_child`, with the child known to the SIGTERM handler while it runs."""
        procs = []

        def started(proc):
            procs.append(proc)
            self._children.add(proc)
            if self._stop:  # SIGTERM arrived while it was being started
                terminate(proc)

        try:
            return run_child(cmd, log_path, self.verbose, started, on_line)
        finally:
            for proc in procs:
                self._children.discard(proc)

    def _preempted(self, finished):
        return Preempted(
            f'grid {self.grid.name}: stopped by SIGTERM with {finished} of {len(self.runs)} runs '
            'finished; rerun the same command to resume'
        )

    def _run(self, configs):
        write_json(osp.join(self.dir, GRID_JSON), dump_resolved(self.grid))
        env = environment()
        plan = self.plan()
        todo = [r for r, s in plan if s not in ('done', 'failed')]
        finished = len(self.runs) - len(todo)
        self._preflight_s /= max(len(todo), 1)
        self.log(f'grid {self.grid.name}: {len(self.runs)} runs, {finished} already finished, work dir {self.dir}')
        if todo and not self.pretrain.run(self._spawn, lambda: self._stop):  # matched pretraining first
            raise self._preempted(finished)
        finished += self._run_all(todo, configs, env)
        if self._stop:
            raise self._preempted(finished)

    def _run_all(self, todo, configs, env):
        """Run `todo`, `self.jobs` at a time (threads that each wait on one child); returns how many finished
        (done or failed). Stopped by SIGTERM: nothing more starts, the running ones stop, Preempted is raised."""
        from concurrent.futures import ThreadPoolExecutor

        t0, count, lock = time.time(), dict(started=0, ended=0, finished=0), threading.Lock()

        def one(run):
            with lock:
                if self._stop:
                    return 'not started'
                count['started'] += 1
                k = count['started']
            started = time.time()
            self.log(f'[{k}/{len(todo)}] {run.name}: training ...')
            status = self._run_one(run, configs[run.name], env)
            with lock:
                count['ended'] += 1
                count['finished'] += status in ('done', 'failed')
                ended = count['ended']
            if status == 'preempted':
                self.log(f'[{k}/{len(todo)}] {run.name}: stopped by SIGTERM (no result written; rerun to resume)')
            else:
                elapsed = time.time() - t0
                eta = elapsed / ended * (len(todo) - ended)
                self.log(
                    f'[{k}/{len(todo)}] {run.name}: {status} in {time.time() - started:.0f} s '
                    f'(grid {elapsed:.0f} s, about {eta:.0f} s left)'
                )
            return status

        jobs = max(1, min(self.jobs, len(todo)))
        saved = os.environ.get('OMP_NUM_THREADS')
        if jobs > 1 and saved is None:  # the cores shared out: threads that wait on each other cost (docs/STACK.md)
            os.environ['OMP_NUM_THREADS'] = str(max(1, (os.cpu_count() or 1) // jobs))
        try:
            if jobs == 1:
                statuses = [one(run) for run in todo]
            else:
                with ThreadPoolExecutor(jobs) as pool:
                    statuses = list(pool.map(one, todo))
        finally:
            if jobs > 1 and saved is None:
                os.environ.pop('OMP_NUM_THREADS', None)
        if self._stop or 'preempted' in statuses:
            raise self._preempted(len(self.runs) - len(todo) + count['finished'])
        return count['finished']

    def _check_data(self, configs):
        """Check each dataset the runs read once, before anything runs (the children check it again)."""
        seen = set()
        for name, cfg in configs.items():
            key = repr([(cfg.get(f'{split}_dataloader') or {}).get('dataset') for split in ('train', 'test')])
            if key not in seen:
                seen.add(key)
                try:
                    check_data(cfg, ('train', 'test'))
                except DatasetError as e:
                    raise DatasetError(f'{name}: {e}') from None

    def _worker_args(self, d):
        args = [osp.join(d, 'config.py'), '--work-dir', d, '--no-data-check']  # the datasets: checked in run()
        if self.grid.probe:
            args += ['--probe', json.dumps(self.grid.probe)]
        return args

    def _run_one(self, run, cfg, env):
        d = osp.join(self.dir, run.name)
        os.makedirs(d, exist_ok=True)
        started = datetime.now(timezone.utc)
        t = time.time()
        cfg_path = osp.join(d, 'config.py')
        tmp = cfg_path + '.tmp.py'
        cfg.dump(tmp)
        os.replace(tmp, cfg_path)
        log_path = osp.join(d, 'run.log')
        if osp.exists(osp.join(d, TIMING)):  # timed from this start, as wall_s is (harness/run/timing.py)
            os.unlink(osp.join(d, TIMING))

        failure = self.pretrain.prepare(run, d, cfg)  # writes init.json; a failed matched pretraining fails the run
        if failure is not None:
            if failure.pop('retry'):
                self.log(f'    {run.name}: {failure["reason"]} (no result written; rerun to retry)')
                return 'crashed'
            write_result(run, d, cfg, env, started, time.time() - t, failure, preflight_s=self._preflight_s)
            return 'failed'

        def progress(line):  # the child's phases, on the console
            if line.startswith(EVALUATING):
                self.log(f'    {run.name}: evaluating ...')
            elif line.startswith(PROBING):
                self.log(f'    {run.name}: probing position information ...')

        code, error = self._spawn(self.launcher.command(WORKER, self._worker_args(d)), log_path, progress)
        if self._stop:
            return 'preempted'
        if code != 0:
            failure = read_json(osp.join(d, FAILURE)) if code == EXIT_NON_FINITE else None
            failure = failure or dict(reason=error or f'python -m {WORKER} exited with code {code}; see {log_path}')
        probe = self._probe_record(d) if failure is None and self.grid.probe else None
        if failure is None or code in (EXIT_BAD_INPUT, EXIT_NON_FINITE):  # failed without metrics
            return write_result(run, d, cfg, env, started, time.time() - t, failure, probe, self._preflight_s)
        # A crash we cannot classify (killed child, OOM, bug): no result, so a rerun retries it.
        self.log(f'    {run.name}: {failure["reason"]} (no result written; rerun to retry)')
        return 'crashed'

    def _probe_record(self, d):
        """The probe's record for results.json: the grid's probe settings, with status done, or failed and why
        (a failed probe does not fail the run)."""
        settings = self.grid.probe
        if read_json(osp.join(d, PROBE)) is not None:
            return dict(settings, status='done', error=None)
        reason = (read_json(osp.join(d, PROBE_FAILED)) or {}).get('reason') or 'the probe wrote no probe.json'
        self.log(f'    {osp.basename(d)}: probe failed ({reason})')
        return dict(settings, status='failed', error=reason)
