"""The benchmark's timed comparisons: train steps of two models and the two COCO evaluation backends, in
interleaved rounds (benchmarks/timing.py), ratios of the two sides of each round."""

import copy
import tempfile

from benchmarks.suite import COCO_STATS


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
