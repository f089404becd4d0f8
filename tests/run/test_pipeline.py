"""The main job end to end, as a user runs it: tools/run_ablation.sh -> runs -> results.json -> report.

These tests train for real (tiny data, CPU). The smoke grid runs as shipped but for its schedule: Mask
R-CNN and FCN train 4 iterations instead of 40 / 30 and are evaluated on 8 val images, and the probe reads
8 images instead of 32 (the suite checks that every piece runs and lands in the report; the numbers of the
full schedule are the main job's, reports/smoke/); `solo` keeps its 150 iterations and all 16 val images,
the fewest at which it detects anything, which the test checks (`solo-nocoord`, plumbing only, trains 4).
"""

import json

import pytest
import yaml
from grid_cli import read_result as _result
from grid_cli import run_grid as _run
from grid_cli import write_grid as _grid

from harness.paths import REPO_ROOT

REPO = REPO_ROOT
SMOKE_RUNS = [
    'mask-rcnn_seed0',
    'mask-rcnn-none_seed0',
    'mask-rcnn-coordconv_seed0',
    'solo_seed0',
    'solo-nocoord_seed0',
    'fcn_seed0',
    'fcn-none_seed0',
]
pytestmark = pytest.mark.usefixtures('repo_tiny_data')  # the smoke configs read data/


SMOKE_ITERS = 4  # every variant but `solo` in the suite (the main job: Mask R-CNN 40, FCN 30, SOLO 150)
SOLO_ITERS = 150  # `solo` keeps the main job's: the fewest at which SOLO detects anything
EVAL_IMAGES = 8  # of the 4-iteration runs, on the first val images (of 16 / 11): plumbing, not numbers


@pytest.fixture(scope='module')
def smoke(tmp_path_factory):
    """The smoke grid on generated data, on the suite's schedule: (folder, process, grid path)."""
    tmp = tmp_path_factory.mktemp('smoke')
    data = yaml.safe_load((REPO / 'configs/ablations/smoke.yaml').read_text())
    for v in data['variants']:  # relative `base` paths stay: a grid's are taken from the repository root
        if v['name'] != 'solo':  # and each on the first EVAL_IMAGES val images
            v['cfg_options'] = {
                **v.get('cfg_options', {}),
                'train_cfg.max_iters': SMOKE_ITERS,
                'test_dataloader.dataset.indices': EVAL_IMAGES,
            }
    data['probe'] = {'max_images': 8}
    grid = _grid(tmp, yaml.safe_dump(data))
    proc = _run(grid, '--work-dir', str(tmp / 'work'), '--report-dir', str(tmp / 'report'))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return tmp, proc, grid


def test_smoke_grid_trains_evaluates_and_reports_every_run(smoke):
    tmp, proc, _ = smoke
    work, report = tmp / 'work', (tmp / 'report' / 'report.md').read_text()
    for run in SMOKE_RUNS:
        result = _result(work, 'smoke', run)
        assert result['status'] == 'done', result
        assert result['meta']['iterations'] == (SOLO_ITERS if run == 'solo_seed0' else SMOKE_ITERS)
        assert result['meta']['train_images'] > 0
        assert (work / 'smoke' / run / 'patch_report.json').exists()
        assert run in report
        if run.startswith('fcn'):
            assert 0 <= result['metrics']['mIoU'] <= 100 and 'IoU.road' in result['metrics']
        elif run.startswith('mask-rcnn'):
            assert 0 <= result['metrics']['coco/bbox_mAP'] <= 1 and 0 <= result['metrics']['coco/segm_mAP'] <= 1
        elif run == 'solo_seed0':  # SOLO predicts masks only: mask AP, no box AP; its recipe must detect something
            assert 0 < result['metrics']['coco/segm_mAP'] <= 1 and 'coco/bbox_mAP' not in result['metrics'], result
            assert not result['no_detections'], result
        else:  # 4 iterations: detections or none, the masks' AP reaches the report either way
            assert 0 <= result['metrics']['coco/segm_mAP'] <= 1 and 'coco/bbox_mAP' not in result['metrics'], result
        _assert_border_and_probe(run, result)
        _assert_timing(result['timing'])
    assert '| Training loop |' in report
    patch = json.loads((work / 'smoke' / 'mask-rcnn-none_seed0' / 'patch_report.json').read_text())
    assert {e['action'] for e in patch['padding']['layers']} == {'none'}
    assert _result(work, 'smoke', 'mask-rcnn-coordconv_seed0')['meta']['patch_report']
    for name in ('report.html', 'results.csv'):
        assert (tmp / 'report' / name).stat().st_size > 0


# The smoke grid has `border: true` and `probe: true`: every run must carry both, with the bins its
# evaluator was given (COCO: the default 0 / 1 / 32 / 96 px; FCN: the grid's [0, 16, 40]) and the five
# probe targets, probed at the size the run trained at on its own val images.
COCO_BINS = ('0-1', '1-32', '32-96', '96-inf')
SEG_BINS = ('0-16', '16-40', '40-inf')


def _assert_border_and_probe(run, result):
    metrics = result['metrics']
    if run.startswith('fcn'):
        border = {f'border/{m}@{b}' for m in ('mIoU', 'aAcc') for b in SEG_BINS}
    else:
        kinds = ('segm',) if run.startswith('solo') else ('bbox', 'segm')
        border = {f'border/{k}_mAP@{b}' for k in kinds for b in COCO_BINS} | {f'border/count@{b}' for b in COCO_BINS}
    assert border <= set(metrics), (run, sorted(border - set(metrics)))
    assert all(
        m == -1 or 0 <= m <= (100 if run.startswith('fcn') else 1)
        for k, m in metrics.items()
        if k.startswith('border/') and 'count' not in k
    ), metrics
    probe = {f'probe/{t}_{s}' for t in ('H', 'V', 'G', 'HS', 'VS') for s in ('spc', 'mae')}
    assert probe <= set(metrics), (run, sorted(probe - set(metrics)))
    assert all(
        -1 <= metrics[f'probe/{t}_spc'] <= 1 and 0 <= metrics[f'probe/{t}_mae'] <= 1
        for t in ('H', 'V', 'G', 'HS', 'VS')
    ), metrics
    record = result['probe']
    assert record['status'] == 'done' and record['error'] is None and record['images'] == ['val'], record
    assert record['input_size'] == ([128, 256] if run.startswith('fcn') else [128, 128]), record


def _assert_timing(timing):
    """results.json's `timing` (harness/run/timing.py): every phase of the one child measured, the phases add up
    to the run's wall time, and the shares are shares."""
    phases = timing['phases']
    assert timing['attempts'] == 1 and sum(phases.values()) == pytest.approx(timing['wall'], abs=0.5), timing
    assert all(
        phases[k] > 0
        for k in (
            'preflight',
            'startup',
            'model_build',
            'train_setup',
            'train_data',
            'train_compute',
            'checkpoint',
            'evaluate',
            'probe',
        )
    ), timing
    loop = (phases['train_data'] + phases['train_compute']) / timing['wall']
    assert timing['train_loop_share'] == pytest.approx(loop, abs=2e-3) and 0 < loop < 1, timing
    useful = loop + (phases['evaluate'] + phases['probe']) / timing['wall']
    assert timing['overhead'] == pytest.approx(1 - useful, abs=2e-3), timing


def test_rerun_skips_finished_runs(smoke):
    tmp, _, grid = smoke
    before = {r: (tmp / 'work' / 'smoke' / r / 'results.json').stat().st_mtime_ns for r in SMOKE_RUNS}
    proc = _run(grid, '--work-dir', str(tmp / 'work'), '--report-dir', str(tmp / 'report'), timeout=300)
    assert proc.returncode == 0 and '7 runs, 7 already finished' in proc.stdout
    assert before == {r: (tmp / 'work' / 'smoke' / r / 'results.json').stat().st_mtime_ns for r in SMOKE_RUNS}
