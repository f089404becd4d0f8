"""How many seeds before the GPUs: the smallest difference a grid can call distinguishable, and the seeds a
given difference needs, from the noise of a pilot grid's finished runs.

The verdict (`intervals`) says "distinguishable" when |Δ| > q · sqrt(σ̂²/n + τ̂²), q = t(1 − α/2, n − 1),
where σ̂² is the sample variance of the n per-seed differences (σ̂² = σ² W, W ~ χ²(n − 1) / (n − 1)) and
τ̂ the test set's shared image SE (taken as known: n_img images pin it down far better than n seeds pin
σ). Δ ~ N(δ, σ²/n + τ²) independently of W, so its power at a true difference δ is

    power(δ) = E_W[ Φ((δ − c(W)) / SE) + Φ((−δ − c(W)) / SE) ],  c(W) = q · sqrt(σ² W / n + τ²),
    SE = sqrt(σ²/n + τ²),

an expectation over one χ² variable, computed on its quantiles (`_W_POINTS` equal-probability points).
With τ = 0 it is the power of the paired t test; tests/report/test_plan.py checks it against simulated
grids through `paired_interval` itself. The detectable effect at n seeds solves power(δ) = 80%; the
seeds for an effect are the fewest n reaching 80%. Seeds cannot buy what the test set limits: as n
grows the power tends to Φ(δ/τ − z) + Φ(−δ/τ − z), and an effect below about 2.8 τ needs more test images.

σ and τ come from the pilot's finished runs (`Results.interval`'s se_seeds · sqrt(n) and se_images) and
are used as if known; with 2–3 pilot seeds σ̂ itself is uncertain by a factor of ~2, which the printout says.
α is 5% for one comparison; under Holm over a family of m the first comparison is tested at α/m, so the
detectable effect at α/m is what any one comparison needs whatever the others show.
"""

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats

from .family import candidates, headline_comparisons
from .findings import short
from .format import fmt, scale
from .intervals import LEVEL

POWER = 0.8
MAX_SEEDS = 50
_W_POINTS = 4000


def power(effect, sigma, tau, n, alpha=1 - LEVEL):
    """Probability that the verdict calls a true difference `effect` distinguishable with n seeds."""
    df = n - 1
    q = stats.t.ppf(1 - alpha / 2, df)
    w = stats.chi2.ppf((np.arange(_W_POINTS) + 0.5) / _W_POINTS, df) / df
    se = math.sqrt(sigma**2 / n + tau**2)
    if se == 0:
        return float(effect != 0)
    c = q * np.sqrt(sigma**2 * w / n + tau**2)
    return float(np.mean(stats.norm.cdf((effect - c) / se) + stats.norm.cdf((-effect - c) / se)))


def detectable_effect(sigma, tau, n, target=POWER, alpha=1 - LEVEL):
    """The smallest true |Δ| found distinguishable with probability `target` at n seeds."""
    hi = max(sigma, tau, 1e-12)
    while power(hi, sigma, tau, n, alpha) < target:
        hi *= 2
    return float(optimize.brentq(lambda d: power(d, sigma, tau, n, alpha) - target, 0.0, hi, xtol=hi * 1e-6))


def seeds_needed(effect, sigma, tau, target=POWER, alpha=1 - LEVEL, max_seeds=MAX_SEEDS):
    """The fewest seeds (>= 2) reaching `target` power for `effect`, or None within `max_seeds`."""
    return next((n for n in range(2, max_seeds + 1) if power(effect, sigma, tau, n, alpha) >= target), None)


@dataclass
class PlanRow:
    variant: str
    baseline: str
    key: str
    seeds: int
    sigma: float | None  # SD of one seed's difference (results.json units)
    tau: float | None  # the test set's shared image SE
    detectable: float | None  # at `seeds`, alpha 5%
    detectable_family: float | None  # at `seeds`, alpha 5% / family size
    needed: int | None  # seeds for the requested effect (None: more than MAX_SEEDS, or none asked)
    why: str = ''  # why nothing could be planned


def family_size(res: Any) -> int:
    """m of Holm's first step: the verdict's family (`family`), or, before any comparison has two seeds,
    the family it will be: the grid's primary comparisons, else every headline comparison."""
    return res.family.size or max(len(candidates(res)), 1)


def plan(res, effect=None):
    """[PlanRow] for every headline comparison of a report's `Results`; `effect` in results.json units."""
    comparisons = headline_comparisons(res)
    m = family_size(res)
    rows = []
    for _, v, k in comparisons:
        iv = res.interval(v, k)
        n = len(iv.seeds) if iv else 0
        if iv is None or not iv.has_verdict:
            why = (
                'no finished pair of runs'
                if iv is None
                else f'{n} seed{"s" if n != 1 else ""} finished: the seed noise needs two or more'
            )
            rows.append(PlanRow(v, res.baseline[v], k, n, None, None, None, None, None, why))
            continue
        sigma, tau = iv.se_seeds * math.sqrt(n), iv.se_images or 0.0
        rows.append(
            PlanRow(
                v,
                res.baseline[v],
                k,
                n,
                sigma,
                tau,
                detectable_effect(sigma, tau, n),
                detectable_effect(sigma, tau, n, alpha=(1 - LEVEL) / m),
                None if effect is None else seeds_needed(effect, sigma, tau),
            )
        )
    return rows


def limit_power(effect, tau, alpha=1 - LEVEL):
    """The power that infinitely many seeds would reach: only the test set's image noise is left."""
    if tau == 0:
        return float(effect != 0)
    z = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(effect / tau - z) + stats.norm.cdf(-effect / tau - z))


def needed_text(row, effect):
    """'4 seeds' / 'more than 50 seeds' / 'not reachable by seeds: ...' for the requested effect."""
    if row.needed is not None:
        return f'{row.needed} seeds'
    if limit_power(effect, row.tau) < POWER:
        return (
            'not reachable by seeds: the test set\u2019s image noise alone keeps it under 80% power '
            '(more test images would)'
        )
    return f'more than {MAX_SEEDS} seeds'


def resolve_rows(res):
    """Rows of the report's "What this grid can resolve" table (display units)."""
    rows = []
    for r in plan(res):
        name = f'{r.variant} vs. {r.baseline}'
        if r.sigma is None:
            rows.append([name, short(r.key), str(r.seeds), '', '', '', '', '', '', r.why])
            continue
        at = [fmt(r.key, detectable_effect(r.sigma, r.tau, n)) for n in (5, 10)]
        floor = fmt(r.key, r.tau * (stats.norm.ppf(0.975) + stats.norm.ppf(POWER)))
        rows.append(
            [
                name,
                short(r.key),
                str(r.seeds),
                fmt(r.key, r.sigma),
                fmt(r.key, r.tau),
                fmt(r.key, r.detectable),
                fmt(r.key, r.detectable_family),
                *at,
                floor,
            ]
        )
    return rows


def resolve_blocks(res):
    """The report's short "What this grid can resolve" section (`tools/run_ablation.sh GRID --plan` says more)."""
    rows = resolve_rows(res)
    if not rows:
        return []
    caption = (
        'Smallest true difference each comparison calls distinguishable with 80% power (display units), '
        'from this grid\u2019s own noise taken as known: SD of one seed\u2019s difference, the test set\u2019s '
        'shared image SE; at the seeds done (alone, and at \u03b1/m as Holm\u2019s first step in a family '
        'of m), at 5 and 10 seeds, and with unlimited seeds (the test set\u2019s floor).'
    )
    return [
        ('h', 2, 'What this grid can resolve'),
        (
            'table',
            caption,
            [
                'Comparison',
                'Metric',
                'Seeds',
                'SD per seed',
                'SE images',
                'Detectable',
                'Detectable (\u03b1/m)',
                'At 5 seeds',
                'At 10 seeds',
                'Unlimited seeds',
            ],
            rows,
        ),
        (
            'note',
            'With 2\u20133 seeds the SD per seed is itself uncertain by a factor of about 2: treat these '
            'as the order of magnitude to plan with. tools/run_ablation.sh GRID --plan --effect D prints the '
            'seeds an effect D needs, and --dry-run beside it their GPU-hours.',
        ),
    ]


def plan_lines(res: Any, effect: float | None = None, run_hours: dict | None = None) -> list[str]:
    """What `tools/run_ablation.sh GRID --plan [--effect D] [--dry-run]` prints, one comparison per line.

    effect: in display units (AP x100, mmseg percent); run_hours: {variant: GPU-hours of one run}."""
    rows = plan(res)
    m = family_size(res)
    out = [
        f'plan: {len(rows)} headline comparison{"s" if len(rows) != 1 else ""}, a family of {m} for the verdict; '
        '80% power, 5% two-sided, the noise of the finished runs taken as known (with 2-3 seeds the SD per seed '
        'is uncertain by a factor of ~2)'
    ]
    for r in rows:
        head = f'  {r.variant} vs. {r.baseline}, {short(r.key)}: '
        if r.sigma is None:
            out.append(head + f'cannot plan: {r.why}')
            continue
        line = (
            head + f'{r.seeds} seeds; SD of one seed\u2019s \u0394 {fmt(r.key, r.sigma)}, SE images '
            f'{fmt(r.key, r.tau)}; detectable \u0394 {fmt(r.key, r.detectable)} '
            f'({fmt(r.key, r.detectable_family)} at \u03b1/{m}, Holm\u2019s first step)'
        )
        if effect is not None:
            d = effect / scale(r.key)
            n = seeds_needed(d, r.sigma, r.tau)
            line += f'; \u0394 = {effect:g} needs {needed_text(dataclasses.replace(r, needed=n), d)}'
            hours = run_hours or {}
            if n is not None and hours.get(r.variant) is not None and hours.get(r.baseline) is not None:
                line += (
                    f' = {n * (hours[r.variant] + hours[r.baseline]):,.1f} GPU-hours for the pair '
                    f'({max(n - r.seeds, 0)} more seed{"s" if n - r.seeds != 1 else ""} each: '
                    f'{max(n - r.seeds, 0) * (hours[r.variant] + hours[r.baseline]):,.1f})'
                )
        out.append(line)
    return out
