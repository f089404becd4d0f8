"""Intervals of a difference (seeds, images, both), the report's findings built on them, published
differences put in our direction, and runs that evaluated nothing vs runs whose metrics are missing.

Hand formulas: the t quantiles are the table values t(0.975, 2) = 4.302652729749464 and
z(0.975) = 1.959963984540054; the Welch-Satterthwaite degrees of freedom are worked out in the test.
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
from harness.report.intervals import image_weights, paired_interval, t_interval
from harness.report.format import signed
from harness.report.references import REFERENCES, orientation
from harness.report.write import md_escape
from harness.run.results import write_result

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
    assert iv.distinguishable is False and iv.se_images is None and "seeds only" in iv.method  # [-1.5, 6.1]


def test_images_only_with_one_seed_is_the_normal_interval_of_the_bootstrap():
    boot = {0: (np.array([0.30, 0.32, 0.34, 0.36]), np.array([0.30, 0.30, 0.30, 0.30]))}
    iv = paired_interval({0: 0.33}, {0: 0.30}, boot)
    sd = np.std([0.0, 0.02, 0.04, 0.06], ddof=1)
    assert (iv.lo, iv.hi) == pytest.approx((0.03 - Z * sd, 0.03 + Z * sd), abs=1e-12)
    assert iv.se_seeds is None and 'one seed' in iv.method and iv.distinguishable is False


def test_seeds_and_images_combine_as_variances_with_welch_satterthwaite():
    v, b = {0: 0.5, 1: 0.7, 2: 0.6}, {0: 0.1, 1: 0.2, 2: 0.3}
    diffs = np.array([0.4, 0.5, 0.3])
    var_seeds = diffs.var(ddof=1) / 3
    shift = np.array([-0.02, 0.0, 0.01, 0.03])  # every seed's variant moves with the same resample
    boot = {s: (v[s] + shift, np.full(4, b[s])) for s in v}
    var_images = shift.var(ddof=1)
    dof = (var_seeds + var_images) ** 2 / (var_seeds ** 2 / 2)
    half = stats.t.ppf(0.975, dof) * math.sqrt(var_seeds + var_images)
    iv = paired_interval(v, b, boot)
    assert (iv.delta, iv.lo, iv.hi) == pytest.approx((0.4, 0.4 - half, 0.4 + half), abs=1e-12)
    assert T_2 > stats.t.ppf(0.975, dof) > Z  # between the seeds-only and the images-only quantiles


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
    (folder / 'results.json').write_text(json.dumps(dict(
        run=folder.name, variant=variant, seed=seed, task='coco', status='done', metrics=metrics,
        meta=dict(iterations=100, batch_size=4, gpus=1, train_images=200), **extra)))
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
    grid = {'name': 'g', 'seeds': [0, 1], 'metrics': ['coco/bbox_mAP', 'coco/segm_mAP'],
            'variants': [{'name': 'base', 'baseline': 'base', 'solo_coords': True},
                         {'name': 'drop', 'baseline': 'base', 'solo_coords': False}],
            'references': {'drop': {'ref': 'paper/solo-coordconv'}}}
    (work / 'grid.json').write_text(json.dumps(grid))
    return work, values


def test_findings_come_first_with_the_interval_of_seeds_and_images(coco_grid, tmp_path):
    work, values = coco_grid
    md = (report.write_report(work, tmp_path / 'out') / 'report.md').read_text(encoding='utf-8')
    findings = md.split('\n## Findings\n')[1].split('\n## ')[0]
    # the sentences, then the plot of every difference with its interval, before any table
    assert md.index('## Findings') < md.index('- drop vs. base') < md.index('![') < md.index('| ')
    w = image_weights(30)
    boot = {s: tuple(coco_ap(values[(v, s)][1]['bbox'], w) for v in ('drop', 'base')) for s in (0, 1)}
    iv = paired_interval({s: values[('drop', s)][0]['coco/bbox_mAP'] for s in (0, 1)},
                         {s: values[('base', s)][0]['coco/bbox_mAP'] for s in (0, 1)}, boot)
    assert iv.se_images > 0 and iv.se_seeds is not None and iv.lo < iv.delta < iv.hi
    key = 'coco/bbox_mAP'
    text = (f'drop vs. base: {signed(key, iv.delta)} box AP [{signed(key, iv.lo)}, {signed(key, iv.hi)}], 2 seeds, '
            f'{"distinguishable" if iv.distinguishable else "not distinguishable"} from zero')
    assert f'- {md_escape(text)}' in findings
    assert 'seeds (n=2) + images (paired bootstrap, B=1000)' in findings
    assert (tmp_path / 'out' / 'intervals_coco.png').read_bytes()[:4] == b'\x89PNG'
    with open(tmp_path / 'out' / 'summary.csv', newline='') as f:
        row = next(r for r in csv.DictReader(f) if r['variant'] == 'drop' and r['metric'] == 'coco/bbox_mAP')
    assert [float(row[k]) for k in ('paired_delta', 'ci95_low', 'ci95_high')] == pytest.approx([iv.delta, iv.lo, iv.hi])
    assert row['distinguishable'] == str(iv.distinguishable).lower()


def test_published_difference_is_put_in_our_direction(coco_grid, tmp_path):
    work, values = coco_grid
    ref = REFERENCES['paper/solo-coordconv'][0]
    variants = [{'name': 'solo', 'solo_coords': True}, {'name': 'nc', 'solo_coords': False}, {'name': 'x'}]
    assert orientation(ref, variants, 'nc', 'solo') == -1 and orientation(ref, variants, 'solo', 'nc') == 1
    assert orientation(ref, variants, 'x', 'solo') is None  # same side of the feature: not comparable
    assert ref.kind == 'delta' and ref.value == 3.6 and ref.epochs == 36 and ref.multi_scale is True
    md = (report.write_report(work, tmp_path / 'out') / 'report.md').read_text(encoding='utf-8')
    row = next(line for line in md.split('\n## Published numbers (not ours)\n')[1].splitlines()
               if line.startswith('| drop |'))
    ours = np.mean([values[('base', s)][0]['coco/segm_mAP'] - values[('drop', s)][0]['coco/segm_mAP']
                    for s in (0, 1)])  # with - without
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
    empty = json.dumps(dict(metrics={'coco/segm_mAP': 0.0, 'coco/segm_mAP_l': -1.0}, test_images=3,
                            no_detections=True, notes=['no detections: ...']))
    status, res = _write(work, 'solo_seed0', empty)
    assert status == 'done' and res['no_detections'] is True and res['metrics']['coco/segm_mAP'] == 0.0
    status, res = _write(work, 'lost_seed0', None)
    assert status == 'failed' and 'metrics.json is missing' in res['error']
    status, res = _write(work, 'torn_seed0', '{"metrics": {')
    assert status == 'failed' and 'metrics.json is unreadable' in res['error']
    # an older results.json of a model that predicted nothing: only the probe's keys, no AP at all
    (work / 'old_seed0').mkdir()
    (work / 'old_seed0' / 'results.json').write_text(json.dumps(dict(
        status='done', task='coco', metrics={'probe/H_spc': 0.1}, meta={})))
    (work / 'grid.json').write_text(json.dumps({'name': 'w', 'seeds': [0], 'metrics': ['coco/segm_mAP'], 'variants': [
        {'name': n, 'baseline': 'solo'} for n in ('solo', 'lost', 'torn', 'old')]}))
    md = (report.write_report(work, tmp_path / 'out') / 'report.md').read_text(encoding='utf-8')
    runs = md.split('\n## Runs\n')[1].split('\n## ')[0]
    assert '| solo_seed0 | done | 0.0 (no detections) |' in runs
    assert '| old_seed0 | done | 0.0 (no detections) |' in runs
    assert '| lost_seed0 | failed |' in runs and '| torn_seed0 | failed |' in runs
    assert 'not reported' not in md.split('\n## Runs\n')[0]
