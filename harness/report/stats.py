"""The statistics of a grid: each variant's task, its headline metrics, and mean / std / delta per metric.

One grid may mix tasks (Mask R-CNN and SOLO on COCO, FCN on Cityscapes): a variant's task is the
`task` its runs' results.json record, every table lists the variants of one task, and each task gets
its own default headline (COCO: bbox and segm AP; Cityscapes: mIoU). grid.json `metrics` overrides it.

The choices that need care are made here, once: std is the sample standard deviation (n - 1) over the
seeds that produced a value; delta is mean(variant) - mean(baseline); a COCO run whose metrics are {}
predicted nothing (mmdet's CocoMetric returns {}) and counts as AP 0 for the kinds its model has
(n/a where every other run says the val set has no such objects, AP = -1); a
model without boxes (SOLO) shows bbox AP as "n/a (model has no boxes)"; AP = -1 ("no objects of that
size") is left out of the mean.
"""

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..grid.grid_json import read_grid_json
from .family import family
from .finished_runs import COCO_KINDS, evaluated_coco_kinds, load_runs
from .format import NOUNS, SEG_MAIN, SEG_PER_CLASS, coco_kind, is_ap

_DEFAULT_COCO = ('coco/bbox_mAP', 'coco/segm_mAP')


@dataclass
class Stat:
    """One metric of one variant over its seeds (values in results.json units)."""

    key: str
    values: list  # (seed, value) of the runs that produced a usable value
    n_runs: int  # expected runs of the variant
    state: str  # ok | failed | missing | unreadable | unknown | n/a ... | non-finite | not reported
    flags: list = field(default_factory=list)

    @property
    def mean(self):
        return statistics.fmean(v for _, v in self.values) if self.values else None

    @property
    def std(self):
        return statistics.stdev(v for _, v in self.values) if len(self.values) > 1 else None


def number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def seeds_text(seeds):
    return ', '.join(str(s) for s in seeds)


def _is_seg(key):
    return key in SEG_MAIN or key.startswith(tuple(p for p, _ in SEG_PER_CLASS))


def read_results(work_dir: str | Path) -> tuple[Any, list[str]]:
    """(`Results`, notes) of the grid in `work_dir` (grid.json and every run's results.json, as plain JSON)."""
    grid = read_grid_json(work_dir)
    runs, notes = load_runs(work_dir, grid)
    return Results(grid, runs), notes


class Results:
    """Runs of a grid with the choices the report makes about them (tasks, headlines, zero-fill)."""

    def __init__(self, grid, runs):
        self.grid, self.runs = grid, runs
        self.variants = [v['name'] for v in grid['variants']]
        self.baseline = {v['name']: v['baseline'] for v in grid['variants']}
        self.recorded_tasks = sorted({r.task for r in runs if r.task})
        self.task_of = self._variant_tasks()
        self.tasks = list(dict.fromkeys(self.task_of[v] for v in self.variants))
        for r in runs:  # only mmdet's CocoMetric says "nothing predicted" with {}; elsewhere it is a bug
            if r.no_detections and self.task_of[r.variant] not in ('coco', ''):
                r.no_detections, r.error = False, 'done, but results.json has no metrics'
        self.reported = {t: {} for t in self.tasks}  # task -> numeric keys its done runs report, in order
        for r in runs:
            if r.state == 'done':
                self.reported[self.task_of[r.variant]].update(
                    (k, None) for k, v in r.metrics.items() if number(v) is not None
                )
        self.kinds = {v: self._coco_kinds(v) for v in self.variants}
        self.headline_of = {t: self._headline(t) for t in self.tasks}
        self.zero_keys = {v: self._zero_keys(v) for v in self.variants}
        self.keys_of = {
            t: list(
                dict.fromkeys(
                    [
                        *self.headline_of[t],
                        *self.reported[t],
                        *(k for v in self.variants_of(t) for k in sorted(self.zero_keys[v])),
                    ]
                )
            )
            for t in self.tasks
        }
        self.headline = list(dict.fromkeys(k for t in self.tasks for k in self.headline_of[t]))
        self.keys = list(dict.fromkeys(k for t in self.tasks for k in self.keys_of[t]))

    def _variant_tasks(self):
        """The task its runs record; else a hint from the base config; else the grid's usual task."""
        usual = Counter(r.task for r in self.runs if r.task).most_common(1)
        out = {}
        for v in self.grid['variants']:
            recorded = Counter(r.task for r in self.runs if r.variant == v['name'] and r.task).most_common(1)
            base = str(v.get('base') or '')
            hint = (
                'cityscapes'
                if 'mmseg' in base or 'cityscapes' in base
                else 'coco'
                if 'mmdet' in base or 'coco' in base
                else ''
            )
            if not recorded and hint and len(self.recorded_tasks) > 1:
                recorded = [(hint, 0)]
            out[v['name']] = (recorded or usual or [('', 0)])[0][0]
        return out

    def _coco_kinds(self, variant):
        """What the model predicts ({'bbox', 'segm'}) per its reported keys or its evaluator; None if unknown."""
        if self.task_of[variant] != 'coco':
            return None
        runs = [r for r in self.of(variant) if r.state == 'done']
        kinds = {coco_kind(k) for r in runs for k in r.metrics} & set(COCO_KINDS)
        if kinds:
            return frozenset(kinds)
        return next((k for k in (evaluated_coco_kinds(r) for r in runs if r.no_detections) if k), None)

    def _headline(self, task):
        keys = self.reported[task]
        if self.grid['metrics']:
            return [k for k in self.grid['metrics'] if self._belongs(k, task)]
        if task == 'coco' or any(k.startswith('coco/') for k in keys):
            known = {k for v in self.variants_of(task) for k in (self.kinds[v] or ())}
            return [k for k in _DEFAULT_COCO if k in keys or coco_kind(k) in known] or list(_DEFAULT_COCO)
        if task == 'cityscapes' or 'mIoU' in keys:
            return ['mIoU']
        plain = [k for k in keys if not k.startswith(('border/', 'probe/'))]
        return sorted(plain or keys)[:1]

    def _belongs(self, key, task):
        """Whether a grid.json headline key is shown for `task`: where reported, else by its prefix."""
        owners = [t for t in self.tasks if key in self.reported[t]]
        if owners or len(self.tasks) == 1:
            return task in owners or len(self.tasks) == 1
        if key.startswith('coco/'):
            return task == 'coco'
        return task != 'coco' if _is_seg(key) else True

    def _zero_keys(self, variant):
        """{COCO key: the AP a run of this variant that predicted nothing (metrics {}) counts as}."""
        if self.task_of[variant] not in ('coco', ''):
            return {}
        task = self.task_of[variant]
        keys = [k for k in [*self.headline_of[task], *self.reported[task]] if k.startswith('coco/')]
        if not keys and task == 'coco':
            keys = list(_DEFAULT_COCO)
        kinds = self.kinds[variant]
        if kinds:
            keys = [k for k in keys if coco_kind(k) in kinds] or [f'coco/{k}_mAP' for k in sorted(kinds)]
        # AP = -1 in every run that reports it: the val set has no such objects, for any model -> n/a, not 0.
        reported = {
            k: {
                number(r.metrics.get(k))
                for r in self.runs
                if r.state == 'done' and k in r.metrics and self.task_of[r.variant] == task
            }
            for k in keys
        }
        return {k: -1.0 if reported[k] == {-1.0} else 0.0 for k in keys}

    def variants_of(self, task):
        return [v for v in self.variants if self.task_of[v] == task]

    def of(self, variant):
        return [r for r in self.runs if r.variant == variant]

    def value(self, run, key):
        """The value the report uses for `run` and `key`: 0 for a no-detections run, else the number."""
        if run.state != 'done':
            return None
        if run.no_detections and key in self.zero_keys[run.variant]:
            return self.zero_keys[run.variant][key]
        return number(run.metrics.get(key))

    def missing_noun(self, variant, key):
        """'boxes' / 'masks' when the variant's model does not predict what COCO `key` measures, else ''."""
        kind, kinds = coco_kind(key), self.kinds.get(variant)
        return NOUNS[kind] if kind and kinds and kind not in kinds else ''

    def missing_kind(self, variant, key):
        """'n/a (model has no boxes)' when the variant's model does not predict what `key` measures, else ''."""
        noun = self.missing_noun(variant, key)
        return f'n/a (model has no {noun})' if noun else ''

    def stat(self, variant, key):
        runs = self.of(variant)
        values, flags, na, bad = [], [], [], []
        for r in runs:
            v = self.value(r, key)
            if v is None:
                if r.state == 'done' and not r.metrics and not r.no_detections:
                    flags.append(f'no metrics: seed {r.seed}')
                continue
            if is_ap(key) and v == -1:
                na.append(r.seed)
            elif not math.isfinite(v):
                bad.append(r.seed)
            else:
                values.append((r.seed, v))
                if r.no_detections and key in self.zero_keys[variant]:
                    flags.append(f'no detections: seed {r.seed}')
        if na:
            flags.append(f'AP = -1 (no such objects): seed {seeds_text(na)}')
        if bad:
            flags.append(f'non-finite value: seed {seeds_text(bad)}')
        states = {r.state for r in runs}
        if values:
            state = 'ok'
        elif na and not bad:
            state = 'n/a'  # mmdet's AP = -1: no objects of that size
        elif bad:
            state = 'non-finite'
        elif 'done' in states:
            state = self.missing_kind(variant, key) or 'not reported'
        else:
            state = next((s for s in ('failed', 'unreadable', 'unknown') if s in states), 'missing')
        return Stat(key, values, len(runs), state, flags)

    def delta(self, variant, key):
        """mean(variant) - mean(its baseline), or None."""
        base = self.baseline[variant]
        if base == variant:
            return None
        a, b = self.stat(variant, key), self.stat(base, key)
        return a.mean - b.mean if a.values and b.values else None

    def interval(self, variant, key):
        """`intervals.Interval` of mean(variant - baseline) over paired seeds, with its 95% interval over
        seeds and test images (`comparisons`); None for a baseline or when no seed has both values."""
        if getattr(self, 'comparisons', None) is None:
            from .comparisons import Comparisons

            self.comparisons = Comparisons(self)
        return self.comparisons.interval(variant, key)

    @property
    def family(self):
        """The `family.Family` the verdicts are judged in (made once, after the intervals)."""
        if getattr(self, '_family', None) is None:
            self._family = family(self)
        return self._family
