"""Where a run's time goes: the phases of its child process (harness/run/worker.py), in `timing.json`,
summed into results.json's `timing` with the runner's own share.

Phases, in the order a run meets them (seconds):
  preflight      its share of the grid's checks before any run (configs, one build + forward pass per
                 distinct model, datasets), divided evenly over the runs that invocation started;
  startup        the child's interpreter start and imports (torch, mmengine, mmdet, mmseg, the harness);
  config         loading the run's config and checking its data;
  model_build    building the training Runner (model, patches, hooks, logger);
  train_setup    `Runner.train` up to the first iteration (dataset and dataloader, optimizer, weight init, resume);
  train_data     data loading inside the training loop;            } the training loop
  train_compute  the iterations (forward, backward, step, hooks);  } (harness/engine/train_timer_hook.py)
  checkpoint     saving checkpoints;
  train_end      after the last iteration (mmengine's after_train / after_run hooks, train_meta.json);
  evaluate       building the test Runner from the final checkpoint, inference and the metrics;
  probe          the position probe on the trained backbone;
  runner         the rest of the run's wall time: starting the child, writing the config and the result,
                 and any attempt killed before it recorded its phases.
`train_loop_share` = (train_data + train_compute) / wall; `overhead` = 1 - (training loop + evaluate +
probe) / wall, where wall = the run's wall time + its preflight share. A run stopped and resumed by a
rerun of the grid is timed from that rerun (as its `wall_s` is): the runner starts a new timing.json.
"""

import os
import time
from contextlib import contextmanager

from ..jsonio import read_json, write_json

TIMING = 'timing.json'
PHASES = (
    'preflight',
    'startup',
    'config',
    'model_build',
    'train_setup',
    'train_data',
    'train_compute',
    'checkpoint',
    'train_end',
    'evaluate',
    'probe',
    'runner',
)
LOOP = ('train_data', 'train_compute')
USEFUL = LOOP + ('evaluate', 'probe')


def process_age():
    """Seconds since this process started (Linux /proc), or None where that cannot be read."""
    try:
        with open('/proc/self/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        started = int(fields[19]) / os.sysconf('SC_CLK_TCK')  # field 22: start time after boot, in clock ticks
        return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started)
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class AttemptTimer:
    """The phases of one attempt of a run's child process, appended to `<run dir>/timing.json` after each
    phase (atomically), so a killed attempt keeps what it had measured."""

    def __init__(self, run_dir, enabled=True):
        self.path = os.path.join(run_dir, TIMING)
        self.enabled = enabled
        self.phases = {}
        previous = read_json(self.path) if enabled else None
        self._attempts = list((previous or {}).get('attempts', []))

    def add(self, phase, seconds):
        if seconds is None:
            return
        self.phases[phase] = round(self.phases.get(phase, 0.0) + seconds, 3)
        if self.enabled:
            write_json(self.path, dict(attempts=self._attempts + [self.phases]))

    @contextmanager
    def phase(self, name):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)


def summarize(run_dir, wall, preflight=0.0):
    """results.json's `timing`: the phases of every attempt recorded in `run_dir`, summed, plus the runner's
    share; None when no attempt recorded anything."""
    record = read_json(os.path.join(run_dir, TIMING)) or {}
    attempts = [a for a in record.get('attempts', []) if isinstance(a, dict)]
    if not attempts:
        return None
    phases = dict.fromkeys(PHASES, 0.0)
    for attempt in attempts:
        for name, seconds in attempt.items():
            if name in phases:
                phases[name] += seconds
    phases['preflight'] = preflight
    total = wall + preflight
    phases['runner'] = max(0.0, total - sum(v for k, v in phases.items() if k != 'runner'))
    useful = sum(phases[k] for k in USEFUL)
    return dict(
        wall=round(total, 1),
        phases={k: round(v, 2) for k, v in phases.items()},
        attempts=len(attempts),
        train_loop_share=round(sum(phases[k] for k in LOOP) / total, 3) if total else None,
        overhead=round(1 - useful / total, 3) if total else None,
    )
