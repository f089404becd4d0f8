"""The measurements of the benchmark (`python -m benchmarks`, tools/benchmark.py): each row of the table it
writes, and the code that times or measures it. See benchmarks/cli.py for the list and the rules.
"""

import os
import shlex
import subprocess
import tempfile
import time

from harness.paths import REPO_ROOT as ROOT

MODE_TARGETS = {'reflect': 1.10, 'replicate': 1.10, 'circular': 1.10, 'none': 1.10, 'partial': 1.15}


COCO_STATS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl')


SMOKE_TARGET_S = 600


OVERHEAD_TARGET = 0.25


def measurements():
    """Every measurement the script knows, in table order."""
    from benchmarks.models import FAMILIES

    rows = []
    for fam in FAMILIES:
        label, scope = FAMILIES[fam]['label'], FAMILIES[fam]['padding_scope']
        rows.append(
            dict(
                name=f'{fam}/stock-vs-stock',
                kind='step',
                family=fam,
                num='stock-copy',
                den='stock',
                target=None,
                what=f'{label} train step, stock / stock (a second identical model: the noise floor)',
            )
        )
        rows.append(
            dict(
                name=f'{fam}/zeros-vs-stock',
                kind='step',
                family=fam,
                num='zeros',
                den='stock',
                target=1.01,
                what=f'{label} train step, zeros-patched / stock',
            )
        )
        for mode, target in MODE_TARGETS.items():
            rows.append(
                dict(
                    name=f'{fam}/{mode}-vs-zeros',
                    kind='step',
                    family=fam,
                    num=mode,
                    den='zeros',
                    target=target,
                    what=f'{label} train step, {mode} / zeros (scope {scope})',
                )
            )
        rows.append(
            dict(
                name=f'{fam}/reflect-vs-torch-reflect',
                kind='step',
                family=fam,
                num='reflect',
                den='torch-reflect',
                target=None,
                what=f"{label} train step, reflect / PyTorch's own "
                f"padding_mode='reflect' on the same convs (pools: zeros)",
            )
        )
        if fam == 'mask-rcnn':
            rows.append(
                dict(
                    name=f'{fam}/coordconv-vs-stock',
                    kind='step',
                    family=fam,
                    num='coordconv',
                    den='stock',
                    target=1.03,
                    what=f'{label} train step, CoordConv in mask head / stock',
                )
            )
    for iou in ('bbox', 'segm'):
        rows.append(
            dict(
                name=f'coco-eval/{iou}',
                kind='coco',
                path='metric',
                iou_type=iou,
                target=4.0,
                higher=True,
                what=f'COCO {iou} evaluation through BorderCocoMetric, pycocotools / faster (speed-up)',
            )
        )
    for iou in ('bbox', 'segm'):
        rows.append(
            dict(
                name=f'coco-eval-direct/{iou}',
                kind='coco',
                path='direct',
                iou_type=iou,
                target=4.0,
                higher=True,
                what=f'COCO {iou} COCOeval alone, pycocotools / faster-coco-eval (speed-up)',
            )
        )
    rows.append(
        dict(
            name='partial-cache/sizes',
            kind='memory',
            target=None,
            what='Mask R-CNN R-18-FPN backbone + neck, partial padding: ratio-cache bytes after N distinct '
            'input sizes, 2-D map per size (before) / 1-D row + column ratios (now)',
        )
    )
    rows.append(
        dict(
            name='resume/k2000-vs-k20',
            kind='resume',
            target=1.10,
            what='FCN R-18 tiny Cityscapes, resume at iteration 2,000 / at 20 (build, load, skip, one step), '
            'samplers positioned',
        )
    )
    rows.append(
        dict(
            name='bootstrap/images-seeds-variants',
            kind='bootstrap',
            target=0.10,
            what='Paired image bootstrap (B = 1000, box + mask AP) plus keeping per-image matches / COCO '
            'evaluation of the same runs (BorderCocoMetric, faster-coco-eval, 1 thread), 2 variants x 3 '
            'seeds',
        )
    )
    rows.append(
        dict(
            name='intervals/coverage',
            kind='coverage',
            target=0.93,
            higher=True,
            what="Coverage of the report's nominal 95% interval in simulated grids with known \u0394 "
            '(benchmarks/interval_coverage.py), worst of 4 noise regimes x 2, 3, 5 seeds',
        )
    )
    rows.append(
        dict(
            name='smoke-grid',
            kind='grid',
            target=SMOKE_TARGET_S,
            what='CPU smoke grid end to end (tools/run_ablation.sh), wall seconds',
        )
    )
    rows.append(
        dict(
            name='smoke-overhead',
            kind='overhead',
            target=OVERHEAD_TARGET,
            what='CPU smoke grid: harness overhead per smoke run = 1 − (training loop + evaluation + '
            'probe) / run wall time (the worst run; timing in each results.json)',
        )
    )
    return rows


class LoadSampler:
    """1-minute load averages sampled at start, after every timed round and at the end."""

    def __init__(self):
        self.start, self.samples = os.getloadavg(), []

    def __call__(self, *_):
        self.samples.append(os.getloadavg()[0])

    def summary(self):
        import statistics

        end = os.getloadavg()
        one = [self.start[0]] + self.samples + [end[0]]
        fmt = lambda t: ' / '.join(f'{v:.2f}' for v in t)  # noqa: E731
        return (
            f'1-min load average over {len(one)} samples: median {statistics.median(one):.2f}, '
            f'max {max(one):.2f}; at start {fmt(self.start)}, at end {fmt(end)} (1 / 5 / 15 min)'
        )


def run_steps(family, rows, args, clock, load):
    """Time every variant the rows of `family` need in the same rounds; fill each row's result."""
    import torch

    from benchmarks.models import FAMILIES, TrainStep, build_model, count_mask_rois, make_batch
    from benchmarks.timing import interleaved, ratio_stats
    from harness.errors import HarnessError

    detector = FAMILIES[family]['scope'] == 'mmdet'
    h, w = args.det_size if detector else args.seg_size
    data = make_batch(family, h, w, n=args.batch, objects=args.det_objects)
    variants = list(dict.fromkeys(v for m in rows for v in (m['den'], m['num'])))
    steps, errors, mask_rois = {}, {}, {}
    for variant in variants:
        try:
            model = build_model(family, variant, seed=0, device=args.device)
            mask_rois[variant] = count_mask_rois(model)
            steps[variant] = TrainStep(model, data, args.device)
            steps[variant]()  # fails here, not mid-round, if this variant cannot run at this size
        except (HarnessError, RuntimeError, FloatingPointError) as e:
            errors[variant] = f'{type(e).__name__}: {" ".join(str(e).split())}'
            steps.pop(variant, None)
    print(
        f'[benchmark] {FAMILIES[family]["label"]} at {h}x{w}, batch {args.batch}: '
        f'{len(steps)} models x {args.repeats} rounds',
        flush=True,
    )
    progress = lambda r, n: (load(), print(f'[benchmark]   round {r}/{n}', flush=True))  # noqa: E731
    times = interleaved(steps, args.repeats, args.warmup, args.device, progress)
    pick = 1 if clock == 'cpu' else 0
    note = None
    if any(mask_rois.get(v) for v in steps):
        import statistics

        note = (
            f'{args.det_objects} ground-truth objects per image; RoIs entering the mask head per step (median): '
            + ', '.join(f'{v} {statistics.median(mask_rois[v]):g}' for v in steps if mask_rois[v])
        )
    for m in rows:
        m['size'] = f'{h}x{w}'
        if note:
            m['note'] = note
        bad = [errors[v] for v in (m['num'], m['den']) if v in errors]
        if bad:
            m['error'] = bad[0]
            continue
        num, den = times[m['num']], times[m['den']]
        m.update(ratio_stats([t[pick] for t in num], [t[pick] for t in den]))
        m['wall_ratio'] = ratio_stats([t[0] for t in num], [t[0] for t in den])['median']
    del steps
    if args.device == 'cuda':
        torch.cuda.empty_cache()


def run_coco(rows, args, clock, load, threads):
    """pycocotools and faster-coco-eval on the same synthetic predictions, interleaved per round.

    path 'metric': `BorderCocoMetric.compute_metrics` (mmdet's CocoMetric path plus the border-distance
    evaluation), as a test or validation run calls it; path 'direct': loadRes + COCOeval evaluate /
    accumulate / summarize alone, with the 12 stats at full precision. faster-coco-eval computes mask IoUs
    with as many threads as torch has here (`threads`), pycocotools with one.
    """
    import copy

    from benchmarks.coco_eval import coco_evaluator, coco_metric_evaluator, synthetic_coco
    from benchmarks.report import COCO_TOLERANCE
    from benchmarks.timing import interleaved, ratio_stats

    gt, preds = synthetic_coco(args.coco_images)
    print(
        f'[benchmark] COCO evaluation: {len(gt["images"])} images, {len(gt["annotations"])} objects, '
        f'{len(preds)} predictions, {args.repeats} rounds',
        flush=True,
    )
    note = (
        f'{len(gt["images"])} synthetic 480x640 images, {len(gt["categories"])} categories, '
        f'{len(gt["annotations"])} objects, {len(preds)} predictions with RLE masks '
        f'({len(preds) / len(gt["images"]):.0f} per image); ground truth indexed once, outside the clock; '
        f'faster-coco-eval mask IoUs on {threads} thread(s)'
    )
    pick = 1 if clock == 'cpu' else 0
    backends = ('pycocotools', 'faster')
    with tempfile.TemporaryDirectory() as tmp:
        for m in rows:
            out, fns = {}, {}
            for backend in backends:
                if m['path'] == 'metric':
                    run = coco_metric_evaluator(backend, gt, preds, m['iou_type'], tmp, threads)
                    fns[backend] = lambda run=run, b=backend, o=out: o.__setitem__(b, run())
                else:
                    evaluate = coco_evaluator(backend, gt, threads)
                    # loadRes adds keys to the predictions: each call gets a copy made before the clock runs
                    copies = [copy.deepcopy(preds) for _ in range(args.repeats + args.warmup)]
                    fns[backend] = lambda ev=evaluate, cs=copies, b=backend, o=out, t=m['iou_type']: o.__setitem__(
                        b, dict(zip(COCO_STATS, ev(cs.pop(), t)))
                    )
            times = interleaved(fns, args.repeats, args.warmup, 'cpu', load)
            py, fa = times['pycocotools'], times['faster']
            m.update(ratio_stats([t[pick] for t in py], [t[pick] for t in fa]))
            m['wall_ratio'] = ratio_stats([t[0] for t in py], [t[0] for t in fa])['median']
            m['size'] = f'{args.coco_images} img'
            m['stats'], m['note'] = out, note
            a, b = out['pycocotools'], out['faster']
            if a.keys() != b.keys():
                m['error'] = f'the backends return different keys: {sorted(set(a) ^ set(b))}'
                continue
            m['max_stat_diff'] = max(abs(a[k] - b[k]) for k in a)
            if m['max_stat_diff'] > COCO_TOLERANCE:
                m['error'] = f'metrics differ by {m["max_stat_diff"]:.2e} (> {COCO_TOLERANCE:g})'


def run_partial_cache(m, args):
    """Cache memory of partial padding, old 2-D vs new 1-D, on the same R-18 model and sizes."""
    from benchmarks.models import build_model
    from benchmarks.partial_cache import distinct_sizes, measure

    before = build_model('mask-rcnn', 'partial', seed=0, device=args.device)
    after = build_model('mask-rcnn', 'partial', seed=0, device=args.device)
    sizes = distinct_sizes(args.partial_sizes)
    print(f'[benchmark] partial ratio cache: {len(sizes)} distinct sizes, backbone + neck', flush=True)
    r = measure(before, after, sizes, args.device)
    old, new = r['cache_bytes']['2d'], r['cache_bytes']['1d']
    m.update(
        ratio=old / max(new, 1),
        cache_bytes=r['cache_bytes'],
        size=f'{len(sizes)} sizes',
        seconds=r['seconds'],
        max_rel_diff=r['max_rel_diff'],
        cuda_growth=r['cuda_growth'],
    )
    cuda = (
        ''
        if r['cuda_growth'] is None
        else '; CUDA allocator growth 2-D {:.2f} MiB, 1-D {:.3f} MiB'.format(
            r['cuda_growth']['2d'] / 2**20, r['cuda_growth']['1d'] / 2**20
        )
    )
    m['note'] = (
        f'{r["layers"]} partial layers (scope all; backbone + neck run), sides 64-192 px, batch 1: cache '
        f'2-D {old / 2**20:.2f} MiB, 1-D {new / 2**10:.1f} KiB{cuda}; features of the two agree to '
        f'{r["max_rel_diff"]:.1e} (relative); time 1-D / 2-D '
        f'{r["seconds"]["1d"] / r["seconds"]["2d"]:.3f} ({r["seconds"]["1d"]:.1f} s / '
        f'{r["seconds"]["2d"]:.1f} s wall, interleaved per size)'
    )
    if r['max_rel_diff'] > 1e-4:
        m['error'] = f'the 1-D and 2-D caches give features differing by {r["max_rel_diff"]:.1e} (> 1e-4)'


def run_resume(m, args):
    """Resume at k = 20 and 2,000, positioned vs replayed, interleaved rounds (CPU seconds of this process)."""
    from benchmarks.resume import measure

    rounds = max(2, min(args.repeats, 3))
    print(
        f'[benchmark] resume at k = 20 and 2000, {rounds} rounds (the replay of 2000 batches takes minutes)', flush=True
    )
    r = measure((20, 2000), rounds, log=lambda line: print(line, flush=True))

    def med(k, how, part):
        values = sorted(t[part][0] for t in r[(k, how)])
        return values[len(values) // 2]

    ratios = sorted(a['total'][0] / b['total'][0] for a, b in zip(r[(2000, 'positioned')], r[(20, 'positioned')]))
    m.update(
        median=ratios[len(ratios) // 2],
        q1=ratios[0],
        q3=ratios[-1],
        min=ratios[0],
        max=ratios[-1],
        num_median=med(2000, 'positioned', 'total'),
        den_median=med(20, 'positioned', 'total'),
        wall_ratio=sorted(
            a['total'][1] / b['total'][1] for a, b in zip(r[(2000, 'positioned')], r[(20, 'positioned')])
        )[rounds // 2],
        n=rounds,
        size='4 images per batch',
    )
    m['note'] = (
        'CPU seconds, median of {} rounds; whole resume (build, load, skip, one step) / skip alone: '
        'positioned k=20 {:.2f} / {:.3f}, k=2000 {:.2f} / {:.3f}; mmengine replay k=20 {:.2f} / {:.2f}, '
        'k=2000 {:.2f} / {:.2f} (replay k=2000 / k=20: {:.1f}x)'
    ).format(
        rounds,
        med(20, 'positioned', 'total'),
        med(20, 'positioned', 'skip'),
        med(2000, 'positioned', 'total'),
        med(2000, 'positioned', 'skip'),
        med(20, 'replay', 'total'),
        med(20, 'replay', 'skip'),
        med(2000, 'replay', 'total'),
        med(2000, 'replay', 'skip'),
        med(2000, 'replay', 'total') / med(20, 'replay', 'total'),
    )


def run_bootstrap(m, args):
    """The image bootstrap and per-image matches against the evaluation of the same runs (benchmarks/bootstrap.py)."""
    from benchmarks.bootstrap import measure

    r = measure(args.boot_images, seeds=3, n_boot=1000, log=lambda line: print(line, flush=True))
    m.update(ratio=r['ratio'], size=f'{r["images"]} img', seconds=r)
    ivs = '; '.join(
        f'{k} AP \u0394 {iv.delta * 100:+.2f} [{iv.lo * 100:+.2f}, {iv.hi * 100:+.2f}]'
        for k, iv in r['intervals'].items()
    )
    m['note'] = (
        f'{r["images"]} synthetic 480x640 images, {r["objects"]} objects, {r["predictions"]} predictions per '
        f'run before a tenth is dropped; CPU seconds: evaluation of the 6 runs {r["evaluation"]:.1f} s (box '
        f'and mask, with the border pass), per-image matches {r["extract"]:.1f} s, bootstrap '
        f'{r["bootstrap"]:.1f} s (both kinds, 3 paired seeds, B = {r["n_boot"]}); resulting intervals '
        f'(variant - baseline): {ivs}'
    )


def run_coverage(m, args):
    """The interval's coverage table (benchmarks/interval_coverage.py), rendered as its own section."""
    from benchmarks.interval_coverage import table

    lines, worst = table(args.coverage_reps, log=lambda line: print(line, flush=True))
    m.update(value=worst, lines=lines, size=f'{args.coverage_reps} grids per cell, 200 test images')


def run_smoke_grid(grid_rows):
    """Wall time of `tools/run_ablation.sh` (the smoke grid) into a temporary work / report dir, and the
    harness overhead of its runs."""
    m = next((r for r in grid_rows if r['kind'] == 'grid'), dict(kind='grid'))
    tmp = tempfile.mkdtemp(prefix='posharness-smoke-')
    cmd = [
        'bash',
        'tools/run_ablation.sh',
        '--work-dir',
        os.path.join(tmp, 'work'),
        '--report-dir',
        os.path.join(tmp, 'report'),
    ]
    log = os.path.join(tmp, 'run.log')
    print(f'[benchmark] smoke grid: {shlex.join(cmd)} (log: {log})', flush=True)
    start = time.perf_counter()
    with open(log, 'w') as f:
        rc = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT).returncode
    m['seconds'] = time.perf_counter() - start
    m['note'] = f'`{shlex.join(cmd)}`, log {log}'
    if rc != 0:
        m['error'] = f'tools/run_ablation.sh exited {rc}; see {log}'
    for row in grid_rows:
        if row['kind'] == 'overhead':
            smoke_overhead(row, os.path.join(tmp, 'work', 'smoke'))


def smoke_overhead(m, grid_dir):
    """The overhead row from the `timing` of every run's results.json in `grid_dir`: the worst run, the
    median and each run in the note."""
    import json

    runs = {}
    for name in sorted(os.listdir(grid_dir)) if os.path.isdir(grid_dir) else []:
        try:
            with open(os.path.join(grid_dir, name, 'results.json')) as f:
                timing = json.load(f).get('timing') or {}
        except (OSError, ValueError):
            continue
        if timing.get('overhead') is not None:
            runs[name] = timing
    if not runs:
        m['error'] = f'no run under {grid_dir} recorded its timing'
        return
    import statistics

    worst = max(runs, key=lambda r: runs[r]['overhead'])
    m.update(
        overhead=runs[worst]['overhead'],
        size=f'{len(runs)} runs',
        median=statistics.median(t['overhead'] for t in runs.values()),
    )
    m['note'] = (
        'overhead per run (wall s): '
        + ', '.join(f'{r} {t["overhead"] * 100:.0f}% ({t["wall"]:.0f} s)' for r, t in runs.items())
        + f'; worst {worst}: '
        + ', '.join(f'{k} {v:.1f} s' for k, v in runs[worst]['phases'].items() if v)
    )
