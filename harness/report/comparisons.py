"""The interval of every variant-vs-baseline difference in a report: runs paired by seed, each run's
per-image data (`per_image.npz`, written by tools/test.py) loaded once, image resamples drawn once.

`Comparisons(res).interval(variant, key)` is what the document, plots, CSVs and published-number table
use (`Results.interval` hands it out). How the interval is made: `intervals`. Which metrics can be
recomputed per image: `harness.evaluation.resample.resamplable` (COCO AP / AP50 / AP75 for boxes and
masks, mmseg mIoU / mAcc / aAcc / per-class IoU and accuracy); for the others, and for runs without
per-image data (a plain CocoMetric / IoUMetric, or a run evaluated before per-image data existed),
the interval is over seeds only and says so.
"""

import numpy as np

from ..evaluation import per_image
from ..evaluation.resample import coco_ap, resamplable, seg_metric
from .intervals import BOOT_SEED, N_BOOT, image_weights, paired_interval


class Comparisons:
    def __init__(self, res, n_boot=N_BOOT, seed=BOOT_SEED):
        self.res, self.n_boot, self.seed = res, n_boot, seed
        self._data, self._values, self._weights, self._intervals = {}, {}, {}, {}
        self.problems = []  # unreadable per-image files, for the report's list of problems

    def interval(self, variant, key):
        """`intervals.Interval` of mean(variant − baseline) over paired seeds, or None (a baseline, or no
        seed where both sides have a value)."""
        if (variant, key) not in self._intervals:
            self._intervals[(variant, key)] = self._interval(variant, key)
        return self._intervals[(variant, key)]

    def _interval(self, variant, key):
        res = self.res
        base = res.baseline[variant]
        if base == variant:
            return None
        v, b = dict(res.stat(variant, key).values), dict(res.stat(base, key).values)
        boot, why = self._bootstrap(variant, base, key, sorted(set(v) & set(b)))
        out = paired_interval(v, b, boot)
        if out is not None and why:
            out.notes.append(why)
        return out

    def _bootstrap(self, variant, base, key, seeds):
        """({seed: (variant values, baseline values)} on shared image resamples, or None; why not)."""
        how = resamplable(key)
        if how is None:
            return None, f'{key} is not recomputed per image: interval over seeds only'
        runs = {r.seed: r for r in self.res.of(variant) if r.state == 'done'}
        bases = {r.seed: r for r in self.res.of(base) if r.state == 'done'}
        boot = {}
        for seed in seeds:
            pair = [self._run_data(r, how) for r in (runs.get(seed), bases.get(seed))]
            if any(d is None for d in pair):
                return None, (
                    'no per-image data (per_image.npz) for every paired run: interval over seeds '
                    'only; runs evaluated with BorderCocoMetric / ClassIoUMetric write it'
                )
            if not _same_images(*pair):
                return None, 'variant and baseline were evaluated on different images: interval over seeds only'
            weights = self._resamples(pair[0])
            boot[seed] = tuple(self._resampled(r, d, how, weights) for r, d in zip((runs[seed], bases[seed]), pair))
        return boot, ''

    def _run_data(self, run, how):
        if run is None:
            return None
        path = run.path.parent / per_image.PER_IMAGE
        if path not in self._data:
            try:
                self._data[path] = per_image.load(path) if path.is_file() else {}
            except ValueError as e:
                self.problems.append(f'{run.name}: {e}')
                self._data[path] = {}
        return self._data[path].get(how[1] if how[0] == 'coco' else 'seg')

    def _resamples(self, data):
        n = len(data.img_ids) if hasattr(data, 'img_ids') else len(data.label)
        if n not in self._weights:
            self._weights[n] = image_weights(n, self.n_boot, self.seed)
        return self._weights[n]

    def _resampled(self, run, data, how, weights):
        key = (run.path, how)
        if key not in self._values:  # results.json units: AP in [0, 1], mmseg metrics in percent
            if how[0] == 'coco':  # AP = -1: no objects in the resample, left out like a missing value
                values = coco_ap(data, weights, how[2])
                self._values[key] = np.where(values < 0, np.nan, values)
            else:
                self._values[key] = seg_metric(data, weights, how[1])
        return self._values[key]


def _same_images(a, b):
    if hasattr(a, 'img_ids'):
        return np.array_equal(a.img_ids, b.img_ids)
    return a.label.shape == b.label.shape and np.array_equal(a.label, b.label)
