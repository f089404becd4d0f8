"""Tests of harness/report.py and tools/report.py on synthetic grid work directories.

The fixtures write grid.json and results.json by hand, with values chosen so that means, sample
standard deviations and deltas can be computed on paper (see the comments next to each number).
"""

import base64
import csv
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import harness.report as report
from harness.errors import ConfigError, HarnessError
from harness.paths import REPO_ROOT
from harness.report.format import signed
from harness.report.write import md_escape

REPO = REPO_ROOT
TOOL = REPO / 'tools' / 'report.py'
EVIL = 'evil<script>'  # a variant name that must reach the HTML escaped
META = {
    'config': 'configs/x.py',
    'iterations': 200,
    'train_images': 64,
    'val_images': 32,
    'batch_size': 2,
    'image_size': '320x320',
    'commit': 'abc1234',
    'versions': {'torch': '2.1.0', 'mmdet': '3.3.0'},
    'hardware': '2-core x86_64 CPU, no GPU',
    'gpus': 0,
    'wall_s': 125.0,
    'started': '2024-01-01T00:00:00',
    'finished': '2024-01-01T00:02:05',
}


def _coco(bbox, segm, **extra):
    """mmdet CocoMetric-style metrics ([0, 1])."""
    m = {}
    for kind, ap in (('bbox', bbox), ('segm', segm)):
        m.update(
            {
                f'coco/{kind}_mAP': ap,
                f'coco/{kind}_mAP_50': ap + 0.2,
                f'coco/{kind}_mAP_75': ap - 0.05,
                f'coco/{kind}_mAP_s': ap / 3,
                f'coco/{kind}_mAP_m': ap,
                f'coco/{kind}_mAP_l': ap * 1.5,
            }
        )
    m.update(extra)
    return m


def _write_run(work, variant, seed, payload=None, raw=None):
    folder = work / f'{variant}_seed{seed}'
    folder.mkdir(parents=True)
    if raw is not None:
        (folder / 'results.json').write_text(raw)
    elif payload is not None:
        base = {'run': folder.name, 'variant': variant, 'seed': seed, 'task': 'coco', 'error': None, 'meta': dict(META)}
        base.update(payload)
        (folder / 'results.json').write_text(json.dumps(base))
    return folder


@pytest.fixture
def coco_grid(tmp_path):
    """zeros (baseline), circular, valid (nothing usable), evil<script> (one empty-metrics run)."""
    work = tmp_path / 'work_dirs' / 'pad'
    work.mkdir(parents=True)
    variants = [
        {
            'name': n,
            'baseline': 'zeros',
            'base': 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
            'padding': {'mode': n if n != EVIL else 'reflect', 'scope': ['backbone', 'neck']},
            'coordconv': None,
            'solo_coords': True,
            'cfg_options': {},
        }
        for n in ('zeros', 'circular', 'valid', EVIL)
    ]
    grid = {
        'name': 'pad',
        'description': 'Padding ablation <script>alert("desc")</script>',
        'baseline': 'zeros',
        'seeds': [0, 1, 2],
        'metrics': [],
        'variants': variants,
        'references': {
            'zeros': {'ref': 'mmdet/mask-rcnn_r50_fpn_1x_coco'},
            'circular': {'coco/bbox_mAP': 40.0, 'source': 'test fixture <script>src</script>'},
        },
    }
    (work / 'grid.json').write_text(json.dumps(grid))
    # zeros: bbox 0.30 0.31 0.32 -> 31.0 +- 1.0; segm 0.280 0.285 0.290 -> 28.5 +- 0.5; seed 2 has APs = -1
    for seed, (b, s) in enumerate(((0.30, 0.280), (0.31, 0.285), (0.32, 0.290))):
        m = _coco(b, s, **{'probe/H_spc': 1.5 + 0.1 * seed})
        if seed == 2:
            m['coco/bbox_mAP_s'] = -1
        meta = dict(META, hardware='8x NVIDIA A100') if seed == 2 else META
        _write_run(work, 'zeros', seed, {'status': 'done', 'metrics': m, 'meta': meta})
    # circular: bbox 0.320 0.322 0.330 -> 32.4 +- 0.529 (delta +1.4); segm 0.270 0.272 0.277 -> 27.3 +- 0.36 (-1.2)
    for seed, (b, s) in enumerate(((0.320, 0.270), (0.322, 0.272), (0.330, 0.277))):
        _write_run(work, 'circular', seed, {'status': 'done', 'metrics': _coco(b, s)})
    # valid: failed, missing (folder without results.json), unreadable
    _write_run(
        work,
        'valid',
        0,
        {'status': 'failed', 'metrics': {}, 'error': 'loss is nan at iteration 40 <script>alert(2)</script>'},
    )
    _write_run(work, 'valid', 1)
    _write_run(work, 'valid', 2, raw='{"status": "done", "metrics": {')
    # evil<script>: seed 0 predicted nothing (metrics {}), seed 1 bbox 0.2, seed 2 never started
    _write_run(work, EVIL, 0, {'status': 'done', 'metrics': {}})
    _write_run(work, EVIL, 1, {'status': 'done', 'metrics': _coco(0.2, 0.1)})
    return work


@pytest.fixture
def coco_report(coco_grid, tmp_path):
    out = tmp_path / 'out'
    paths = report.write_report_files(coco_grid, out)
    return out, paths


def _rows(path):
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def _summary(out, variant, metric):
    (row,) = [r for r in _rows(out / 'summary.csv') if r['variant'] == variant and r['metric'] == metric]
    return row


def _section(md, title):
    """The text of the `## title` section of report.md."""
    return md.split(f'\n## {title}\n')[1].split('\n## ')[0]


def _md_row(md, first_cell):
    rows = [line for line in md.splitlines() if line.startswith(f'| {first_cell} |')]
    assert rows, f'no table row starting with {first_cell!r}'
    return [c.strip() for c in rows[0].strip('|').split(' | ')]


def test_summary_csv_has_hand_computed_mean_std_delta(coco_report):
    out, _ = coco_report
    zeros = _summary(out, 'zeros', 'coco/bbox_mAP')
    assert float(zeros['mean']) == pytest.approx(0.31)
    assert float(zeros['std']) == pytest.approx(0.01)  # sample std (n - 1) of 0.30, 0.31, 0.32
    assert zeros['n'] == '3' and zeros['delta'] == ''
    circ = _summary(out, 'circular', 'coco/bbox_mAP')
    assert float(circ['mean']) == pytest.approx(0.324)
    assert float(circ['std']) == pytest.approx((56e-6 / 2) ** 0.5)  # deviations -4e-3, -2e-3, 6e-3
    assert float(circ['delta']) == pytest.approx(0.014)
    assert float(_summary(out, 'circular', 'coco/segm_mAP')['delta']) == pytest.approx(-0.012)
    # AP = -1 ("no small objects") is left out of the mean instead of dragging it down
    aps = _summary(out, 'zeros', 'coco/bbox_mAP_s')
    assert aps['n'] == '2' and float(aps['mean']) == pytest.approx((0.30 + 0.31) / 6)
    assert 'AP = -1' in aps['flags']


def test_results_csv_has_one_row_per_run_with_status(coco_report):
    out, _ = coco_report
    rows = {r['run']: r for r in _rows(out / 'results.csv')}
    assert len(rows) == 12
    assert rows['valid_seed0']['status'] == 'failed' and 'iteration 40' in rows['valid_seed0']['error']
    assert rows['valid_seed0']['iteration'] == '40'
    assert rows['valid_seed1']['status'] == 'missing'
    assert rows['valid_seed2']['status'] == 'unreadable' and 'results.json' in rows['valid_seed2']['error']
    assert rows[f'{EVIL}_seed2']['status'] == 'missing'
    empty = rows[f'{EVIL}_seed0']
    assert empty['no_detections'] == 'yes' and float(empty['coco/bbox_mAP']) == 0.0
    assert float(rows['circular_seed1']['coco/segm_mAP']) == pytest.approx(0.272)
    assert float(rows['zeros_seed0']['probe/H_spc']) == pytest.approx(1.5)


def test_markdown_headline_shows_x100_means_and_signed_deltas(coco_report):
    out, _ = coco_report
    md = (out / 'report.md').read_text(encoding='utf-8')
    assert _md_row(md, 'zeros')[:7] == ['zeros', 'zeros', '3/3', '31.0 ± 1.0', 'baseline', '28.5 ± 0.5', 'baseline']
    assert _md_row(md, 'circular')[:7] == ['circular', 'zeros', '3/3', '32.4 ± 0.5', '+1.4', '27.3 ± 0.4', '−1.2']
    assert _md_row(md, 'valid')[2:7] == ['0/3', 'failed', '—', 'failed', '—']
    # evil: bbox 0 (no detections) and 0.2 -> 10.0 +- 14.1 over 2 of 3 seeds, delta 10.0 - 31.0
    evil = _md_row(md, md_escape(EVIL))
    assert evil[3] == '10.0 ± 14.1 (n=2/3)' and evil[4] == '−21.0'
    assert 'no detections: seed 0' in evil[-1] and 'missing: seed 2' in evil[-1]
    assert 'x100' in md  # the caption says the COCO scale


def test_markdown_lists_failed_missing_unreadable_and_no_detection_runs(coco_report, coco_grid):
    out, _ = coco_report
    md = (out / 'report.md').read_text(encoding='utf-8')
    problems = _section(md, 'Failed, missing and unreadable runs')
    reason = 'loss is nan at iteration 40 \\<script\\>alert(2)\\</script\\>'  # markdown-escaped
    assert _md_row(problems, 'valid_seed0')[1:] == [reason, '40']
    assert 'no results.json' in _md_row(problems, 'valid_seed1')[1]
    assert str(coco_grid / 'valid_seed2' / 'results.json') in _md_row(problems, 'valid_seed2')[1]
    assert 'not started' in _md_row(problems, md_escape(f'{EVIL}_seed2'))[1]
    run = _md_row(_section(md, 'Runs'), md_escape(f'{EVIL}_seed0'))
    assert run[1] == 'done' and run[2] == '0.0 (no detections)'
    assert 'hardware: differs between runs' in md


def test_published_numbers_are_labelled_with_source(coco_report):
    out, _ = coco_report
    md = (out / 'report.md').read_text(encoding='utf-8')
    section = _section(md, 'Published numbers (not ours)')
    zeros_rows = [line for line in section.splitlines() if line.startswith('| zeros |')]
    assert {r.split(' | ')[3] for r in zeros_rows} == {'38.2', '34.7'}
    assert all('mask_rcnn/metafile.yml' in r for r in zeros_rows)
    assert '| circular | (grid.json) | bbox AP (x100) | 40.0 | 32.4 ± 0.5 |' in section


def test_html_is_self_contained_and_escapes_every_input(coco_report):
    out, _ = coco_report
    page = (out / 'report.html').read_text(encoding='utf-8')
    assert '<script' not in page.lower()
    assert '&lt;script&gt;' in page  # the names, description and error are there, escaped
    assert 'loss is nan at iteration 40' in page
    assert not re.search(r'(src|href)\s*=\s*["\']?\s*(https?:)?//', page, re.IGNORECASE)
    assert '<link' not in page and '@import' not in page
    images = re.findall(r'<img src="([^"]*)"', page)
    assert images and all(src.startswith('data:image/png;base64,') for src in images)
    for name in ('coco_bbox_mAP.png', 'delta_coco_segm_mAP.png'):
        data = base64.b64encode((out / name).read_bytes()).decode()
        assert f'data:image/png;base64,{data}"' in page


def test_plots_are_valid_pngs(coco_report):
    out, paths = coco_report
    names = {p.name for p in paths}
    expected = {'coco_bbox_mAP.png', 'delta_coco_bbox_mAP.png', 'coco_segm_mAP.png', 'delta_coco_segm_mAP.png'}
    assert expected <= names
    for name in expected:
        data = (out / name).read_bytes()
        assert data[:8] == b'\x89PNG\r\n\x1a\n' and data[12:16] == b'IHDR'
        width, height = struct.unpack('>II', data[16:24])
        assert width > 100 and height > 100
        assert data.endswith(b'IEND\xaeB`\x82')


def test_outputs_are_written_atomically_without_leftovers(coco_report):
    out, paths = coco_report
    assert paths[0] == out / 'report.md'
    assert {p.name for p in out.iterdir()} == {p.name for p in paths}  # no .tmp files left behind


def test_cityscapes_grid_reports_miou_and_per_class_iou(tmp_path):
    work = tmp_path / 'seg'
    work.mkdir()
    grid = {
        'name': 'seg',
        'description': '',
        'baseline': 'zeros',
        'seeds': [0, 1],
        'metrics': [],
        'variants': [{'name': 'zeros', 'baseline': 'zeros'}, {'name': 'reflect', 'baseline': 'zeros'}],
        'references': {'zeros': {'ref': 'mmseg/fcn_r50-d8_4xb2-80k_cityscapes-512x1024'}},
    }
    (work / 'grid.json').write_text(json.dumps(grid))
    # zeros mIoU 40, 42 -> 41.00 +- 1.41; reflect 43, 44 -> 43.50 +- 0.71, delta +2.50; IoU.pole delta -1.00
    for variant, mious, poles in (('zeros', (40.0, 42.0), (10.0, 12.0)), ('reflect', (43.0, 44.0), (9.0, 11.0))):
        for seed, (miou, pole) in enumerate(zip(mious, poles)):
            _write_run(
                work,
                variant,
                seed,
                {
                    'status': 'done',
                    'task': 'cityscapes',
                    'metrics': {'aAcc': 90.0, 'mIoU': miou, 'mAcc': 50.0, 'IoU.road': 95.0, 'IoU.pole': pole},
                },
            )
    out = report.write_report(work, tmp_path / 'out')
    md = (out / 'report.md').read_text(encoding='utf-8')
    assert _md_row(md, 'zeros')[3:5] == ['41.00 ± 1.41', 'baseline']
    assert _md_row(md, 'reflect')[3:5] == ['43.50 ± 0.71', '+2.50']
    assert _md_row(md, 'pole') == ['pole', '11.00 ± 1.41', '10.00 ± 1.41 (−1.00)']
    assert '73.61' in md  # published FCN number, from harness/references.py
    assert (out / 'mIoU.png').is_file() and (out / 'delta_mIoU.png').is_file()


def test_every_seed_failed_shows_failed_not_a_number(tmp_path):
    work = tmp_path / 'w'
    work.mkdir()
    grid = {'name': 'w', 'seeds': [0, 1], 'baseline': 'a', 'variants': [{'name': 'a'}, {'name': 'b'}]}
    (work / 'grid.json').write_text(json.dumps(grid))
    for seed in (0, 1):
        _write_run(work, 'a', seed, {'status': 'done', 'metrics': _coco(0.3 + seed / 100, 0.2)})
        _write_run(work, 'b', seed, {'status': 'failed', 'metrics': {}, 'error': f'CUDA out of memory (seed {seed})'})
    md = (report.write_report(work, tmp_path / 'out') / 'report.md').read_text(encoding='utf-8')
    assert _md_row(md, 'b')[2:5] == ['0/2', 'failed', '—']
    problems = _section(md, 'Failed, missing and unreadable runs')
    assert _md_row(problems, 'b_seed1')[1:] == ['CUDA out of memory (seed 1)', 'not recorded']


def test_signed_uses_explicit_signs():
    assert signed('coco/bbox_mAP', 0.008) == '+0.8'
    assert signed('coco/bbox_mAP', -0.012) == '\u22121.2'
    assert signed('mIoU', 0.0) == '\u00b10.00'


def test_default_out_dir_is_reports_in_the_repository():
    root = REPO_ROOT
    assert report.default_out_dir('pad') == root / 'reports' / 'pad'
    assert report.default_out_dir('../../etc') == root / 'reports' / 'etc'


def test_unknown_reference_key_names_grid_json(coco_grid, tmp_path):
    grid = json.loads((coco_grid / 'grid.json').read_text())
    grid['references'] = {'zeros': {'ref': 'mmdet/no-such-model'}}
    (coco_grid / 'grid.json').write_text(json.dumps(grid))
    with pytest.raises(ConfigError, match=r'grid\.json: references\.zeros\.ref: unknown reference'):
        report.write_report_files(coco_grid, tmp_path / 'out')
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize(
    'case, expect',
    [
        ('missing_dir', r'no such work directory'),
        ('no_grid', r'grid\.json: not found'),
        ('corrupt_grid', r'grid\.json: cannot read'),
        ('not_object', r'grid\.json: top level is list'),
        ('no_variants', r'grid\.json: variants'),
    ],
)
def test_bad_input_raises_harness_error_naming_the_file(tmp_path, case, expect):
    work = tmp_path / 'w'
    if case != 'missing_dir':
        work.mkdir()
    text = {'corrupt_grid': '{"name": "x", ', 'not_object': '[1, 2]', 'no_variants': '{"name": "x"}'}.get(case)
    if text is not None:
        (work / 'grid.json').write_text(text)
    with pytest.raises(HarnessError, match=expect):
        report.write_report_files(work, tmp_path / 'out')


def _cli_env():
    env = dict(os.environ)
    root = str(REPO_ROOT)  # where this `harness` was imported from
    env['PYTHONPATH'] = os.pathsep.join(p for p in (root, env.get('PYTHONPATH')) if p)
    return env


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(TOOL), str(tmp_path / 'nope')], capture_output=True, text=True, env=_cli_env(), timeout=300
    )
    assert proc.returncode == 2
    assert proc.stderr.count('\n') == 1 and proc.stderr.startswith('error: ')
    assert str(tmp_path / 'nope') in proc.stderr and 'Traceback' not in proc.stderr
    assert proc.stdout == ''


@pytest.mark.parametrize('text', [None, 'not json', '{"name": 3, "variants": []}'])
def test_cli_main_bad_grid_json(tmp_path, capsys, text):
    sys.path.insert(0, str(TOOL.parent))
    try:
        import report as tool  # tools/report.py
    finally:
        sys.path.remove(str(TOOL.parent))
    work = tmp_path / 'w'
    work.mkdir()
    if text is not None:
        (work / 'grid.json').write_text(text)
    assert tool.main([str(work)]) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and err.count('\n') == 1 and 'grid.json' in err


def test_cli_writes_and_prints_paths(coco_grid, tmp_path):
    out = tmp_path / 'cli_out'
    proc = subprocess.run(
        [sys.executable, str(TOOL), str(coco_grid), '--out', str(out)],
        capture_output=True,
        text=True,
        env=_cli_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    printed = proc.stdout.split()
    assert printed[0] == str(out / 'report.md') and str(out / 'report.html') in printed
    assert all(Path(p).is_file() for p in printed)


# ------------------------------------------------------------------------------- mixed-task grids

SOLO_CONFIG = """raise SystemExit('config.py must be parsed, never executed')
test_evaluator = dict(
    _scope_='mmdet',
    ann_file='data/tiny_coco/annotations/instances_val2017.json',
    metric='segm',
    type='CocoMetric')
"""


def _segm_only(ap):
    return {k: v for k, v in _coco(0.0, ap).items() if k.startswith('coco/segm')}


@pytest.fixture
def mixed_grid(tmp_path):
    """Mask R-CNN and SOLO (COCO) with FCN (Cityscapes) in one grid, two seeds each, like the smoke grid."""
    work = tmp_path / 'mixed'
    work.mkdir()
    pairs = (
        ('mrcnn', 'mrcnn'),
        ('mrcnn-cc', 'mrcnn'),
        ('solo', 'solo'),
        ('solo-nc', 'solo'),
        ('fcn', 'fcn'),
        ('fcn-none', 'fcn'),
    )
    grid = {
        'name': 'mixed',
        'baseline': 'mrcnn',
        'seeds': [0, 1],
        'metrics': [],
        'variants': [{'name': n, 'baseline': b} for n, b in pairs],
    }
    (work / 'grid.json').write_text(json.dumps(grid))
    # mrcnn bbox 0.30 0.32 -> 31.0 +- 1.4; mrcnn-cc 0.33 0.35 -> 34.0, delta +3.0
    for variant, boxes in (('mrcnn', (0.30, 0.32)), ('mrcnn-cc', (0.33, 0.35))):
        for seed, b in enumerate(boxes):
            _write_run(work, variant, seed, {'status': 'done', 'metrics': _coco(b, b - 0.02)})
    # solo: segm only, 0.20 0.22 -> 21.0 +- 1.4; solo-nc predicted nothing: {} -> segm 0, bbox n/a (config.py)
    for seed, s in enumerate((0.20, 0.22)):
        _write_run(work, 'solo', seed, {'status': 'done', 'metrics': _segm_only(s)})
        _write_run(work, 'solo-nc', seed, {'status': 'done', 'metrics': {}})
    (work / 'solo-nc_seed0' / 'config.py').write_text(SOLO_CONFIG)
    # fcn mIoU 40 42 -> 41.00 +- 1.41; fcn-none 43 44 -> 43.50 (+2.50); 'car' only in fcn-none, 'pole' only in fcn
    for variant, mious, extra in (('fcn', (40.0, 42.0), 'IoU.pole'), ('fcn-none', (43.0, 44.0), 'IoU.car')):
        for seed, miou in enumerate(mious):
            _write_run(
                work,
                variant,
                seed,
                {
                    'status': 'done',
                    'task': 'cityscapes',
                    'metrics': {
                        'aAcc': 90.0,
                        'mIoU': miou,
                        'mAcc': 50.0,
                        extra: 20.0 + seed,
                        'IoU.road': 95.0,
                        'border/mIoU@0-16': miou - 10,
                        'border/mIoU@16-inf': miou + 1,
                    },
                },
            )
    return work


def _table_after(md, heading):
    """The Markdown table rows (cells) that follow `heading` (a '## ' or '### ' line) up to the next heading."""
    text = md.split(f'\n{heading}\n')[1].split('\n#')[0]
    lines = [line for line in text.splitlines() if line.startswith('|')]
    return [[c.strip() for c in line.strip('|').split(' | ')] for line in lines[2:]]  # after header, |---|


def test_mixed_grid_headline_is_per_task(mixed_grid, tmp_path):
    md = (report.write_report(mixed_grid, tmp_path / 'out') / 'report.md').read_text(encoding='utf-8')
    headline = _section(md, 'Headline')
    coco = _table_after(headline, '### COCO variants')
    assert [r[0] for r in coco] == ['mrcnn', 'mrcnn-cc', 'solo', 'solo-nc']
    assert coco[1][3:7] == ['34.0 ± 1.4', '+3.0', '32.0 ± 1.4', '+3.0']
    assert coco[2][3:7] == ['n/a (model has no boxes)', 'baseline', '21.0 ± 1.4', 'baseline']
    # solo-nc predicted nothing: segm AP 0, bbox n/a because its config evaluates segm only
    assert coco[3][3:7] == ['n/a (model has no boxes)', 'n/a', '0.0 ± 0.0', '−21.0']
    assert coco[3][-1] == 'no detections: seed 0; no detections: seed 1'
    city = _table_after(headline, '### Cityscapes variants')
    assert city == [
        ['fcn', 'fcn', '2/2', '41.00 ± 1.41', 'baseline', ''],
        ['fcn-none', 'fcn', '2/2', '43.50 ± 0.71', '+2.50', ''],
    ]
    assert 'not reported' not in headline
    runs = _section(md, 'Runs')
    assert _md_row(runs, 'solo-nc_seed1')[2:4] == ['n/a (no boxes)', '0.0 (no detections)']
    assert _md_row(runs, 'fcn_seed0')[2] == '40.00'


def test_mixed_grid_tables_list_only_their_task(mixed_grid, tmp_path):
    out = report.write_report(mixed_grid, tmp_path / 'out')
    md = (out / 'report.md').read_text(encoding='utf-8')
    assert [r[0] for r in _table_after(md, '## Segmentation')] == ['fcn', 'fcn-none']
    assert [r[0] for r in _table_after(md, '## COCO Box AP')] == ['mrcnn', 'mrcnn-cc']
    assert 'Not listed (model has no boxes): solo, solo-nc.' in _section(md, 'COCO Box AP')
    assert [r[0] for r in _table_after(md, '## COCO Mask AP')] == ['mrcnn', 'mrcnn-cc', 'solo', 'solo-nc']
    per_class = _section(md, 'Per-class IoU')
    assert '| Class | fcn | fcn-none |' in per_class
    # only classes some run reports, in Cityscapes order (road, pole, car), never the other 16
    assert [r[0] for r in _table_after(md, '## Per-class IoU')] == ['road', 'pole', 'car']
    assert _md_row(per_class, 'car') == ['car', 'not reported', '20.50 ± 0.71']
    assert 'fcn' not in _section(md, 'COCO Mask AP') and 'mrcnn' not in _section(md, 'Segmentation')
    summary = _rows(out / 'summary.csv')
    assert {r['metric'] for r in summary if r['variant'] == 'fcn'} >= {'mIoU', 'IoU.car'}
    assert not any(r['metric'].startswith('coco/') for r in summary if r['task'] == 'cityscapes')
    assert {p.name for p in out.glob('*.png')} >= {
        'coco_bbox_mAP.png',
        'coco_segm_mAP.png',
        'mIoU.png',
        'delta_mIoU.png',
        'border_mIoU.png',
        'delta_border_mIoU.png',
    }


def test_mixed_grid_metrics_override_is_split_by_task(mixed_grid, tmp_path):
    grid = json.loads((mixed_grid / 'grid.json').read_text())
    grid['metrics'] = ['coco/segm_mAP', 'mIoU']
    (mixed_grid / 'grid.json').write_text(json.dumps(grid))
    md = (report.write_report(mixed_grid, tmp_path / 'out') / 'report.md').read_text(encoding='utf-8')
    headline = _section(md, 'Headline')
    assert '| Variant | vs. | runs with results | segm AP (x100) | Δ segm AP (x100) | notes |' in headline
    assert '| Variant | vs. | runs with results | mIoU | Δ mIoU | notes |' in headline
    assert 'bbox AP' not in headline


def test_n_is_shown_only_when_some_seeds_gave_no_value(tmp_path):
    work = tmp_path / 'one'
    work.mkdir()
    (work / 'grid.json').write_text(json.dumps({'name': 'one', 'seeds': [0], 'variants': [{'name': 'a'}]}))
    _write_run(work, 'a', 0, {'status': 'done', 'metrics': _coco(0.021, 0.022)})
    md = (report.write_report(work, tmp_path / 'out') / 'report.md').read_text(encoding='utf-8')
    assert _md_row(md, 'a')[3] == '2.1'
    assert '(n=' not in md


def test_no_detections_run_is_na_where_the_val_set_has_no_such_objects(tmp_path):
    work = tmp_path / 'w'
    work.mkdir()
    (work / 'grid.json').write_text(json.dumps({'name': 'w', 'seeds': [0], 'variants': [{'name': 'a'}, {'name': 'b'}]}))
    _write_run(work, 'a', 0, {'status': 'done', 'metrics': _coco(0.3, 0.2, **{'coco/bbox_mAP_l': -1})})
    _write_run(work, 'b', 0, {'status': 'done', 'metrics': {}})
    out = report.write_report(work, tmp_path / 'out')
    box = _table_after((out / 'report.md').read_text(encoding='utf-8'), '## COCO Box AP')
    assert box[1] == ['b', '0.0 (−30.0)', '0.0 (−50.0)', '0.0 (−25.0)', '0.0 (−10.0)', '0.0 (−30.0)', 'n/a']


def test_evaluated_coco_kinds_reads_config_without_running_it(tmp_path):
    from harness.report.finished_runs import FinishedRun, evaluated_coco_kinds

    folder = tmp_path / 'r'
    folder.mkdir()
    run = FinishedRun('r', 'r', 0, 'done', folder / 'results.json')
    assert evaluated_coco_kinds(run) is None  # no config.py
    for text, kinds in (
        (SOLO_CONFIG, {'segm'}),
        ("test_evaluator = dict(type='CocoMetric', metric=['bbox', 'segm'])", {'bbox', 'segm'}),
        ("test_evaluator = [{'type': 'CocoMetric'}, dict(type='DumpResults')]", {'bbox'}),
        ("test_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])", None),
        ('test_evaluator = dict(', None),
    ):
        (folder / 'config.py').write_text(text)
        assert evaluated_coco_kinds(run) == (frozenset(kinds) if kinds else None), text


# --------------------------------------------------------------------------- border and probe keys


@pytest.fixture
def border_grid(tmp_path):
    work = tmp_path / 'border'
    work.mkdir()
    grid = {
        'name': 'border',
        'seeds': [0, 1],
        'baseline': 'zeros',
        'variants': [{'name': 'zeros'}, {'name': 'circular'}],
    }
    (work / 'grid.json').write_text(json.dumps(grid))
    # border AP @0-32: zeros 0.10 0.12 -> 11.0 +- 1.4, circular 0.15 0.17 -> 16.0 (+5.0)
    # border AP @32-inf: zeros 0.30 0.30 -> 30.0 +- 0.0, circular 0.30 0.32 -> 31.0 (+1.0)
    # probe H_spc: zeros 0.5 0.7 -> 0.600 +- 0.141; circular 0.9 0.9 -> 0.900 (+0.300); H_mae 10, 12 / 4, 4
    values = {
        'zeros': ((0.10, 0.30, 0.5, 10.0), (0.12, 0.30, 0.7, 12.0)),
        'circular': ((0.15, 0.30, 0.9, 4.0), (0.17, 0.32, 0.9, 4.0)),
    }
    for variant, per_seed in values.items():
        for seed, (near, far, spc, mae) in enumerate(per_seed):
            _write_run(
                work,
                variant,
                seed,
                {
                    'status': 'done',
                    'metrics': _coco(
                        0.3,
                        0.2,
                        **{
                            'border/bbox_mAP@0-32': near,
                            'border/bbox_mAP@32-inf': far,
                            'probe/H_spc': spc,
                            'probe/H_mae': mae,
                            'probe/V_spc': spc / 2,
                            'probe/V_mae': mae * 2,
                            'extra/throughput': 7.0 + seed,
                        },
                    ),
                },
            )
    return work


def test_border_table_and_plots(border_grid, tmp_path):
    out = report.write_report(border_grid, tmp_path / 'out')
    md = (out / 'report.md').read_text(encoding='utf-8')
    section = _section(md, 'By distance to the image border')
    assert '| Variant | 0-32 | 32-inf |' in section
    assert _md_row(section, 'zeros') == ['zeros', '11.0 ± 1.4', '30.0 ± 0.0']
    assert _md_row(section, 'circular') == ['circular', '16.0 ± 1.4 (+5.0)', '31.0 ± 1.4 (+1.0)']
    assert '](border_bbox_mAP.png)' in section and '](delta_border_bbox_mAP.png)' in section
    for name in ('border_bbox_mAP.png', 'delta_border_bbox_mAP.png'):
        data = (out / name).read_bytes()
        assert data[:8] == b'\x89PNG\r\n\x1a\n' and struct.unpack('>II', data[16:24])[0] > 300
    assert 'border/' not in _section(md, 'Other metrics')


def test_probe_table_and_other_metrics(border_grid, tmp_path):
    md = (report.write_report(border_grid, tmp_path / 'out') / 'report.md').read_text(encoding='utf-8')
    probe = _section(md, 'Position read-out probe')
    assert '| Target | Variant | SPC | MAE |' in probe
    rows = _table_after(md, '## Position read-out probe')
    assert rows[:2] == [
        ['H', 'zeros', '0.600 ± 0.141', '11.000 ± 1.414'],
        ['H', 'circular', '0.900 ± 0.000 (+0.300)', '4.000 ± 0.000 (−7.000)'],
    ]
    assert [r[:2] for r in rows[2:]] == [['V', 'zeros'], ['V', 'circular']]
    other = _section(md, 'Other metrics')
    assert _md_row(other, 'extra/throughput')[1] == '7.5 ± 0.7071'
    assert 'probe/' not in other


def test_failed_probe_is_shown(tmp_path):
    """A run whose probe failed is done (its AP stands) but has no probe/* values: the report says which run
    and why, in the probe section and with the other problems, and states what the others were probed on."""
    work = tmp_path / 'probed'
    work.mkdir()
    (work / 'grid.json').write_text(
        json.dumps({'name': 'probed', 'seeds': [0, 1], 'baseline': 'zeros', 'variants': [{'name': 'zeros'}]})
    )
    settings = {'size': None, 'images': ['val'], 'seeds': [0, 1], 'max_images': 32}
    _write_run(
        work,
        'zeros',
        0,
        {
            'status': 'done',
            'metrics': _coco(0.3, 0.2, **{'probe/H_spc': 0.5}),
            'probe': dict(settings, status='done', error=None, input_size=[128, 128]),
        },
    )
    _write_run(
        work,
        'zeros',
        1,
        {
            'status': 'done',
            'metrics': _coco(0.3, 0.2),
            'probe': dict(settings, status='failed', error='out of memory at 800x1333'),
        },
    )
    md = (report.write_report(work, tmp_path / 'out') / 'report.md').read_text(encoding='utf-8')
    probe = _section(md, 'Position read-out probe')
    assert 'Probed on 128x128 (the training size), images val, seeds 0, 1 (results.json "probe").' in probe
    assert 'Probe failed, so no probe values: zeros_seed1 (out of memory at 800x1333).' in probe
    problems = _section(md, 'Failed, missing and unreadable runs')
    assert 'Runs whose position probe failed' in problems and _md_row(problems, 'zeros_seed1') == [
        'zeros_seed1',
        'out of memory at 800x1333',
    ]
    assert 'None: all' not in problems
    assert _md_row(_section(md, 'Headline'), 'zeros')[2] == '2/2'


def test_probe_keys_alone_still_mean_no_detections(tmp_path):
    """A run that evaluated, detected nothing (mmdet's CocoMetric returns {}) and was then probed has only
    probe/* keys: it is still a no-detections run (AP 0), not one whose AP is missing."""
    work = tmp_path / 'solo'
    work.mkdir()
    (work / 'grid.json').write_text(
        json.dumps({'name': 'solo', 'seeds': [0, 1], 'baseline': 'solo', 'variants': [{'name': 'solo'}]})
    )
    _write_run(work, 'solo', 0, {'status': 'done', 'metrics': {'probe/H_spc': 0.4, 'probe/H_mae': 0.2}})
    _write_run(work, 'solo', 1, {'status': 'done', 'metrics': _coco(0.2, 0.1, **{'probe/H_spc': 0.6})})
    out = tmp_path / 'out'
    report.write_report_files(work, out)
    rows = {r['run']: r for r in _rows(out / 'results.csv')}
    assert rows['solo_seed0']['no_detections'] == 'yes' and float(rows['solo_seed0']['coco/segm_mAP']) == 0.0
    assert rows['solo_seed1']['no_detections'] != 'yes'
    assert float(rows['solo_seed0']['probe/H_spc']) == pytest.approx(0.4)
