"""COCO AP per class (`classwise=True` on BorderCocoMetric), one key per evaluation and class.

mmdet 3.3.0's `CocoMetric(classwise=True)` writes each class's AP as `coco/<class>_precision`: the
same key for the bbox and the segm evaluation, so with `metric=['bbox', 'segm']` the mask AP silently
overwrites the box AP; and it reads COCOeval's last `maxDets` (1000 in mmdet), while `coco/bbox_mAP`
is AP at 100 detections per image. Here each class's AP is read from the COCOeval that ran, exactly
as `COCOeval.summarize` computes AP (IoU 0.50:0.95, area all, 100 detections per image) but over one
category: `coco/bbox_mAP_<class>` / `coco/segm_mAP_<class>` in [0, 1], -1 when the evaluated images
hold no object of that class (COCO's "no such objects", which the report prints as n/a). The keys
follow mmdet's `<kind>_mAP_<item>` pattern, so the report treats them like the other COCO AP keys
(x100, n/a for a model without boxes, 0 for a run that detected nothing).
"""

MAX_DETS = 100  # COCO's AP: at most 100 detections per image


def class_ap_keys(kind, names):
    """['bbox_mAP_disk', ...]: the keys (before mmengine's `coco/` prefix) of `kind`'s per-class AP."""
    return [f'{kind}_mAP_{name}' for name in names]


def class_aps(coco_eval):
    """AP of each category of `coco_eval.params.catIds`, in that order, from an evaluated and accumulated
    COCOeval (pycocotools or faster-coco-eval): rounded to 3 decimals as mmdet rounds, -1.0 without objects."""
    precision = coco_eval.eval['precision']  # [IoU threshold, recall, category, area range, maxDets]
    max_dets = list(coco_eval.params.maxDets)
    m = max_dets.index(MAX_DETS) if MAX_DETS in max_dets else len(max_dets) - 1
    out = []
    for k in range(precision.shape[2]):
        p = precision[:, :, k, 0, m]
        p = p[p > -1]
        out.append(round(float(p.mean()), 3) if p.size else -1.0)
    return out
