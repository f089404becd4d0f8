"""The report's 95% interval covers the true difference at least 93% of the time, by simulation through
`paired_interval` itself (benchmarks/interval_coverage.py: four noise regimes, 2, 3 and 5 seeds).

2,000 simulated grids per cell: the Monte-Carlo SE of a coverage near 0.95 is sqrt(0.95 · 0.05 / 2000) =
0.0049, so an interval at its nominal 95% falls under 0.93 with probability below 1e-4 per cell, and one
at 0.92 or less passes with probability under 2%. The check can fail: the seed-only t interval, which
takes the test set as fixed, falls far under it where image noise dominates (asserted below).
reports/interval_coverage.md has the same table at 10,000 grids per cell.
"""

import pytest

from benchmarks.interval_coverage import REGIMES, coverage

REPS = 2000


@pytest.fixture(scope='module')
def cells():
    return {(regime, n): coverage(regime, n, REPS, previous=False) for regime in REGIMES for n in (2, 3, 5)}


@pytest.mark.parametrize('n', [2, 3, 5])
@pytest.mark.parametrize('regime', list(REGIMES))
def test_nominal_95_interval_covers_at_least_93_percent(cells, regime, n):
    c = cells[(regime, n)]
    assert c['coverage'] >= 0.93, c
    assert c['width'] >= 1.0  # never narrower than the seed-only t interval


def test_the_check_can_fail_seed_only_intervals_miss_the_test_sets_luck(cells):
    # measured at 10,000 grids: 0.80 at 3 seeds, 0.66 at 5 (2 seeds: 0.90, its t(1) quantile is 12.7)
    assert all(cells[('image-dominant', n)]['seed_only'] < 0.85 for n in (3, 5))
