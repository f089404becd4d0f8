"""Who may work on a grid's runs at once: one whole-grid runner, or any number of single-run jobs on
different runs (the elements of a Slurm job array), never both, never two on one run.

flock(2) locks, released by the kernel when their holder dies, however it dies: a whole-grid runner
holds `<grid dir>/.lock` exclusively; a single-run job (`tools/run_ablation.py GRID --run NAME`) holds
it shared and `<grid dir>/<run>/.lock` exclusively. A second `tools/run_ablation.sh --submit slurm`
waits on `.submit.lock` instead, so two submissions never both see a run as unqueued.
"""

import fcntl
import os
import os.path as osp

from ..errors import ConfigError, HarnessError


def _open(path):
    try:
        os.makedirs(osp.dirname(path), exist_ok=True)
        return open(path, 'w')
    except OSError as e:
        raise ConfigError(
            f'{path}: cannot create this lock file ({e.strerror}); expected a writable work dir'
        ) from None


def _take(path, mode, busy):
    f = _open(path)
    try:
        fcntl.flock(f, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise HarnessError(busy) from None
    return f


class GridLock:
    """Held for a runner's lifetime (`close()` or exit releases it). `run=None`: the whole grid; a run
    name: that run only."""

    def __init__(self, grid_dir, run=None):
        if run is None:
            self._files = [
                _take(
                    osp.join(grid_dir, '.lock'),
                    fcntl.LOCK_EX,
                    f'{grid_dir}: another run_ablation is working on this grid (lock {grid_dir}/.lock); '
                    'expected one runner per grid: wait for it, or use another --work-dir',
                )
            ]
            return
        grid = _take(
            osp.join(grid_dir, '.lock'),
            fcntl.LOCK_SH,
            f'{grid_dir}: a whole-grid run_ablation is working on this grid (lock {grid_dir}/.lock); '
            f'expected it to finish before run {run} runs on its own',
        )
        try:
            one = _take(
                osp.join(grid_dir, run, '.lock'),
                fcntl.LOCK_EX,
                f'{grid_dir}/{run}: another job is running this run (lock {grid_dir}/{run}/.lock); '
                'expected one job per run',
            )
        except HarnessError:
            grid.close()
            raise
        self._files = [one, grid]

    def close(self):
        for f in self._files:
            f.close()


def submit_lock(grid_dir):
    """Blocks until no other submission of this grid is running; returns the open lock file."""
    f = _open(osp.join(grid_dir, '.submit.lock'))
    fcntl.flock(f, fcntl.LOCK_EX)
    return f
