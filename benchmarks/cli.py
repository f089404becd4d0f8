"""Measure what the harness costs and write reports/benchmarks.md.

Every speed claim is a ratio of two things timed in one process on one machine, in interleaved rounds
(one call of each side per round, order rotated), reported as the median of the per-round ratios with
its quartiles and range: slow drift from other jobs multiplies both sides of a round and cancels.
- train step (data_preprocessor + loss + backward + SGD step, fixed batch, same seed for every model):
  zeros-patched vs stock, each padding mode vs zeros, CoordConv in the mask head vs stock, and a control:
  stock vs a second identical stock model, whose spread is the noise floor of the others; and reflect vs
  PyTorch's own padding_mode='reflect', which shows how much of reflect's cost is the padding itself;
- COCO evaluation of the same synthetic predictions: pycocotools vs faster-coco-eval (bbox, segm),
  with the 12 COCO stats required to agree within 1e-4;
- the report's paired image bootstrap (box and mask AP, B = 1000, 5,000 images x 3 seeds x 2 variants) plus
  keeping the per-image matches, against the COCO evaluation of the same six runs (benchmarks/bootstrap.py);
- the coverage of the report's 95% interval in simulated grids with a known difference, four noise regimes
  x 2, 3, 5 seeds, beside the seed-only t interval and the previous interval (benchmarks/interval_coverage.py);
- with --smoke-grid, the wall time of the CPU smoke grid end to end, and the harness overhead per smoke run
  (1 - (training loop + evaluation + probe) / run wall time, from each run's `timing` in results.json);
- resuming an iteration-based run at iteration 2,000 vs 20 (benchmarks/resume.py): the data position
  restored from the samplers vs mmengine's replay of the skipped batches;
- memory of `partial` padding's ratio cache over --partial-sizes distinct input sizes (default 200), the
  old 2-D cache per size vs the 1-D row / column cache, same model and sizes, outputs compared.
Exit 1 if a measurement could not be made or the two COCO backends disagree; a missed speed target is
reported in the table (FAIL), not in the exit status.
"""

import argparse
import contextlib
import fnmatch
import os
import shlex
import sys
import time
import warnings

from benchmarks.measured import run_bootstrap, run_coverage, run_partial_cache, run_resume, run_smoke_grid
from benchmarks.suite import LoadSampler, measurements
from benchmarks.timed import run_coco, run_steps

EPILOG = """examples:
  python tools/benchmark.py                                  # everything but the smoke grid -> reports/benchmarks.md
  python tools/benchmark.py --smoke-grid                     # ... and time tools/run_ablation.sh end to end
  python tools/benchmark.py --only 'mask-rcnn/*' --repeats 20
  python tools/benchmark.py --only coco-eval/segm --coco-images 1000 --out /tmp/b.md
  python tools/benchmark.py --device cuda --det-size 800x1344  # GPU: wall clock, synchronised
  python tools/benchmark.py --quick --out /tmp/b.md          # plumbing check: few repeats, small COCO set
  python tools/benchmark.py --only 'partial-cache/*' --out /tmp/b.md   # partial's ratio cache memory only
"""


def _size(text):
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected HxW, e.g. 256x512; got {text!r}') from None
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f'expected positive sizes; got {text!r}')
    return h, w


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'expected a positive integer; got {text!r}')
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('--device', choices=['cpu', 'cuda'], default=None, help='default: cuda if available')
    parser.add_argument('--repeats', type=_positive, default=None, help='timed rounds (default 8; 3 with --quick)')
    parser.add_argument('--warmup', type=int, default=1, help='untimed rounds first (default 1)')
    parser.add_argument('--quick', action='store_true', help='few rounds and a small COCO set: checks the plumbing')
    parser.add_argument(
        '--only',
        action='append',
        metavar='NAME',
        help='measurement name or glob (repeatable), e.g. "mask-rcnn/*", coco-eval/segm',
    )
    parser.add_argument('--out', default=os.path.join('reports', 'benchmarks.md'), help='report (Markdown)')
    parser.add_argument(
        '--threads',
        type=_positive,
        default=None,
        help='torch CPU threads (default on CPU: 1, see the report; on CUDA: torch default)',
    )
    parser.add_argument(
        '--clock',
        choices=['cpu', 'wall'],
        default=None,
        help='clock of the ratios: process CPU time (default on CPU) or wall time (always on CUDA)',
    )
    parser.add_argument('--batch', type=_positive, default=2, help='images per train step (default 2)')
    parser.add_argument('--det-size', type=_size, default=(256, 256), help='Mask R-CNN input HxW (default 256x256)')
    parser.add_argument(
        '--det-objects',
        type=_positive,
        default=30,
        help='ground-truth objects per Mask R-CNN image (default 30: the mask head then gets '
        'tens of positive RoIs per image, as in real training)',
    )
    parser.add_argument('--seg-size', type=_size, default=(256, 512), help='DeepLabV3 input HxW (default 256x512)')
    parser.add_argument(
        '--coco-images', type=_positive, default=None, help='synthetic images (default 300; 30 with --quick)'
    )
    parser.add_argument(
        '--partial-sizes',
        type=_positive,
        default=200,
        help='distinct input sizes for partial-cache/sizes (default 200; sides 64-192)',
    )
    parser.add_argument(
        '--boot-images',
        type=_positive,
        default=None,
        help='synthetic images of bootstrap/* (default 5000; 100 with --quick)',
    )
    parser.add_argument(
        '--coverage-reps',
        type=_positive,
        default=None,
        help='simulated grids per cell of intervals/coverage (default 10000; 500 with --quick)',
    )
    parser.add_argument('--smoke-grid', action='store_true', help='also run and time the CPU smoke grid (minutes)')
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (3 if args.quick else 8)
    args.coco_images = args.coco_images or (30 if args.quick else 300)
    args.boot_images = args.boot_images or (100 if args.quick else 5000)
    args.coverage_reps = args.coverage_reps or (500 if args.quick else 10000)
    names = [m['name'] for m in measurements()]
    for pattern in args.only or []:
        if not fnmatch.filter(names, pattern):
            parser.error(f'--only: {pattern!r} matches no measurement; expected one of: {", ".join(names)}')
    if args.device == 'cuda' and args.clock == 'cpu':
        parser.error('--clock cpu: CPU time does not see GPU work; use wall time on CUDA')
    return args


def selected(args):
    rows = measurements()
    if args.only:
        rows = [m for m in rows if any(fnmatch.fnmatchcase(m['name'], p) for p in args.only)]
    return rows


@contextlib.contextmanager
def _settings(threads):
    """torch CPU threads and a quiet mmengine log (init_weights prints a block per parameter) for the
    duration of the run; both restored afterwards, so that calling `main` leaves the process as it was."""
    import torch

    from harness.configs import quiet_logs

    saved_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        with warnings.catch_warnings(), quiet_logs():
            warnings.simplefilter('ignore')  # mmdet's deprecation chatter; the report is the output
            yield
    finally:
        torch.set_num_threads(saved_threads)


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    import torch

    import harness.engine.register  # noqa: F401  (registers HarnessModel, the metrics and the hooks)

    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.device == 'cuda' and not torch.cuda.is_available():
        print('error: --device cuda: no CUDA device visible', file=sys.stderr)
        return 2
    clock = args.clock or ('cpu' if args.device == 'cpu' else 'wall')
    rows = selected(args)
    with _settings(args.threads or (1 if args.device == 'cpu' else None)):
        threads = torch.get_num_threads()
        load = LoadSampler()
        for family in dict.fromkeys(m['family'] for m in rows if m['kind'] == 'step'):
            run_steps(family, [m for m in rows if m.get('family') == family], args, clock, load)
        if any(m['kind'] == 'coco' for m in rows):
            run_coco([m for m in rows if m['kind'] == 'coco'], args, clock, load, threads)
        for m in rows:
            if m['kind'] == 'memory':
                run_partial_cache(m, args)
        for m in rows:
            if m['kind'] == 'resume':
                run_resume(m, args)
        for m in rows:
            if m['kind'] == 'bootstrap':
                run_bootstrap(m, args)
        for m in rows:
            if m['kind'] == 'coverage':
                run_coverage(m, args)
        grid_rows = [m for m in rows if m['kind'] in ('grid', 'overhead')]
        if grid_rows and args.smoke_grid:
            run_smoke_grid(grid_rows)
    from benchmarks.report import render

    command = shlex.join(['python', 'tools/benchmark.py'] + (sys.argv[1:] if argv is None else list(argv)))
    text = render(rows, args, clock, threads, load.summary(), command, time.perf_counter() - start)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write(text)
    print(text)
    print(f'[benchmark] wrote {args.out}')
    return 1 if any('error' in m for m in rows) else 0


if __name__ == '__main__':
    sys.exit(main())
