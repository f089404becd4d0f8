"""Intervals of a difference (seeds, images, both), the report's findings built on them, published
differences put in our direction, and runs that evaluated nothing vs runs whose metrics are missing.

Hand formulas: the t quantiles are the table values t(0.975, 2) = 4.302652729749464 and
z(0.975) = 1.959963984540054; the image term (the covariance between seeds) is worked out in the test.
"""

import contextlib
import copy
import csv
import io
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
from mmengine.config import Config
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from scipy import stats

import harness.report as report
from benchmarks.coco_eval import synthetic_coco
from harness.evaluation import per_image
from harness.evaluation.resample import coco_ap
from harness.report.family import holm
from harness.report.format import signed
from harness.report.intervals import image_weights, paired_interval, resolution, t_interval
from harness.report.plan import family_size, plan
from harness.report.references import REFERENCES, orientation
from harness.report.write import md_escape
from harness.run.outputs import write_result

T_2 = 4.302652729749464  # t(0.975) with 2 degrees of freedom, from a table
Z = 1.959963984540054  # standard normal 0.975 quantile


def test_t_interval_is_the_hand_formula():
    d = [1.0, 2.0, 4.0]
    mean = 7 / 3
    s = math.sqrt(((1 - mean) ** 2 + (2 - mean) ** 2 + (4 - mean) ** 2) / 2)
    got = t_interval(d)
    assert got == pytest.approx((mean, mean - T_2 * s / math.sqrt(3), mean + T_2 * s / math.sqrt(3)), abs=1e-12)
    iv = paired_interval({0: 2.0, 1: 3.0, 2: 5.0}, {0: 1.0, 1: 1.0, 2: 1.0})  # no per-image data: seeds only
    assert (iv.delta, iv.lo, iv.hi) == pytest.approx(got, abs=1e-12)
    assert iv.distinguishable is False and iv.se_images is None and 'seeds only' in iv.method  # [-1.5, 6.1]


def test_images_only_with_one_seed_is_the_normal_interval_of_the_bootstrap_without_a_verdict():
    boot = {0: (np.array([0.30, 0.32, 0.34, 0.36]), np.array([0.30, 0.30, 0.30, 0.30]))}
    iv = paired_interval({0: 0.33}, {0: 0.30}, boot)
    sd = np.std([0.0, 0.02, 0.04, 0.06], ddof=1)
    assert (iv.lo, iv.hi) == pytest.approx((0.03 - Z * sd, 0.03 + Z * sd), abs=1e-12)
    assert iv.se_seeds is None and iv.se_images == pytest.approx(sd) and iv.df == math.inf
    assert 'test-set noise only' in iv.method and 'no verdict' in iv.method
    assert iv.p is None and iv.distinguishable is None  # even though [0.0075, 0.0525] excludes zero


def test_image_term_is_the_covariance_between_seeds_and_the_quantile_keeps_the_seed_df():
    """Each seed's resampled difference = a shift every seed shares + its own interaction noise: only the
    shared shift is image noise the seeds' spread does not already hold."""
    v, b = {0: 0.5, 1: 0.7, 2: 0.6}, {0: 0.1, 1: 0.2, 2: 0.3}
    diffs = np.array([0.4, 0.5, 0.3])
    shared = np.array([-0.02, 0.0, 0.01, 0.03, -0.01, 0.0])
    own = {
        0: np.array([0.01, -0.01, 0.0, 0.02, 0.0, -0.02]),
        1: np.array([0.0, 0.03, -0.01, 0.0, -0.02, 0.0]),
        2: np.array([-0.01, 0.0, 0.0, 0.01, 0.0, 0.0]),
    }
    boot = {s: (v[s] + shared + own[s], np.full(6, b[s])) for s in v}
    # by hand: mean over the 6 ordered pairs s != s' of the sample covariance of (shared + own_s, shared + own_s')
    d = {s: shared + own[s] for s in v}
    cov = [np.sum((d[s] - d[s].mean()) * (d[t] - d[t].mean())) / 5 for s in v for t in v if s != t]
    tau2 = max(np.mean(cov), 0.0)
    se = math.sqrt(diffs.var(ddof=1) / 3 + tau2)
    iv = paired_interval(v, b, boot)
    assert (iv.delta, iv.lo, iv.hi) == pytest.approx((0.4, 0.4 - T_2 * se, 0.4 + T_2 * se), abs=1e-12)
    assert iv.se_images == pytest.approx(math.sqrt(tau2)) and iv.df == 2
    assert iv.p == pytest.approx(2 * stats.t.sf(0.4 / se, 2))
    # the bootstrap variance of the seed mean (the old image term) is larger: it also holds the own parts
    assert np.mean([d[s] for s in v], axis=0).var(ddof=1) > tau2


def test_interval_is_never_narrower_than_the_seed_only_t_interval():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(2, 6))
        v = {s: float(rng.normal(0.4, 0.02)) for s in range(n)}
        b = {s: float(rng.normal(0.39, 0.02)) for s in range(n)}
        boot = {s: (v[s] + rng.normal(0, 0.01, 50), b[s] + rng.normal(0, 0.01, 50)) for s in range(n)}
        shift = rng.normal(0, rng.uniform(0, 0.02), 50)
        boot = {s: (x + shift, y) for s, (x, y) in boot.items()}
        iv = paired_interval(v, b, boot)
        _, lo, hi = t_interval([v[s] - b[s] for s in range(n)])
        assert iv.hi - iv.lo >= (hi - lo) * (1 - 1e-12)


def test_rounded_values_that_tie_are_floored_at_the_rounding_variance_not_infinite_precision():
    v, b = {0: 0.352, 1: 0.347, 2: 0.361}, {0: 0.350, 1: 0.345, 2: 0.359}  # every difference 0.002 exactly
    iv = paired_interval(v, b)
    se = math.sqrt(0.001**2 / 6 / 3)  # Sheppard: a difference of two values rounded to 0.001
    assert iv.se_seeds == pytest.approx(se) and iv.df == 2 and math.isfinite(iv.df)
    assert (iv.lo, iv.hi) == pytest.approx((0.002 - T_2 * se, 0.002 + T_2 * se))
    assert any('rounding variance' in n for n in iv.notes)
    assert resolution([0.352, 0.35]) == 0.001 and resolution([40.25, 41.5]) == 0.01
    assert resolution([0.1 + 1e-7 * math.pi]) is None


def test_holm_adjusts_by_hand():
    # sorted: 0.005 x4 = 0.02, 0.01 x3 = 0.03, 0.03 x2 = 0.06, 0.04 x1 = 0.04 -> kept non-decreasing: 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0]) and holm([]) == []


def test_seed_sets_that_differ_are_paired_over_the_common_seeds_and_said():
    iv = paired_interval({0: 1.0, 1: 2.0, 2: 9.0}, {0: 0.0, 1: 0.5, 3: 0.0})
    assert iv.seeds == [0, 1] and iv.delta == pytest.approx(1.25)
    assert 'paired over seeds 0, 1 only' in iv.notes[0] and 'baseline 0, 1, 3' in iv.notes[0]
    one = paired_interval({0: 1.0}, {0: 0.5})
    assert one.lo is None and one.distinguishable is None


def test_image_weights_count_image_ids_drawn_with_a_fixed_seed():
    w = image_weights(7, n_boot=50, seed=11)
    ids = np.random.default_rng(11).integers(0, 7, size=(50, 7))
    assert np.array_equal(w, np.stack([np.bincount(row, minlength=7) for row in ids]))
    assert (w.sum(1) == 7).all() and np.array_equal(w, image_weights(7, n_boot=50, seed=11))


# ----------------------------------------------------------------------------- the report


def _ap_and_data(gt, preds):
    """({'coco/bbox_mAP': AP, 'coco/segm_mAP': AP} unrounded, per-image data) of pycocotools' evaluation."""
    metrics, data = {}, {}
    for kind in ('bbox', 'segm'):
        with contextlib.redirect_stdout(io.StringIO()):
            api = COCO()
            api.dataset = copy.deepcopy(gt)
            api.createIndex()
            p = [{k: v for k, v in q.items() if k != 'bbox' or kind == 'bbox'} for q in preds]
            ev = COCOeval(api, api.loadRes(copy.deepcopy(p)), kind)
            ev.params.maxDets = [100, 300, 1000]
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        metrics[f'coco/{kind}_mAP'], data[kind] = float(ev.stats[0]), per_image.coco_data(ev)
    return metrics, data


def _run(work, variant, seed, metrics, data=None, **extra):
    folder = work / f'{variant}_seed{seed}'
    folder.mkdir(parents=True)
    (folder / 'results.json').write_text(
        json.dumps(
            dict(
                run=folder.name,
                variant=variant,
                seed=seed,
                task='coco',
                status='done',
                metrics=metrics,
                meta=dict(iterations=100, batch_size=4, gpus=1, train_images=200),
                **extra,
            )
        )
    )
    if data:
        per_image.save(folder / per_image.PER_IMAGE, data)


@pytest.fixture(scope='module')
def coco_grid(tmp_path_factory):
    """'drop' (worse scores) vs 'base', 2 seeds, with per-image data; references the SOLO paper's delta the
    wrong way round on purpose (the variant lacks the feature)."""
    work = tmp_path_factory.mktemp('grid') / 'g'
    work.mkdir()
    gt, preds = synthetic_coco(n_images=30, n_cats=4, size=(96, 128), false_positives=3, seed=5)
    rng = np.random.default_rng(0)
    values = {}
    for seed in (0, 1):
        for variant, noise in (('base', 0.05), ('drop', 0.6)):
            p = [dict(q, score=float(np.clip(q['score'] + rng.normal(0, noise), 0.01, 1))) for q in preds]
            metrics, data = _ap_and_data(gt, p)
            values[(variant, seed)] = (metrics, data)
            _run(work, variant, seed, metrics, data)
    grid = {
        'name': 'g',
        'seeds': [0, 1],
        'metrics': ['coco/bbox_mAP', 'coco/segm_mAP'],
        'variants': [
            {'name': 'base', 'baseline': 'base', 'solo_coords': True},
            {'name': 'drop', 'baseline': 'base', 'solo_coords': False},
        ],
        'references': {'drop': {'ref': 'paper/solo-coordconv'}},
    }
    (work / 'grid.json').write_text(json.dumps(grid))
    return work, values


def _coco_intervals(values):
    w = image_weights(30)
    out = {}
    for key in ('coco/bbox_mAP', 'coco/segm_mAP'):
        kind = key.split('/')[1].split('_')[0]
        boot = {s: tuple(coco_ap(values[(v, s)][1][kind], w) for v in ('drop', 'base')) for s in (0, 1)}
        out[key] = paired_interval(
            {s: values[('drop', s)][0][key] for s in (0, 1)}, {s: values[('base', s)][0][key] for s in (0, 1)}, boot
        )
    return out


def test_findings_come_first_with_the_interval_of_seeds_and_images_and_holm_verdicts(coco_grid, tmp_path):
    work, values = coco_grid
    md = (report.write_report(work, tmp_path / 'out') / 'report.md').read_text(encoding='utf-8')
    findings = md.split('\n## Findings\n')[1].split('\n## ')[0]
    # the sentences, then the plot of every difference with its interval, before any table
    assert md.index('## Findings') < md.index('- drop vs. base') < md.index('![') < md.index('| ')
    ivs = _coco_intervals(values)
    adjusted = holm([ivs['coco/bbox_mAP'].p, ivs['coco/segm_mAP'].p])  # the family: both headline comparisons
    assert 'a family of 2 comparisons' in findings and 'Holm-adjusted at a 5% familywise error rate' in findings
    for (key, iv), p in zip(ivs.items(), adjusted):
        assert iv.se_images > 0 and iv.se_seeds is not None and iv.lo < iv.delta < iv.hi
        word = 'distinguishable' if p < 0.05 else 'not distinguishable'
        text = (
            f'drop vs. base: {signed(key, iv.delta)} {"box" if "bbox" in key else "mask"} AP '
            f'[{signed(key, iv.lo)}, {signed(key, iv.hi)}], 2 seeds, {word} from zero (Holm, family of 2: '
            f'adjusted p = {p:.3g})'
        )
        assert f'- {md_escape(text)}' in findings
    assert 'seeds (n=2) + shared image term (paired image bootstrap, B=1000, cross-seed covariance)' in findings
    assert (tmp_path / 'out' / 'intervals_coco.png').read_bytes()[:4] == b'\x89PNG'


def test_every_interval_in_summary_csv_is_rebuilt_from_its_own_row(coco_grid, tmp_path):
    work, values = coco_grid
    report.write_report(work, tmp_path / 'out')
    with open(tmp_path / 'out' / 'summary.csv', newline='') as f:
        rows = [r for r in csv.DictReader(f) if r['ci_low']]
    assert {(r['variant'], r['metric']) for r in rows} == {('drop', 'coco/bbox_mAP'), ('drop', 'coco/segm_mAP')}
    ivs = _coco_intervals(values)
    for r in rows:
        df, level = float(r['df']), float(r['level'])
        se = math.hypot(float(r['se_seeds'] or 0), float(r['se_images'] or 0))
        q = stats.norm.ppf((1 + level) / 2) if math.isinf(df) else stats.t.ppf((1 + level) / 2, df)
        delta = float(r['paired_delta'])
        assert (float(r['ci_low']), float(r['ci_high'])) == pytest.approx((delta - q * se, delta + q * se), rel=1e-12)
        iv = ivs[r['metric']]
        assert [float(r[k]) for k in ('paired_delta', 'ci_low', 'ci_high', 'p')] == pytest.approx(
            [iv.delta, iv.lo, iv.hi, iv.p]
        )
        assert r['family_size'] == '2' and r['method'] == iv.method
        assert r['distinguishable'] == str(float(r['p_holm']) < 0.05).lower()


def test_a_grids_primary_comparisons_are_the_family_and_the_rest_is_secondary(coco_grid, tmp_path):
    work, values = coco_grid
    grid = json.loads((work / 'grid.json').read_text())
    (work / 'grid.json').write_text(json.dumps(dict(grid, primary=[{'variant': 'drop', 'metric': 'coco/segm_mAP'}])))
    try:
        out = report.write_report(work, tmp_path / 'out')
        res, _ = report.read_results(work)
    finally:
        (work / 'grid.json').write_text(json.dumps(grid))
    md = (out / 'report.md').read_text(encoding='utf-8')
    ivs = _coco_intervals(values)
    assert 'a family of 1 comparison (the comparisons the grid names as primary)' in md
    # the seed plan's Holm step is the family's too: alpha / 1, not alpha / 2 (the two headline comparisons)
    rows = {r.key: r for r in plan(res)}
    assert family_size(res) == 1 and rows['coco/segm_mAP'].detectable_family == pytest.approx(
        rows['coco/segm_mAP'].detectable
    )
    p = ivs['coco/segm_mAP'].p  # a family of one: Holm leaves p as it is
    assert md_escape(f'(Holm, family of 1: adjusted p = {p:.3g})') in md
    box = ivs['coco/bbox_mAP']
    assert (
        md_escape(
            'secondary (outside the primary family): unadjusted interval '
            f'{"excludes" if box.distinguishable else "includes"} zero'
        )
        in md
    )
    with open(out / 'summary.csv', newline='') as f:
        row = next(r for r in csv.DictReader(f) if r['variant'] == 'drop' and r['metric'] == 'coco/bbox_mAP')
    assert row['p_holm'] == '' and row['family_size'] == ''


def test_one_seed_gets_its_test_set_interval_and_no_verdict(coco_grid, tmp_path):
    work, values = coco_grid
    grid = json.loads((work / 'grid.json').read_text())
    one = tmp_path / 'one'
    one.mkdir()
    for name in ('drop_seed0', 'base_seed0'):
        (one / name).mkdir()
        for f in (work / name).iterdir():
            (one / name / f.name).write_bytes(f.read_bytes())
    (one / 'grid.json').write_text(json.dumps(dict(grid, seeds=[0])))
    out = report.write_report(one, tmp_path / 'out')
    md = (out / 'report.md').read_text(encoding='utf-8')
    sentences = [
        line
        for line in md.split('\n## Findings\n')[1].split('\n## ')[0].splitlines()
        if line.startswith('- drop vs. base')
    ]
    assert len(sentences) == 2
    for line in sentences:
        assert 'distinguishable' not in line and 'no verdict (one seed: test-set noise only)' in line
    assert 'No comparison carries a verdict' in md
    with open(out / 'summary.csv', newline='') as f:
        row = next(r for r in csv.DictReader(f) if r['variant'] == 'drop' and r['metric'] == 'coco/bbox_mAP')
    assert row['df'] == 'inf' and row['p'] == '' and row['distinguishable'] == '' and row['se_seeds'] == ''
    assert 'What this grid can resolve' in md and 'the seed noise needs two or more' in md


def test_published_difference_is_put_in_our_direction(coco_grid, tmp_path):
    work, values = coco_grid
    ref = REFERENCES['paper/solo-coordconv'][0]
    variants = [{'name': 'solo', 'solo_coords': True}, {'name': 'nc', 'solo_coords': False}, {'name': 'x'}]
    assert orientation(ref, variants, 'nc', 'solo') == -1 and orientation(ref, variants, 'solo', 'nc') == 1
    assert orientation(ref, variants, 'x', 'solo') is None  # same side of the feature: not comparable
    assert ref.kind == 'delta' and ref.value == 3.6 and ref.epochs == 36 and ref.multi_scale is True
    md = (report.write_report(work, tmp_path / 'out') / 'report.md').read_text(encoding='utf-8')
    row = next(
        line for line in md.split('\n## Published numbers (not ours)\n')[1].splitlines() if line.startswith('| drop |')
    )
    ours = np.mean(
        [values[('base', s)][0]['coco/segm_mAP'] - values[('drop', s)][0]['coco/segm_mAP'] for s in (0, 1)]
    )  # with - without
    assert '+3.6 (with \u2212 without the coordinate channels' in row
    # turned: the grid's Δ is drop − base
    assert md_escape(f'base \u2212 drop: {signed("coco/segm_mAP", ours)} [') in row
    assert 'published 36 epochs, multi-scale; ours 2 epochs, training scale not recorded: differs in schedule' in row


def _write(tmp_path, name, metrics_json):
    d = tmp_path / name
    d.mkdir()
    if metrics_json is not None:
        (d / 'metrics.json').write_text(metrics_json)
    cfg = Config(dict(test_dataloader=dict(dataset=dict(type='CocoDataset')), model=dict(), train_cfg=dict()))
    run = SimpleNamespace(name=name, variant=SimpleNamespace(name=name.split('_seed')[0]), seed=0)
    status = write_result(run, str(d), cfg, {}, __import__('datetime').datetime.now(), 1.0, None)
    return status, json.loads((d / 'results.json').read_text())


def test_evaluated_but_empty_is_ap_zero_and_missing_metrics_fail(tmp_path):
    work = tmp_path / 'w'
    work.mkdir()
    empty = json.dumps(
        dict(
            metrics={'coco/segm_mAP': 0.0, 'coco/segm_mAP_l': -1.0},
            test_images=3,
            no_detections=True,
            notes=['no detections: ...'],
        )
    )
    status, res = _write(work, 'solo_seed0', empty)
    assert status == 'done' and res['no_detections'] is True and res['metrics']['coco/segm_mAP'] == 0.0
    status, res = _write(work, 'lost_seed0', None)
    assert status == 'failed' and 'metrics.json is missing' in res['error']
    status, res = _write(work, 'torn_seed0', '{"metrics": {')
    assert status == 'failed' and 'metrics.json is unreadable' in res['error']
    # an older results.json of a model that predicted nothing: only the probe's keys, no AP at all
    (work / 'old_seed0').mkdir()
    (work / 'old_seed0' / 'results.json').write_text(
        json.dumps(dict(status='done', task='coco', metrics={'probe/H_spc': 0.1}, meta={}))
    )
    (work / 'grid.json').write_text(
        json.dumps(
            {
                'name': 'w',
                'seeds': [0],
                'metrics': ['coco/segm_mAP'],
                'variants': [{'name': n, 'baseline': 'solo'} for n in ('solo', 'lost', 'torn', 'old')],
            }
        )
    )
    md = (report.write_report(work, tmp_path / 'out') / 'report.md').read_text(encoding='utf-8')
    runs = md.split('\n## Runs\n')[1].split('\n## ')[0]
    assert '| solo_seed0 | done | 0.0 (no detections) |' in runs
    assert '| old_seed0 | done | 0.0 (no detections) |' in runs
    assert '| lost_seed0 | failed |' in runs and '| torn_seed0 | failed |' in runs
    assert 'not reported' not in md.split('\n## Runs\n')[0]
