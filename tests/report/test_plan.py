"""Planning seeds (harness/report/plan.py): the power formula against grids simulated through
`paired_interval`, its limits by hand, and `tools/run_ablation.sh GRID --plan` on a grid's finished runs.

Power is checked at the detectable effect, where the formula says 80%: 3,000 simulated grids give a
Monte-Carlo SE of 0.0073, and the tolerance is 0.03 (4 SE).
"""

import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from benchmarks.interval_coverage import noise_sds
from benchmarks.interval_coverage import power as simulated_power
from harness.paths import REPO_ROOT as REPO
from harness.report.plan import detectable_effect, limit_power, power, seeds_needed

N_IMG = 200


def _sigma_tau(regime):
    """The regime's SD of one seed's difference and its shared image SE, as the plan reads them off a grid."""
    sd_c, sd_a, sd_e = noise_sds(regime, N_IMG)
    return math.sqrt(2 * sd_c**2 + 2 * sd_e**2 / N_IMG), sd_a / math.sqrt(N_IMG)


def test_power_is_the_paired_t_tests_without_image_noise():
    # noncentral t: the exact power of the one-sample t test with n - 1 degrees of freedom
    n, sigma, effect = 4, 1.0, 1.5
    q, ncp = stats.t.ppf(0.975, n - 1), effect / (sigma / math.sqrt(n))
    exact = stats.nct.sf(q, n - 1, ncp) + stats.nct.cdf(-q, n - 1, ncp)
    assert power(effect, sigma, 0.0, n) == pytest.approx(exact, abs=2e-3)
    assert power(0.0, sigma, 0.0, n) == pytest.approx(0.05, abs=1e-3)


@pytest.mark.parametrize('regime,n', [('seed-dominant', 3), ('image-dominant', 2), ('balanced', 5)])
def test_detectable_effect_has_80_percent_power_in_simulated_grids(regime, n):
    sigma, tau = _sigma_tau(regime)
    effect = detectable_effect(sigma, tau, n)
    assert power(effect, sigma, tau, n) == pytest.approx(0.8, abs=1e-6)
    assert simulated_power(regime, n, effect, reps=3000, n_img=N_IMG) == pytest.approx(0.8, abs=0.03)


def test_seeds_needed_and_what_seeds_cannot_buy():
    sigma, tau = 1.0, 0.1
    effect = detectable_effect(sigma, tau, 6)
    assert seeds_needed(effect, sigma, tau) == 6  # the fewest seeds reaching 80%
    assert power(effect, sigma, tau, 5) < 0.8
    # with unlimited seeds only the image noise remains: an effect of 2 tau stays under 80% power
    assert limit_power(2 * tau, tau) == pytest.approx(stats.norm.cdf(2 - 1.959964) + stats.norm.cdf(-2 - 1.959964))
    assert limit_power(2 * tau, tau) < 0.8 and seeds_needed(2 * tau, sigma, tau) is None


def test_plan_cli_prints_the_detectable_effect_and_the_seeds_an_effect_needs(tmp_path):
    """`tools/run_ablation.sh GRID --plan --effect D` on a grid's finished runs (3 seeds, no per-image data:
    the image SE is 0), and the reason it cannot plan from one seed."""
    grid_yaml = tmp_path / 'g.yaml'
    grid_yaml.write_text(
        f'name: g\nbase: {REPO / "configs/smoke/fcn_r18-d8_tiny-cityscapes.py"}\nbaseline: zeros\n'
        'seeds: [0, 1, 2]\nvariants:\n  - name: zeros\n  - name: none\n'
        '    padding: {mode: none, scope: backbone}\n'
    )
    work = tmp_path / 'work' / 'g'
    work.mkdir(parents=True)
    (work / 'grid.json').write_text(
        json.dumps(
            {
                'name': 'g',
                'seeds': [0, 1, 2],
                'metrics': [],
                'variants': [{'name': 'zeros', 'baseline': 'zeros'}, {'name': 'none', 'baseline': 'zeros'}],
            }
        )
    )
    miou = {'zeros': (40.0, 41.0, 42.5), 'none': (38.5, 40.0, 40.0)}  # differences -1.5, -1.0, -2.5
    for variant, values in miou.items():
        for seed, value in enumerate(values):
            d = work / f'{variant}_seed{seed}'
            d.mkdir()
            (d / 'results.json').write_text(
                json.dumps(
                    dict(status='done', task='cityscapes', variant=variant, seed=seed, metrics={'mIoU': value}, meta={})
                )
            )
    cmd = [
        sys.executable,
        str(REPO / 'tools' / 'run_ablation.py'),
        str(grid_yaml),
        '--work-dir',
        str(tmp_path / 'work'),
        '--plan',
        '--effect',
        '3',
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    sigma = float(np.std([-1.5, -1.0, -2.5], ddof=1))
    line = next(x for x in out.stdout.splitlines() if x.startswith('  none vs. zeros, mIoU: '))
    assert f'3 seeds; SD of one seed\u2019s \u0394 {sigma:.2f}, SE images 0.00' in line
    assert f'detectable \u0394 {detectable_effect(sigma, 0.0, 3):.2f}' in line
    assert f'\u0394 = 3 needs {seeds_needed(3.0, sigma, 0.0)} seeds' in line
    # --dry-run beside it: one run of each variant timed (on synthetic data: no tiny Cityscapes needed), the
    # seeds priced for the pair
    priced = subprocess.run(cmd + ['--dry-run', '--warmup-iters', '3'], capture_output=True, text=True, cwd=tmp_path)
    assert priced.returncode == 0, priced.stderr
    assert re.search(r'one more run of none: \d+\.\d+ GPU-hours', priced.stdout), priced.stdout
    line = next(x for x in priced.stdout.splitlines() if x.startswith('  none vs. zeros, mIoU: '))
    n = seeds_needed(3.0, sigma, 0.0)
    total, more = map(
        float,
        re.search(
            r'needs \d+ seeds = ([\d.,]+) GPU-hours for the pair \((\d+) more seeds? each: '
            r'([\d.,]+)\)',
            line,
        ).group(1, 3),
    )
    assert total > 0 and more == pytest.approx(total * (n - 3) / n, abs=0.06)
    # one seed finished: nothing to plan with, and it says why
    for variant in miou:
        for seed in (1, 2):
            (work / f'{variant}_seed{seed}' / 'results.json').unlink()
    out = subprocess.run(cmd[:-2], capture_output=True, text=True, cwd=tmp_path)
    assert 'none vs. zeros, mIoU: cannot plan: 1 seed finished: the seed noise needs two or more' in out.stdout
