"""The 95% interval of a difference between a variant and its baseline, over training seeds and test images.

A grid measures each variant with a few training seeds on one fixed set of test images. The question
it answers is about the models, not about those images: would Δ = variant − baseline hold for another
seed and another draw of test images from the same distribution? Write the metric difference of seed s
(variant and baseline trained with the same seed, scored on the same n_img images) as

    Δ_s = μ + A + B_s,

- μ: the true difference (the estimand);
- A: the test set's luck, shared by every seed: the mean over the n_img test images of the per-image
  variant effect (images where the variant happens to do better). Var(A) = τ², shrinking as 1/n_img;
- B_s: what seed s adds, independent across seeds: the seed's own effect on both trainings, and the
  seed x image interaction averaged over the test images. Var(B_s) = σ².

Then Δ = mean_s Δ_s has Var(Δ) = σ²/n + τ², and the interval is Δ ± t(1 − α/2, n − 1) · sqrt(σ̂²/n + τ̂²):

- σ̂² is the sample variance of the Δ_s (n − 1 degrees of freedom). A cancels in it, so it holds
  every independent-per-seed part, the seed x image interaction included, and nothing else. Metrics are
  rounded (mmdet's AP to 0.001): two runs can tie exactly, and s² = 0 would claim infinite precision.
  σ̂² is therefore floored at the variance that rounding alone adds to a difference of two rounded
  values, q²/6 for a resolution q (Sheppard's correction, q²/12 per value); the resolution is the
  coarsest power of ten of which every value is a multiple (none for unrounded values: no floor).
- τ̂² comes from the paired image bootstrap (`harness.evaluation.resample`): each of B resamples draws
  n_img image ids with replacement, once, and every run of both sides and every seed is scored on that
  same resample, giving Δ*_s per seed. The covariance of Δ*_s and Δ*_s' between two *different* seeds
  holds the shared image term alone (B_s and B_s' are independent: their interaction parts do not
  covary), so τ̂² is the mean of the off-diagonal entries of the seeds' bootstrap covariance matrix,
  clipped at 0. The variance of the bootstrap's seed mean, which the earlier interval used, is
  τ² + (interaction)/n: its interaction part is already in σ̂²/n and was counted twice.
- The quantile keeps the seeds' n − 1 degrees of freedom. Welch–Satterthwaite with τ̂² taken as known
  raises them (ν = (σ̂²/n + τ̂²)² / ((σ̂²/n)² / (n − 1)) ≥ n − 1) using the same σ̂² whose noise the
  t quantile is there for: when σ̂² comes out small by chance, ν grows and the interval shrinks at
  once, which cost 3–8 points of coverage at 2 and 3 seeds. With n − 1 the interval is never narrower
  than the seed-only t interval and its coverage is at least nominal whenever τ̂² is as reliable as a
  variance with n − 1 degrees of freedom (n_img images give it about n_img − 1): with T = Z · sqrt(a + b)
  and the estimate sqrt(a W + b W'), W, W' ~ χ²/df, the miss probability g(x) = P(Z² > q² x) is convex in
  x, so E g(λW + (1 − λ)W') ≤ λ E g(W) + (1 − λ) E g(W') ≤ α for λ = a / (a + b) and df(W') ≥ n − 1.
  `benchmarks/interval_coverage.py` measures it (2, 3 and 5 seeds, four noise regimes): the coverage
  table is in reports/benchmarks.md, and tests/report/test_interval_coverage.py asserts it.
- One seed: σ² cannot be estimated. The interval is Δ ± z · sqrt(V) with V the bootstrap variance of Δ*
  (test-set noise only: the seed's own luck is not in it) and it carries no verdict.
- No per-image data (a plain CocoMetric / IoUMetric): τ̂² = 0, i.e. the paired t interval over seeds
  (scipy.stats.ttest_1samp's), which treats the test set as fixed; the method says so.

The p value of the same test, 2 · P(T_{n−1} > |Δ| / SE), is what a family of comparisons is adjusted
with (`family`); the interval excludes zero exactly when p < 1 − level.
"""

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

LEVEL = 0.95
N_BOOT = 1000
BOOT_SEED = 0


@dataclass
class Interval:
    """Δ = mean over paired seeds of (variant − baseline), with its interval (results.json units).

    The interval is rebuilt from its own fields: delta ± t((1 + level) / 2, df) · sqrt(se_seeds² +
    se_images²), a missing se counting 0 and df = inf meaning the normal quantile."""

    delta: float
    lo: float | None
    hi: float | None
    seeds: list  # the seeds both sides have, that Δ averages over
    method: str  # how the interval was made, in words
    se_seeds: float | None = None  # sqrt(σ̂² / n), after the rounding floor
    se_images: float | None = None  # τ̂ (n >= 2) or the bootstrap SD of Δ* (one seed)
    df: float | None = None  # degrees of freedom of the quantile (inf: normal)
    level: float = LEVEL
    p: float | None = None  # two-sided p value of Δ = 0; None where there is no verdict (one seed)
    notes: list = field(default_factory=list)

    @property
    def has_verdict(self):
        """A verdict needs the seed noise measured: two seeds or more."""
        return self.p is not None

    @property
    def distinguishable(self):
        """True / False: the (unadjusted) interval excludes / includes zero; None without a verdict."""
        if not self.has_verdict:
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


def resolution(values, finest=8):
    """The coarsest 10^-k (k = 0..finest) of which every value is a multiple, or None (unrounded)."""
    v = np.asarray(list(values), dtype=np.float64)
    for k in range(finest + 1):
        scaled = v * 10.0**k
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            return 10.0**-k
    return None


def shared_image_variance(resampled):
    """τ̂²: the mean covariance between different seeds' resampled differences, clipped at 0.

    resampled: (n_seeds >= 2, B) array of Δ*_s on the same B resamples."""
    cov = np.cov(resampled, ddof=1)
    n = cov.shape[0]
    off_diagonal = (cov.sum() - np.trace(cov)) / (n * (n - 1))
    return max(float(off_diagonal), 0.0)


def paired_interval(variant, baseline, boot=None, level=LEVEL):
    """The interval of Δ = variant − baseline (see the module docstring).

    variant, baseline: {seed: value}. boot: None, or {seed: (variant values, baseline values)} on the
    same B image resamples for every seed (arrays of shape (B,)); seeds missing from `boot` get none.
    """
    seeds = sorted(set(variant) & set(baseline))
    notes = []
    if set(variant) != set(baseline):
        notes.append(
            f'paired over seeds {_seeds(seeds) or "none"} only: the variant has seeds '
            f'{_seeds(variant) or "none"}, the baseline {_seeds(baseline) or "none"}'
        )
    if not seeds:
        return None
    diffs = np.array([variant[s] - baseline[s] for s in seeds], dtype=np.float64)
    delta, n = float(diffs.mean()), len(seeds)
    resampled = None
    if boot and all(s in boot for s in seeds):
        resampled = np.stack([np.asarray(boot[s][0], np.float64) - np.asarray(boot[s][1], np.float64) for s in seeds])
        resampled = resampled[:, np.isfinite(resampled).all(axis=0)]  # a resample with AP = -1 in any seed
        if resampled.shape[1] < 2:
            resampled = None
            notes.append('fewer than two image resamples with a value: image noise not included')
    elif boot:
        notes.append('no per-image data for every paired seed: image noise not included')
    q = (1 + level) / 2
    if n == 1:
        if resampled is None:
            notes.append('one seed and no per-image data: no interval')
            return Interval(delta, None, None, seeds, 'none', level=level, notes=notes)
        se_images = float(resampled[0].std(ddof=1))
        half = stats.norm.ppf(q) * se_images
        return Interval(
            delta,
            delta - half,
            delta + half,
            seeds,
            f'one seed: test-set noise only (paired image bootstrap, B={resampled.shape[1]}); '
            'seed noise not measured, no verdict',
            se_images=se_images,
            df=math.inf,
            level=level,
            notes=notes,
        )
    var_seeds = float(diffs.var(ddof=1))
    step = resolution([*(variant[s] for s in seeds), *(baseline[s] for s in seeds)])
    if step is not None and var_seeds < step**2 / 6:
        notes.append(
            f'seed variance floored at the rounding variance ({step:g}\u00b2/6): the per-seed '
            "differences agree to the values' resolution"
        )
        var_seeds = step**2 / 6
    var_seeds /= n
    var_images = 0.0 if resampled is None else shared_image_variance(resampled)
    se = math.sqrt(var_seeds + var_images)
    df = n - 1
    half = stats.t.ppf(q, df) * se
    p = float(2 * stats.t.sf(abs(delta) / se, df)) if se > 0 else float(delta == 0)
    if resampled is None:
        method = f'seeds only (paired t, n={n}, df={df}); no per-image data: the test set taken as fixed'
        se_images = None
    else:
        method = (
            f'seeds (n={n}) + shared image term (paired image bootstrap, B={resampled.shape[1]}, '
            f'cross-seed covariance); t with df={df}'
        )
        se_images = math.sqrt(var_images)
    return Interval(
        delta, delta - half, delta + half, seeds, method, math.sqrt(var_seeds), se_images, float(df), level, p, notes
    )


def _seeds(seeds):
    return ', '.join(str(s) for s in sorted(seeds))
