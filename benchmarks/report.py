"""reports/benchmarks.md from the measurements of tools/benchmark.py: one table row per measurement,
with its target and pass / FAIL, the machine, the commit, and the notes."""

import os
import platform

from harness.run.environment import commit

COCO_TOLERANCE = 1e-4  # the 12 COCO stats of pycocotools and faster-coco-eval must agree within this


def passed(m):
    if m['target'] is None:  # a control row
        return 'error' not in m
    if 'error' in m:
        return False
    value = {
        'grid': m.get('seconds'),
        'bootstrap': m.get('ratio'),
        'coverage': m.get('value'),
        'overhead': m.get('overhead'),
    }.get(m['kind'], m.get('median'))
    return value >= m['target'] if m.get('higher') else value <= m['target']


def target_text(m):
    if m['kind'] == 'coverage':
        return f'≥ {m["target"]:.2f}'
    if m['kind'] == 'grid':
        return f'≤ {m["target"]} s'
    if m['kind'] == 'overhead':
        return f'≤ {m["target"] * 100:.0f}%'
    if m['target'] is None:
        return 'control'
    return f'≥ {m["target"]:g}x' if m.get('higher') else f'≤ {m["target"]:.2f}'


def table_row(m, clock):
    if m['kind'] == 'memory':
        if 'ratio' not in m:
            return f'| {m["what"]} | {m.get("error", "not measured")} | | | control | – | | | | |'
        b = m['cache_bytes']
        result = 'FAIL (' + m['error'] + ')' if 'error' in m else '–'
        return (
            f'| {m["what"]}, {m["size"]} | **{m["ratio"]:.0f}x less** | | | control | {result} | '
            f'{b["1d"] / 2**10:.1f} KiB | {b["2d"] / 2**20:.2f} MiB | | 1 |'
        )
    if m['kind'] == 'bootstrap':
        if 'ratio' not in m:
            return f'| {m["what"]} | {m.get("error", "not measured")} | | | ≤ {m["target"]:.2f} | – | | | | |'
        r = m['seconds']
        result = 'pass' if m['ratio'] <= m['target'] else 'FAIL'
        return (
            f'| {m["what"]}, {m["size"]} | **{m["ratio"]:.3f}** | | | ≤ {m["target"]:.2f} | {result} | '
            f'{(r["extract"] + r["bootstrap"]) * 1e3:.0f} | {r["evaluation"] * 1e3:.0f} | | 1 |'
        )
    if m['kind'] == 'coverage':
        if 'value' not in m:
            return f'| {m["what"]} | {m.get("error", "not measured")} | | | {target_text(m)} | – | | | | |'
        return (
            f'| {m["what"]}, {m["size"]} | **{m["value"]:.3f}** | | | {target_text(m)} | '
            f'{"pass" if passed(m) else "FAIL"} | | | | 1 |'
        )
    if m['kind'] == 'overhead':
        if 'overhead' not in m:
            return (
                f'| {m["what"]} | {m.get("error", "not measured in this run (use --smoke-grid)")} | | | '
                f'{target_text(m)} | {"FAIL" if "error" in m else "–"} | | | | |'
            )
        result = 'pass' if passed(m) else 'FAIL'
        return (
            f'| {m["what"]}, {m["size"]} | **{m["overhead"] * 100:.0f}%** | median {m["median"] * 100:.0f}% | | '
            f'{target_text(m)} | {result} | | | | 1 |'
        )
    if m['kind'] == 'grid':
        if 'seconds' not in m:
            return f'| {m["what"]} | not measured in this run (use --smoke-grid) | | | {target_text(m)} | – | | | | |'
        s = m['seconds']
        value = f'{s:.0f} s ({int(s // 60)} min {s % 60:.0f} s)'
        result = 'pass' if passed(m) else 'FAIL' + (f' ({m["error"]})' if 'error' in m else '')
        return f'| {m["what"]} | {value} | | | {target_text(m)} | {result} | | | | 1 |'
    if 'median' not in m:
        return f'| {m["what"]} | error: {m["error"]} | | | {target_text(m)} | FAIL | | | | |'
    result = (
        ('–' if m['target'] is None else 'pass') if passed(m) else 'FAIL' + (f' ({m["error"]})' if 'error' in m else '')
    )
    what = f'{m["what"]}, {m["size"]}'
    return (
        f'| {what} | **{m["median"]:.3f}** | {m["q1"]:.3f}–{m["q3"]:.3f} | {m["min"]:.3f}–{m["max"]:.3f} | '
        f'{target_text(m)} | {result} | {m["num_median"] * 1e3:.1f} | {m["den_median"] * 1e3:.1f} | '
        f'{m["wall_ratio"]:.3f} | {m["n"]} |'
    )


def machine(args, threads):
    import torch

    cpu = (
        next(
            (line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')),
            platform.processor() or 'unknown',
        )
        if os.path.exists('/proc/cpuinfo')
        else platform.processor()
    )
    usable = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'
    return (
        f'CPU {cpu}, {os.cpu_count()} logical cores ({usable} usable); GPU {gpu}; device used: {args.device}; '
        f'torch {torch.__version__} with {threads} CPU thread(s); Python {platform.python_version()}'
    )


def render(rows, args, clock, threads, load_summary, command, elapsed):
    clock_text = (
        "process CPU time: counts only this process's work, so other jobs taking the cores do not "
        'inflate one side of a ratio (wall-clock ratios are in their own column)'
        if clock == 'cpu'
        else 'wall time, the device synchronised before each reading of the clock'
    )
    lines = [
        '# Benchmarks: what the harness costs',
        '',
        'Written by `tools/benchmark.py` (regenerate with the command below; numbers from one run on one machine).',
        'Each ratio is measured / reference, the median of per-round ratios: every round runs one call of each',
        'side back to back, in an order rotated every round, so drift from other jobs cancels. Train step =',
        f'data_preprocessor + loss + backward + SGD step on a fixed batch of {args.batch} random images with ground',
        f'truth ({args.det_objects} objects per Mask R-CNN image, and RoI-head positives = those boxes, so the RoI',
        'heads do a real share of the work and the same work in every variant: see the notes);',
        'every model is built from the same seed (random init, nothing downloaded), and the RNG is reseeded before',
        'each step so RoI sampling repeats. Mode variants patch scope `all` (Mask R-CNN) and `backbone`',
        "(DeepLabV3: ASPP's dilated branches cannot be valid convs at these sizes).",
        '',
        f'- command: `{command}`',
        f'- commit: {commit()}',
        f'- machine: {machine(args, threads)}',
        f'- load: {load_summary}',
        f'- clock: {clock_text}',
        f'- total time of this run: {elapsed / 60:.1f} min',
    ]
    if args.device == 'cpu' and threads == 1 and args.threads is None:
        lines.append(
            '- threads: 1 by default on CPU. On the shared 2-core machine two OpenMP threads spin-wait on '
            'each other whenever another job holds a core: identical Mask R-CNN steps then took 2.8-11.6 s '
            'wall (3.0-7.6 s CPU) with 2 threads against 0.91-0.94 s CPU with 1 (`--threads 2` to compare).'
        )
    lines += [
        '',
        '| measurement | ratio (median) | IQR | min–max | target | result | measured, median (ms) | '
        'reference, median (ms) | wall ratio (median) | rounds |',
        '|---|---|---|---|---|---|---|---|---|---|',
    ]
    lines += [table_row(m, clock) for m in rows]
    coco = [m for m in rows if m['kind'] == 'coco' and 'stats' in m]
    if coco:
        lines += [
            '',
            f'Metrics of both COCO backends on the same predictions (must agree within {COCO_TOLERANCE:g}; '
            'BorderCocoMetric rounds to 3 decimals as mmdet does, COCOeval alone is full precision):',
            '',
            '| measurement | metric | pycocotools | faster | difference |',
            '|---|---|---|---|---|',
        ]
        for m in coco:
            a, b = m['stats']['pycocotools'], m['stats']['faster']
            for key in a:
                fmt = '.0f' if 'count' in key else '.4f'
                other = b.get(key, float('nan'))
                lines.append(f'| {m["name"]} | {key} | {a[key]:{fmt}} | {other:{fmt}} | {abs(a[key] - other):.1e} |')
    for m in rows:
        if m['kind'] == 'coverage' and 'lines' in m:
            lines += [
                '',
                "## Coverage of the report's 95% interval",
                '',
                'Simulated grids with a known difference (benchmarks/interval_coverage.py: per-image scores = '
                'difficulty + variant effect per image + seed effect + seed x image noise, metric = mean over '
                '200 test images drawn afresh per grid and rounded to 0.001, B = 1000 paired image '
                'resamples), each given to `harness.report.intervals.paired_interval`. Coverage = share of '
                'grids whose interval holds the true \u0394 (Monte-Carlo SE in brackets). "Seed-only t": the '
                'paired t interval over seeds, which takes the test set as fixed. "Previous": the interval '
                'reported before (bootstrap variance of the seed mean added to s\u00b2/n, '
                'Welch\u2013Satterthwaite degrees of freedom). Widths: mean width over mean width of the seed-only t '
                'interval on the same grids.',
                '',
                *m['lines'],
            ]
    by_note = {}
    for m in rows:
        if m.get('note'):
            by_note.setdefault(m['note'], []).append(m['name'])
    notes = [f'- {", ".join(names)}: {note}' for note, names in by_note.items()]
    if notes:
        lines += ['', 'Notes:', ''] + notes
    return '\n'.join(lines) + '\n'
