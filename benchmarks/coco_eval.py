"""COCO evaluation benchmarks: the same synthetic ground truth and predictions through two COCOeval
backends (pycocotools and faster-coco-eval), alone and inside mmdet's CocoMetric."""

import copy


def synthetic_coco(n_images=300, n_cats=80, size=(480, 640), false_positives=20, seed=0):
    """(ground-truth dataset dict, predictions list) with RLE masks, like mmdet's CocoMetric produces.

    COCO-like shape: `n_cats` categories, 2-8 elliptical objects per image, each object found 0-3 times
    (jittered boxes), plus `false_positives` random boxes per image (a detector's low-score tail), with
    random scores, so AP is neither 0 nor 1 and every matching path is taken.
    """
    import numpy as np
    from pycocotools import mask as mask_util

    rng = np.random.default_rng(seed)
    h, w = size

    def ellipse(x0, y0, bw, bh):
        cx, cy, rx, ry = x0 + bw / 2, y0 + bh / 2, max(bw / 2, 1), max(bh / 2, 1)
        top, left = int(y0), int(x0)
        yy, xx = np.mgrid[top : min(int(y0 + bh) + 2, h), left : min(int(x0 + bw) + 2, w)]
        m = np.zeros((h, w), dtype=np.uint8, order='F')
        m[top : top + yy.shape[0], left : left + yy.shape[1]] = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
        rle = mask_util.encode(m)
        rle['counts'] = rle['counts'].decode()
        return rle, [float(v) for v in mask_util.toBbox(rle)], float(mask_util.area(rle))

    def random_box():
        bw, bh = rng.uniform(12, w / 3), rng.uniform(12, h / 3)
        return rng.uniform(0, w - bw), rng.uniform(0, h - bh), bw, bh

    images, anns, dets = [], [], []
    for img_id in range(1, n_images + 1):
        images.append(dict(id=img_id, width=w, height=h, file_name=f'{img_id:06d}.jpg'))
        for _ in range(rng.integers(2, 9)):
            x0, y0, bw, bh = random_box()
            cat = int(rng.integers(1, n_cats + 1))
            rle, bbox, area = ellipse(x0, y0, bw, bh)
            anns.append(
                dict(
                    id=len(anns) + 1,
                    image_id=img_id,
                    category_id=cat,
                    segmentation=rle,
                    bbox=bbox,
                    area=area,
                    iscrowd=0,
                )
            )
            for _ in range(rng.integers(0, 4)):
                j = rng.normal(0, 0.1, 4) * [bw, bh, bw, bh]
                dets.append((img_id, cat, (x0 + j[0], y0 + j[1], bw + j[2], bh + j[3])))
        for _ in range(false_positives):
            dets.append((img_id, int(rng.integers(1, n_cats + 1)), random_box()))
    preds = []
    for img_id, cat, (x0, y0, bw, bh) in dets:
        x0, y0 = min(max(x0, 0), w - 2), min(max(y0, 0), h - 2)
        rle, bbox, _ = ellipse(x0, y0, min(max(bw, 2), w - x0), min(max(bh, 2), h - y0))
        preds.append(
            dict(image_id=img_id, category_id=cat, bbox=bbox, segmentation=rle, score=float(rng.uniform(0.05, 1)))
        )
    gt = dict(images=images, annotations=anns, categories=[dict(id=c, name=f'class{c}') for c in range(1, n_cats + 1)])
    return gt, preds


def _for_iou_type(preds, iou_type):
    """segm: the predictions without their boxes, as CocoMetric passes them (area = mask area, not box area)."""
    if iou_type != 'segm':
        return preds
    return [{k: v for k, v in p.items() if k != 'bbox'} for p in preds]


def coco_evaluator(backend, gt, threads=None):
    """A function (predictions, iou_type) -> the 12 COCO stats, for backend 'pycocotools' or 'faster'.

    The ground-truth index is built once here (as CocoMetric does at start-up); each call loads the
    predictions and runs evaluate + accumulate + summarize, which is what an evaluation costs.
    `threads`: faster-coco-eval's mask-IoU threads (None: its default).
    """
    import contextlib
    import io

    if backend == 'pycocotools':
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        with contextlib.redirect_stdout(io.StringIO()):
            coco = COCO()
            coco.dataset = copy.deepcopy(gt)
            coco.createIndex()

        def run(preds, iou_type):
            preds = _for_iou_type(preds, iou_type)
            with contextlib.redirect_stdout(io.StringIO()):
                ev = COCOeval(coco, coco.loadRes(preds), iou_type)
                ev.evaluate()
                ev.accumulate()
                ev.summarize()
            return [float(s) for s in ev.stats]
    elif backend == 'faster':
        from faster_coco_eval import COCO, COCOeval_faster

        coco = COCO(copy.deepcopy(gt))

        def run(preds, iou_type):
            preds = _for_iou_type(preds, iou_type)
            ev = COCOeval_faster(
                coco,
                coco.loadRes(preds),
                iou_type,
                print_function=lambda *a, **k: None,
                **({} if threads is None else dict(rle_iou_max_workers=threads)),
            )
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            return [float(s) for s in ev.stats[:12]]
    else:
        raise ValueError(f'unknown COCO backend {backend!r}; expected pycocotools or faster')
    return run


def coco_metric_evaluator(backend, gt, preds, iou_type, tmp_dir, threads=None):
    """A function () -> metrics dict running `BorderCocoMetric(backend=...)` as mmdet's evaluator would.

    The predictions are handed over as `CocoMetric.process` leaves them (xyxy boxes, 0-based labels,
    RLE masks for segm), so each call runs CocoMetric's own path: results to JSON, COCO evaluate /
    accumulate / summarize, then the border-distance evaluation. The ground truth is indexed once, at
    construction and on the first call (the faster backend converts the index once per metric).
    """
    import contextlib
    import io
    import json
    import os

    import numpy as np

    from harness.evaluation import BorderCocoMetric

    ann_file = os.path.join(tmp_dir, 'instances_synthetic.json')
    if not os.path.exists(ann_file):
        with open(ann_file, 'w') as f:
            json.dump(gt, f)
    cat_ids = [c['id'] for c in gt['categories']]
    by_image = {img['id']: [] for img in gt['images']}
    for p in preds:
        by_image[p['image_id']].append(p)
    results = []
    for img in gt['images']:
        ps = by_image[img['id']]
        pred = dict(
            img_id=img['id'],
            bboxes=np.array([[x, y, x + w, y + h] for x, y, w, h in (p['bbox'] for p in ps)], dtype=np.float32).reshape(
                -1, 4
            ),
            scores=np.array([p['score'] for p in ps], dtype=np.float32),
            labels=np.array([cat_ids.index(p['category_id']) for p in ps], dtype=np.int64),
        )
        if iou_type == 'segm':
            pred['masks'] = [dict(p['segmentation']) for p in ps]
        results.append((dict(width=img['width'], height=img['height'], img_id=img['id']), pred))
    with contextlib.redirect_stdout(io.StringIO()):
        metric = BorderCocoMetric(
            ann_file=ann_file, metric=[iou_type], backend=backend, eval_threads=threads if backend == 'faster' else None
        )
    metric.dataset_meta = dict(classes=tuple(c['name'] for c in gt['categories']))

    def run():
        with contextlib.redirect_stdout(io.StringIO()):
            return {k: float(v) for k, v in metric.compute_metrics(results).items()}

    return run
