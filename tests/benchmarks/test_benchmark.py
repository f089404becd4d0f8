"""tools/benchmark.py's plumbing: rounds, ratios, the report, error rows. Tiny sizes and repeats; no timing asserts."""

import re
import subprocess
from pathlib import Path

import pytest
import torch
from tool_loader import load_tool

from benchmarks import coco_eval, models, timing
from harness.paths import REPO_ROOT

ROOT = REPO_ROOT


def _load_tool():
    return load_tool('benchmark')


@pytest.fixture(scope='module')
def tool():
    return _load_tool()


def _rows(text):
    """{measurement text: [cells]} of the Markdown results table."""
    rows = {}
    for line in text.splitlines():
        if line.startswith(('| Mask R-CNN', '| DeepLabV3', '| COCO', '| CPU smoke')):
            cells = [c.strip() for c in line.strip('|').split('|')]
            rows[cells[0]] = cells
    return rows


def test_ratio_stats_is_median_of_per_round_ratios():
    s = timing.ratio_stats([2.0, 3.0, 10.0, 4.0], [1.0, 3.0, 5.0, 1.0])  # ratios 2, 1, 2, 4
    assert (s['median'], s['min'], s['max'], s['n']) == (2.0, 1.0, 4.0, 4)
    assert s['q1'] == pytest.approx(1.75) and s['q3'] == pytest.approx(2.5)
    assert (s['num_median'], s['den_median']) == (3.5, 2.0)
    with pytest.raises(ValueError):
        timing.ratio_stats([1.0, 2.0], [1.0])


def test_interleaved_rotates_the_order_every_round():
    calls = []
    fns = {name: (lambda n=name: calls.append(n)) for name in 'abc'}
    rounds = []
    times = timing.interleaved(fns, rounds=3, warmup=1, after_round=lambda r, n: rounds.append((r, n)))
    assert calls[:3] == ['a', 'b', 'c']  # warm-up
    assert calls[3:] == ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']  # each name once in each position
    assert rounds == [(1, 3), (2, 3), (3, 3)]
    assert all(len(t) == 3 and all(w >= 0 and c >= 0 for w, c in t) for t in times.values())


def test_only_rejects_unknown_names(tool, capsys):
    with pytest.raises(SystemExit):
        tool.parse_args(['--only', 'mask-rcnn/nope'])
    err = capsys.readouterr().err
    assert re.search(r"'mask-rcnn/nope' matches no measurement; expected one of: .*coco-eval/segm", err)
    assert [m['name'] for m in tool.selected(tool.parse_args(['--only', '*/partial-*']))] == [
        'mask-rcnn/partial-vs-zeros',
        'deeplabv3/partial-vs-zeros',
    ]


def test_quick_run_writes_the_report(tool, tmp_path):
    out = tmp_path / 'b.md'
    argv = [
        '--quick',
        '--device',
        'cpu',
        '--repeats',
        '2',
        '--det-size',
        '128x128',
        '--det-objects',
        '4',
        '--seg-size',
        '64x96',
        '--coco-images',
        '8',
        '--out',
        str(out),
        '--only',
        'mask-rcnn/stock-vs-stock',
        '--only',
        'mask-rcnn/zeros-vs-stock',
        '--only',
        'mask-rcnn/coordconv-vs-stock',
        '--only',
        'mask-rcnn/none-vs-zeros',  # at 128x128 RPN's conv meets a 2x2 level: an error row
        '--only',
        'deeplabv3/reflect-vs-*',
        '--only',
        'coco-eval*',
        '--only',
        'smoke-grid',
    ]
    threads = torch.get_num_threads()
    assert tool.main(argv) == 1  # the `none` row could not be measured
    assert torch.get_num_threads() == threads  # the run's 1 thread does not leak into the process
    text = out.read_text()
    assert '- command: `python tools/benchmark.py --quick --device cpu' in text
    assert re.search(r'- machine: CPU .+, \d+ logical cores .*torch \S+ with 1 CPU thread', text)
    assert re.search(r'- load: 1-min load average over \d+ samples: median \d+\.\d\d', text)
    rows = _rows(text)
    assert len(rows) == 11
    ok = [cells for what, cells in rows.items() if 'none /' not in what and 'smoke' not in what]
    assert len(ok) == 9
    for cells in ok:
        ratio, measured_ms, reference_ms = float(cells[1].strip('*')), float(cells[6]), float(cells[7])
        assert ratio > 0 and measured_ms > 0 and reference_ms > 0 and cells[9] == '2'
        assert cells[5] in ('pass', 'FAIL') or cells[4:6] == ['control', '–']
    for marker in ('stock / stock', "reflect / PyTorch's own padding_mode='reflect'"):
        control = next(cells for what, cells in rows.items() if marker in what)
        assert control[4:6] == ['control', '–']
    none = next(cells for what, cells in rows.items() if 'none /' in what)
    assert none[1].startswith('error: PaddingError: rpn_head.rpn_conv') and none[5] == 'FAIL'
    assert re.search(
        r'mask-rcnn/stock-vs-stock, mask-rcnn/zeros-vs-stock, mask-rcnn/none-vs-zeros, '
        r'mask-rcnn/coordconv-vs-stock: 4 ground-truth objects per image; RoIs entering the mask head '
        r'per step \(median\): stock \d+, stock-copy \d+, zeros \d+, coordconv \d+$',
        text,
        re.M,
    )
    smoke = next(cells for what, cells in rows.items() if 'smoke' in what)
    assert smoke[1] == 'not measured in this run (use --smoke-grid)'
    # the metrics of both backends, per measurement: mmdet's keys through BorderCocoMetric, COCO's 12 stats direct
    assert re.search(r'\| coco-eval/segm \| segm_mAP \| \d\.\d{4} \| \d\.\d{4} \| 0\.0e\+00 \|', text)
    assert re.search(r'\| coco-eval/bbox \| border/bbox_mAP@0-1 \|', text)
    assert len(re.findall(r'^\| coco-eval-direct/bbox \| ', text, re.M)) == 12


def test_coco_backends_that_disagree_fail_the_run(tool, tmp_path, monkeypatch):
    real = coco_eval.coco_evaluator

    def skewed(backend, gt, threads=None):
        run = real(backend, gt, threads)
        return (lambda preds, iou: [s + 1e-3 for s in run(preds, iou)]) if backend == 'faster' else run

    monkeypatch.setattr(coco_eval, 'coco_evaluator', skewed)
    out = tmp_path / 'b.md'
    assert (
        tool.main(
            ['--quick', '--repeats', '1', '--coco-images', '5', '--only', 'coco-eval-direct/bbox', '--out', str(out)]
        )
        == 1
    )
    row = next(iter(_rows(out.read_text()).values()))
    assert re.fullmatch(r'FAIL \(metrics differ by 1\.00e-03 \(> 0\.0001\)\)', row[5])


def test_smoke_grid_is_timed_with_its_own_work_and_report_dirs(tool, tmp_path, monkeypatch):
    seen, real_run = [], subprocess.run

    def fake_run(cmd, **kwargs):
        if cmd[:2] != ['bash', 'tools/run_ablation.sh']:
            return real_run(cmd, **kwargs)  # git, for the report's commit line
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(subprocess, 'run', fake_run)
    out = tmp_path / 'b.md'
    assert tool.main(['--only', 'smoke-grid', '--smoke-grid', '--out', str(out)]) == 0
    (cmd,) = seen
    assert cmd[:2] == ['bash', 'tools/run_ablation.sh'] and '--work-dir' in cmd and '--report-dir' in cmd
    row = next(iter(_rows(out.read_text()).values()))
    assert re.fullmatch(r'\d+ s \(0 min \d+ s\)', row[1]) and row[5] == 'pass'


def test_torch_reflect_control_pads_as_the_harness_does():
    """The control model: PyTorch's own padding_mode='reflect' on exactly the convs the harness converts."""
    import copy

    import torch.nn as nn

    from harness import convert_padding

    torch.manual_seed(0)
    stock = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=2, dilation=2), nn.Conv2d(4, 2, 1)
    )
    ours, theirs = copy.deepcopy(stock), copy.deepcopy(stock)
    convert_padding(ours, 'reflect')
    models.torch_reflect(theirs, 'all')
    assert [m.padding_mode for m in theirs if isinstance(m, nn.Conv2d)] == ['reflect', 'reflect', 'zeros']
    x = torch.randn(2, 3, 11, 13)
    torch.testing.assert_close(theirs(x), ours(x))
    assert not torch.allclose(theirs(x), stock(x))


def test_partial_cache_row_compares_the_old_2d_cache_with_the_1d_one(tool, tmp_path):
    """Plumbing of the partial-cache measurement: both caches on the same sizes, same features, bytes in the row."""
    out = tmp_path / 'b.md'
    assert tool.main(['--device', 'cpu', '--only', 'partial-cache/*', '--partial-sizes', '3', '--out', str(out)]) == 0
    text = out.read_text()
    row = next(line for line in text.splitlines() if line.startswith('| Mask R-CNN R-18-FPN backbone + neck, partial'))
    cells = [c.strip() for c in row.strip('|').split('|')]
    assert cells[0].endswith('3 sizes') and re.fullmatch(r'\*\*\d+x less\*\*', cells[1]), cells
    assert cells[6].endswith('KiB') and cells[7].endswith('MiB')
    assert re.search(r'partial-cache/sizes: 26 partial layers .* features of the two agree to \S+ \(relative\)', text)


def test_coverage_row_writes_the_table_of_every_regime_and_seed_count(tool, tmp_path):
    out = tmp_path / 'b.md'
    assert tool.main(['--only', 'intervals/coverage', '--coverage-reps', '40', '--out', str(out)]) == 0
    text = out.read_text()
    assert "## Coverage of the report's 95% interval" in text
    rows = [
        line
        for line in text.splitlines()
        if line.startswith(('| seed-dominant', '| image-dominant', '| interaction-dominant', '| balanced'))
    ]
    assert [r.split(' | ')[1] for r in rows] == ['2', '3', '5'] * 4
    worst = min(float(r.split(' | ')[2].split(' ')[0]) for r in rows)
    assert f'**{worst:.3f}**' in text and '40 grids per cell' in text


@pytest.mark.parametrize('overheads,shown,result', [((0.12, 0.31), '31%', 'FAIL'), ((0.12, 0.2), '20%', 'pass')])
def test_smoke_overhead_row_is_the_worst_runs_timing(tool, tmp_path, monkeypatch, overheads, shown, result):
    """The overhead row reads `timing` from each results.json the timed smoke grid wrote; a missed target shows
    as FAIL in the table (the exit status is about measurements that could not be made)."""
    import json

    real_run = subprocess.run

    def fake_run(cmd, **kwargs):
        if cmd[:2] != ['bash', 'tools/run_ablation.sh']:
            return real_run(cmd, **kwargs)
        grid = Path(cmd[cmd.index('--work-dir') + 1]) / 'smoke'
        for i, overhead in enumerate(overheads):
            (grid / f'run{i}_seed0').mkdir(parents=True)
            (grid / f'run{i}_seed0' / 'results.json').write_text(
                json.dumps(
                    dict(timing=dict(overhead=overhead, wall=100.0, phases=dict(train_data=10.0, train_compute=50.0)))
                )
            )
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(subprocess, 'run', fake_run)
    out = tmp_path / 'b.md'
    assert tool.main(['--only', 'smoke-*', '--smoke-grid', '--out', str(out)]) == 0
    row = next(cells for what, cells in _rows(out.read_text()).items() if 'overhead' in what)
    assert row[1] == f'**{shown}**' and row[4] == '≤ 25%' and row[5] == result, row
    assert 'run1_seed0' in out.read_text()  # each run in the note
