"""Reading one grid's outputs for the report: each run's results.json (grid.json: `run.grid_json`).

The report must be writable on any machine that has the work directory, half-finished or copied, so
this module reads plain JSON and imports no training code. It decides what state each expected run
is in (done | failed | missing | unreadable | unknown) and keeps the reason. The one thing
results.json does not say is which COCO metrics (bbox, segm) a run's evaluator computes, needed when
a model predicted nothing (mmdet's CocoMetric then returns {}); `evaluated_coco_kinds` reads it from
the run's dumped config.py with `ast`, without executing it.
"""

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import one_line

_RUN_DIR = re.compile(r'^(?P<variant>.+)_seed(?P<seed>-?\d+)$')
_ITER = re.compile(r'\biter(?:ation)?s?\s*[#:=]?\s*(\d+)', re.IGNORECASE)
COCO_KINDS = ('bbox', 'segm')


@dataclass
class FinishedRun:
    """One expected run, as found on disk."""

    name: str
    variant: str
    seed: int
    state: str  # done | failed | missing | unreadable | unknown
    path: Path
    error: str = ''  # failure reason, or why the run is missing / unreadable
    iteration: str = ''  # where a failed run stopped, when known
    task: str = ''
    metrics: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    no_detections: bool = False
    patch: dict | None = None  # the run's patch_report.json (what the model really was), None when there is none
    probe: dict = field(default_factory=dict)  # the grid's probe settings, status ('done' / 'failed'), error
    timing: dict = field(default_factory=dict)  # where its wall time went (harness/run/timing.py); {} if not recorded


def load_runs(work_dir, grid):
    """Every expected run (variants x seeds, grid order) and notes on run folders outside the grid."""
    work_dir = Path(work_dir)
    found = {}
    for d in sorted(p for p in work_dir.iterdir() if p.is_dir()):
        m = _RUN_DIR.match(d.name)
        if m:
            found[(m['variant'], int(m['seed']))] = d
    runs = []
    for v in grid['variants']:
        for seed in grid['seeds']:
            folder = found.pop((v['name'], seed), None) or _run_folder(work_dir, v['name'], seed)
            runs.append(_read_run(folder, v['name'], seed))
    notes = [f'{d.name}: variant or seed not in grid.json; not included' for d in found.values()]
    for r in runs:
        if r.state == 'unknown':
            notes.append(f'{r.name}: {r.error}; not included')
    return runs, notes


def _run_folder(work_dir, variant, seed):
    # A variant name may hold characters no folder can ('/'): such a run cannot exist on disk.
    return work_dir / f'{variant.replace("/", "_")}_seed{seed}'


def _read_run(folder, variant, seed):
    path = folder / 'results.json'
    run = FinishedRun(f'{variant}_seed{seed}', variant, seed, 'missing', path)
    if not folder.is_dir():
        run.error = 'not started (no run folder)'
        return run
    if not path.is_file():
        run.error = 'run folder has no results.json (interrupted, or still running)'
        return run
    try:
        raw = json.loads(path.read_text(encoding='utf-8'))
        if not isinstance(raw, dict):
            raise ValueError(f'top level is {type(raw).__name__}, expected an object')
        if not isinstance(raw.get('metrics') or {}, dict):
            raise ValueError('"metrics" is not an object')
    except (ValueError, OSError) as e:
        run.state, run.error = 'unreadable', f'{path}: {one_line(e)}'
        return run
    run.metrics = raw.get('metrics') or {}
    run.meta = raw['meta'] if isinstance(raw.get('meta'), dict) else {}
    run.task = str(raw.get('task') or '')
    run.probe = raw['probe'] if isinstance(raw.get('probe'), dict) else {}
    run.timing = raw['timing'] if isinstance(raw.get('timing'), dict) else {}
    run.patch = _patch_report(folder)
    status = raw.get('status')
    if status == 'done':
        # the probe's keys come from the backbone, not the evaluation: alone they still mean no detections
        # tools/test.py records AP 0 and no_detections; older results.json hold {} (or only probe/* keys)
        run.state = 'done'
        run.no_detections = bool(raw.get('no_detections')) or all(k.startswith('probe/') for k in run.metrics)
    elif status == 'failed':
        run.state, run.error = 'failed', one_line(raw.get('error') or 'no reason recorded')
        run.iteration = _failed_iteration(raw, run.error)
    else:
        run.state, run.error = 'unknown', f'unknown status {status!r} in {path.name}'
    return run


def _patch_report(folder):
    """The run's patch_report.json (PatchReportHook), or None when it is missing or not a JSON object."""
    try:
        report = json.loads((folder / 'patch_report.json').read_text(encoding='utf-8'))
    except (ValueError, OSError):
        return None
    return report if isinstance(report, dict) else None


def _failed_iteration(raw, error):
    """Where a failed run stopped: an `iteration` field if the runner wrote one, else the error text."""
    meta = raw.get('meta') if isinstance(raw.get('meta'), dict) else {}
    for value in (raw.get('iteration'), meta.get('iteration')):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    m = _ITER.search(error)
    return m.group(1) if m else ''


def evaluated_coco_kinds(run):
    """The COCO kinds ('bbox', 'segm') the run's `test_evaluator` computes, or None when unknown.

    Read from the config.py that mmengine dumped into the run folder (or `meta.config`), parsed with
    `ast` and never executed. A CocoMetric without `metric` computes bbox, as in mmdet.
    """
    node = _config_value(run, 'test_evaluator')
    return None if node is None else _coco_kinds(node)


MULTI_SCALE = ('RandomResize', 'RandomChoiceResize', 'RandomChoice')  # transforms that vary the training scale


def train_multi_scale(run):
    """Whether the run trained with scale jitter (a random-resize step in its train_dataloader), None if unknown."""
    node = _config_value(run, 'train_dataloader')
    if node is None:
        return None
    types = {f.get('type') for f in (_literal_fields(n) for n in ast.walk(node)) if f.get('type')}
    return bool(types & set(MULTI_SCALE))


def _config_value(run, name):
    """The ast node assigned to `name` in the run's dumped config.py (never executed), or None."""
    for path in (run.path.parent / 'config.py', run.meta.get('config')):
        try:
            tree = ast.parse(Path(path).read_text(encoding='utf-8'))
        except (TypeError, OSError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, 'id', '') == name for t in node.targets):
                return node.value
    return None


def _coco_kinds(node):
    kinds = set()
    for item in node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]:
        fields = _literal_fields(item)
        if 'CocoMetric' not in str(fields.get('type', '')):
            continue
        metric = fields.get('metric', 'bbox')
        kinds.update([metric] if isinstance(metric, str) else metric if isinstance(metric, (list, tuple)) else [])
    return frozenset(k for k in kinds if k in COCO_KINDS) or None


def _literal_fields(node):
    """The literal fields of `dict(a=...)` or `{'a': ...}`; values that are not literals are left out."""
    pairs = []
    if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == 'dict':
        pairs = [(kw.arg, kw.value) for kw in node.keywords if kw.arg]
    elif isinstance(node, ast.Dict):
        pairs = [(k.value, v) for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)]
    out = {}
    for key, value in pairs:
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            pass
    return out
