"""Does the report's 95% interval cover the true difference 95% of the time? Simulated grids with known Δ.

Each simulated grid is what a real one hands `harness.report.intervals.paired_interval`: a baseline and a
variant, `n` paired seeds, one test set of `n_img` images drawn afresh from its population, per-image
scores, the metric of a run = the mean of its per-image scores rounded to 0.001 (mmdet rounds AP so),
and the paired image bootstrap of the report (the same B = 1000 resamples for every run):

    baseline  x0[s, i] = h_i            + c0_s + e0[s, i]
    variant   x1[s, i] = h_i + μ + a_i  + c1_s + e1[s, i]

h_i: image difficulty (shared, cancels in the difference); a_i: how much better the variant does on image
i (mean 0 over the population: the true Δ is μ, which the test set only estimates); c_s: each training
seed's effect on each model; e: the seed x image interaction. The regimes set how much each of the three
sources (seed, image, interaction) contributes to Var(Δ) at 3 seeds, at a total SE of 1 AP point:

    seed-dominant 80/10/10, image-dominant 10/80/10, interaction-dominant 10/10/80, balanced 1/3 each.

Reported per regime and seed count: the coverage of the interval (its Monte-Carlo standard error
sqrt(p(1 − p) / R)), the coverage of the seed-only paired t interval (which takes the test set as fixed,
so misses the image term) and of the previous interval (bootstrap variance of the seed mean added to s²/n,
Welch–Satterthwaite degrees of freedom: the report's interval up to commit f1e8af7, reproduced in
`previous_interval` for the comparison), and the mean width of the interval and of the previous one
relative to the seed-only t interval (ratio of mean widths over the same grids).
"""

import math

import numpy as np
from scipy import stats

from harness.report.intervals import image_weights, paired_interval

REGIMES = {  # share of Var(Δ) at 3 seeds: seed, image, interaction
    'seed-dominant': (0.8, 0.1, 0.1),
    'image-dominant': (0.1, 0.8, 0.1),
    'interaction-dominant': (0.1, 0.1, 0.8),
    'balanced': (1 / 3, 1 / 3, 1 / 3),
}
TOTAL_SE = 0.01  # SE of Δ at 3 seeds, AP in [0, 1] units (1 AP point)
ROUND = 3  # results.json AP decimals
TRUE_DELTA = 0.004


def noise_sds(regime, n_img, ref_seeds=3, total_se=TOTAL_SE):
    """(σ_c, σ_a, σ_e) giving the regime's shares of Var(Δ) at `ref_seeds` seeds.

    Var(Δ) = 2σ_c²/n (two independent seed effects) + σ_a²/n_img + 2σ_e²/(n · n_img)."""
    seed, image, inter = (share * total_se**2 for share in REGIMES[regime])
    return (math.sqrt(seed * ref_seeds / 2), math.sqrt(image * n_img), math.sqrt(inter * ref_seeds * n_img / 2))


def simulate(regime, n_seeds, reps, n_img=200, n_boot=1000, seed=0, delta=TRUE_DELTA, chunk=250):
    """Yield (variant, baseline, boot) for `reps` simulated grids: the three arguments of paired_interval."""
    rng = np.random.default_rng(seed)
    sd_c, sd_a, sd_e = noise_sds(regime, n_img)
    w = image_weights(n_img, n_boot).astype(np.float64) / n_img  # (B, n_img): a resample's mean
    for start in range(0, reps, chunk):
        r = min(chunk, reps - start)
        h = rng.normal(0.4, 0.15, (r, 1, 1, n_img))
        a = rng.normal(0, sd_a, (r, 1, n_img))
        c = rng.normal(0, sd_c, (r, 2, n_seeds, 1))
        e = rng.normal(0, sd_e, (r, 2, n_seeds, n_img))
        x = h + c + e
        x[:, 1] += delta + a
        metric = np.round(x.mean(axis=-1), ROUND)  # (r, 2, n)
        boot = np.einsum('rvsi,bi->rvsb', x, w)  # (r, 2, n, B), unrounded as the report's resampled AP
        for k in range(r):
            yield (
                {s: metric[k, 1, s] for s in range(n_seeds)},
                {s: metric[k, 0, s] for s in range(n_seeds)},
                {s: (boot[k, 1, s], boot[k, 0, s]) for s in range(n_seeds)},
            )


def previous_interval(variant, baseline, boot, level=0.95):
    """(lo, hi) of the interval this project reported before: s²/n + the bootstrap variance of the seed
    mean of Δ*, with Welch–Satterthwaite degrees of freedom (the bootstrap variance taken as known)."""
    seeds = sorted(variant)
    diffs = np.array([variant[s] - baseline[s] for s in seeds])
    n, delta = len(seeds), float(diffs.mean())
    var_seeds = diffs.var(ddof=1) / n
    var_images = np.mean([boot[s][0] - boot[s][1] for s in seeds], axis=0).var(ddof=1)
    total = var_seeds + var_images
    dof = total**2 / (var_seeds**2 / (n - 1)) if var_seeds > 0 else np.inf
    half = stats.t.ppf((1 + level) / 2, dof) * math.sqrt(total)
    return delta - half, delta + half


def coverage(regime, n_seeds, reps, n_img=200, seed=0, previous=True):
    """{'coverage', 'mc_se', 'seed_only', 'previous', 'width', 'previous_width', 'reps'} of one cell; widths are
    mean width / mean width of the seed-only t interval over the same grids."""
    hit = hit_t = hit_prev = 0
    width = width_t = width_prev = 0.0
    q_t = stats.t.ppf(0.975, n_seeds - 1)
    for variant, baseline, boot in simulate(regime, n_seeds, reps, n_img, seed=seed):
        iv = paired_interval(variant, baseline, boot)
        hit += iv.lo <= TRUE_DELTA <= iv.hi
        width += iv.hi - iv.lo
        diffs = np.array([variant[s] - baseline[s] for s in range(n_seeds)])  # the seed-only paired t interval
        half = q_t * diffs.std(ddof=1) / math.sqrt(n_seeds)
        hit_t += abs(diffs.mean() - TRUE_DELTA) <= half
        width_t += 2 * half
        if previous:
            p_lo, p_hi = previous_interval(variant, baseline, boot)
            hit_prev += p_lo <= TRUE_DELTA <= p_hi
            width_prev += p_hi - p_lo
    cov = hit / reps
    return dict(
        coverage=cov,
        mc_se=math.sqrt(max(cov * (1 - cov), 0.95 * 0.05) / reps),
        seed_only=hit_t / reps,
        previous=hit_prev / reps if previous else None,
        width=width / width_t,
        previous_width=width_prev / width_t if previous else None,
        reps=reps,
    )


def power(regime, n_seeds, effect, reps, n_img=200, seed=1):
    """Share of simulated grids with true Δ = `effect` whose interval excludes zero (the verdict's power)."""
    hits = sum(
        paired_interval(v, b, boot).distinguishable
        for v, b, boot in simulate(regime, n_seeds, reps, n_img, seed=seed, delta=effect)
    )
    return hits / reps


def table(reps=10000, n_img=200, seeds=(2, 3, 5), log=print):
    """Every regime x seed count; markdown lines for the benchmark report (reports/interval_coverage.md)."""
    lines = [
        '| regime (share of Var(Δ) at 3 seeds: seed / image / interaction) | seeds | coverage (MC SE) | '
        'seed-only t | previous interval | width / seed-only t | previous width / seed-only t |',
        '|---|---|---|---|---|---|---|',
    ]
    worst = 1.0
    for regime, shares in REGIMES.items():
        for n in seeds:
            c = coverage(regime, n, reps, n_img)
            worst = min(worst, c['coverage'])
            log(
                f'  {regime}, {n} seeds: coverage {c["coverage"]:.3f}, seed-only t {c["seed_only"]:.3f}, '
                f'previous {c["previous"]:.3f}, width x{c["width"]:.2f}'
            )
            lines.append(
                f'| {regime} ({" / ".join(f"{s:.0%}" for s in shares)}) | {n} | '
                f'{c["coverage"]:.3f} ({c["mc_se"]:.3f}) | {c["seed_only"]:.3f} | {c["previous"]:.3f} | '
                f'{c["width"]:.2f} | {c["previous_width"]:.2f} |'
            )
    return lines, worst
