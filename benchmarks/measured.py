"""The benchmark's other measurements: partial padding's ratio-cache memory, resuming at iteration k, the
report's image bootstrap, the interval's coverage, and the smoke grid end to end with its overhead."""

import os
import shlex
import subprocess
import tempfile
import time

from harness.paths import REPO_ROOT as ROOT


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
