"""Paired 95% intervals for a difference between a variant and its baseline, over seeds and over images.

A grid measures each variant with a few training seeds on one fixed set of test images, so a
difference Δ = variant − baseline is uncertain for two reasons: another seed trains another model
(seed noise), and another draw of test images scores it differently (image noise). The effects this
harness exists to find are a few tenths to a few AP points, the size of both noises, hence:

- Seeds: the runs are paired by seed, Δ_s = variant_s − baseline_s over the seeds both sides have,
  Δ = mean(Δ_s). Seed part of the variance: s² / n (sample variance of the Δ_s), with n − 1 degrees
  of freedom (needs n ≥ 2).
- Images: a paired bootstrap over the test images. Each resample draws n_img image ids with
  replacement, once, and every run, variant and baseline of every seed, is scored on that same
  resample (`harness.evaluation.resample`); Δ* = mean over seeds of (variant*_s − baseline*_s). Image
  part of the variance: the variance of Δ* over B resamples (B = 1000, fixed RNG seed, so a report is
  reproducible). The same resample for every seed keeps the test set's shared luck together.
- Combined (the interval reported): Δ ± t(0.975, ν) · sqrt(s²/n + V_images), ν from Welch–
  Satterthwaite with the bootstrap variance taken as known, ν = (s²/n + V)² / ((s²/n)² / (n − 1)).
  With one seed it is Δ ± z · sqrt(V) (seed noise not measured: the report says so); without
  per-image data it is the paired t interval over seeds (scipy.stats.ttest_1samp's interval). The sum
  counts the image noise that differs between seeds twice (it is in the seed spread too), so the
  interval errs on the wide side.

A difference is *distinguishable from zero* when its interval excludes zero.
"""
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

LEVEL = 0.95
N_BOOT = 1000
BOOT_SEED = 0


@dataclass
class Interval:
    """Δ = mean over paired seeds of (variant − baseline), with its interval (results.json units)."""
    delta: float
    lo: float | None
    hi: float | None
    seeds: list  # the seeds both sides have, that Δ averages over
    method: str  # how the interval was made, in words
    se_seeds: float | None = None
    se_images: float | None = None
    notes: list = field(default_factory=list)

    @property
    def distinguishable(self):
        """True / False: the interval excludes / includes zero; None when there is no interval."""
        if self.lo is None:
            return None
        return bool(self.lo > 0 or self.hi < 0)


def image_weights(n_img, n_boot=N_BOOT, seed=BOOT_SEED):
    """(n_boot, n_img) counts: how many times each image is drawn in each resample (ids with replacement)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, n_img, size=(n_boot, n_img))
    rows = np.repeat(np.arange(n_boot), n_img)
    return np.bincount(rows * n_img + ids.ravel(), minlength=n_boot * n_img).reshape(n_boot, n_img)


def t_interval(diffs, level=LEVEL):
    """(mean, lo, hi): the t interval of the mean of paired differences (n >= 2), scipy's."""
    d = np.asarray(diffs, dtype=np.float64)
    ci = stats.ttest_1samp(d, 0.0).confidence_interval(level)
    return float(d.mean()), float(ci.low), float(ci.high)


def paired_interval(variant, baseline, boot=None, level=LEVEL):
    """The interval of Δ = variant − baseline (see the module docstring).

    variant, baseline: {seed: value}. boot: None, or {seed: (variant values, baseline values)} on the
    same B image resamples for every seed (arrays of shape (B,)); seeds missing from `boot` get none.
    """
    seeds = sorted(set(variant) & set(baseline))
    notes = []
    if set(variant) != set(baseline):
        notes.append(f'paired over seeds {_seeds(seeds) or "none"} only: the variant has seeds '
                     f'{_seeds(variant) or "none"}, the baseline {_seeds(baseline) or "none"}')
    if not seeds:
        return None
    diffs = np.array([variant[s] - baseline[s] for s in seeds], dtype=np.float64)
    delta, n = float(diffs.mean()), len(seeds)
    var_seeds = float(diffs.var(ddof=1)) / n if n >= 2 else None
    var_images = None
    if boot and all(s in boot for s in seeds):
        resampled = np.mean([np.asarray(boot[s][0], np.float64) - np.asarray(boot[s][1], np.float64)
                             for s in seeds], axis=0)
        resampled = resampled[np.isfinite(resampled)]
        var_images = float(resampled.var(ddof=1)) if len(resampled) > 1 else None
    elif boot:
        notes.append('no per-image data for every paired seed: image noise not included')
    if var_seeds is None and var_images is None:
        notes.append('one seed and no per-image data: no interval')
        return Interval(delta, None, None, seeds, 'none', notes=notes)
    q = (1 + level) / 2
    if var_images is None:
        _, lo, hi = t_interval(diffs, level)
        method = f'seeds only (paired t, n={n}); no per-image data'
    elif var_seeds is None:
        half = stats.norm.ppf(q) * np.sqrt(var_images)
        lo, hi = delta - half, delta + half
        method = f'images only (paired bootstrap, B={len(resampled)}); one seed: seed noise not measured'
    else:
        total = var_seeds + var_images
        dof = total ** 2 / (var_seeds ** 2 / (n - 1)) if var_seeds > 0 else np.inf
        half = stats.t.ppf(q, dof) * np.sqrt(total)
        lo, hi = delta - half, delta + half
        method = f'seeds (n={n}) + images (paired bootstrap, B={len(resampled)})'
    return Interval(delta, float(lo), float(hi), seeds, method,
                    None if var_seeds is None else float(np.sqrt(var_seeds)),
                    None if var_images is None else float(np.sqrt(var_images)), notes)


def _seeds(seeds):
    return ', '.join(str(s) for s in sorted(seeds))
