"""What the report's image bootstrap adds to evaluation: a grid of 2 variants x `seeds` seeds on one set of
synthetic COCO images, each run evaluated as tools/test.py evaluates it, side by side in one process.

- evaluation: `BorderCocoMetric.compute_metrics` (mmdet's CocoMetric path with faster-coco-eval, then
  the border-distance pass), boxes and masks, for every run: the reference;
- added at evaluation: keeping the per-image matches (`per_image.coco_data`, timed inside the same calls);
- added at report time: the paired image bootstrap of the variant-vs-baseline difference (B resamples,
  box and mask AP of every run recomputed on each, `intervals.paired_interval`).

The runs share the ground truth; each run's predictions are the synthetic ones with its own score noise
and a tenth of them dropped at random, the variant with more score noise than the baseline. Clock:
process CPU time, so other jobs on a shared machine do not inflate one side.
"""

import contextlib
import io
import json
import os
import tempfile
import time

import numpy as np


def _results(gt, preds):
    """CocoMetric.process's output for `preds` (xyxy boxes, 0-based labels, RLE masks), image by image."""
    cat_ids = [c['id'] for c in gt['categories']]
    index = {c: i for i, c in enumerate(cat_ids)}
    by_image = {img['id']: [] for img in gt['images']}
    for p in preds:
        by_image[p['image_id']].append(p)
    out = []
    for img in gt['images']:
        ps = by_image[img['id']]
        out.append(
            (
                dict(width=img['width'], height=img['height'], img_id=img['id']),
                dict(
                    img_id=img['id'],
                    scores=np.array([p['score'] for p in ps], np.float32),
                    bboxes=np.array(
                        [[x, y, x + w, y + h] for x, y, w, h in (p['bbox'] for p in ps)], np.float32
                    ).reshape(-1, 4),
                    labels=np.array([index[p['category_id']] for p in ps], np.int64),
                    masks=[dict(p['segmentation']) for p in ps],
                ),
            )
        )
    return out


def _run_predictions(preds, noise, seed):
    rng = np.random.default_rng(seed)
    keep = rng.random(len(preds)) > 0.1
    return [
        dict(p, score=float(np.clip(p['score'] + rng.normal(0, noise), 0.01, 1.0))) for p, k in zip(preds, keep) if k
    ]


def measure(n_images=5000, seeds=3, n_boot=1000, log=print):
    from benchmarks.coco_eval import synthetic_coco
    from harness.evaluation import BorderCocoMetric, per_image
    from harness.evaluation.resample import coco_ap
    from harness.report.intervals import image_weights, paired_interval

    log(f'[benchmark] bootstrap: generating {n_images} synthetic images ...')
    gt, preds = synthetic_coco(n_images, seed=0)
    spent = {'extract': 0.0}
    original = per_image.coco_data

    def timed(*args, **kwargs):  # the per-image extraction, timed inside the evaluation that calls it
        t = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent['extract'] += time.process_time() - t

    runs, metrics, evaluation = {}, {}, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        ann_file = os.path.join(tmp, 'instances.json')
        with open(ann_file, 'w') as f:
            json.dump(gt, f)
        per_image.coco_data = timed
        try:
            for variant, noise in (('baseline', 0.05), ('variant', 0.15)):
                for seed in range(seeds):
                    results = _results(gt, _run_predictions(preds, noise, 100 * seed + len(variant)))
                    with contextlib.redirect_stdout(io.StringIO()):
                        metric = BorderCocoMetric(ann_file=ann_file, metric=['bbox', 'segm'], eval_threads=1)
                    metric.dataset_meta = dict(classes=tuple(c['name'] for c in gt['categories']))
                    t = time.process_time()
                    with contextlib.redirect_stdout(io.StringIO()):
                        metrics[(variant, seed)] = metric.compute_metrics(results)
                    evaluation += time.process_time() - t
                    runs[(variant, seed)] = metric.per_image
                    log(f'[benchmark]   {variant} seed {seed}: evaluated ({evaluation:.0f} s CPU so far)')
        finally:
            per_image.coco_data = original
    t = time.process_time()
    weights = image_weights(n_images, n_boot)
    intervals = {}
    for kind in ('bbox', 'segm'):
        boot = {s: tuple(coco_ap(runs[(v, s)][kind], weights) for v in ('variant', 'baseline')) for s in range(seeds)}
        # compute_metrics' keys have no 'coco/' prefix yet (mmengine's evaluator adds it)
        values = {v: {s: metrics[(v, s)][f'{kind}_mAP'] for s in range(seeds)} for v in ('variant', 'baseline')}
        intervals[kind] = paired_interval(values['variant'], values['baseline'], boot)
    boot_s = time.process_time() - t
    extract_s = spent['extract']
    return dict(
        evaluation=evaluation - extract_s,
        extract=extract_s,
        bootstrap=boot_s,
        ratio=(extract_s + boot_s) / (evaluation - extract_s),
        intervals=intervals,
        images=n_images,
        seeds=seeds,
        n_boot=n_boot,
        predictions=len(preds),
        objects=len(gt['annotations']),
    )
