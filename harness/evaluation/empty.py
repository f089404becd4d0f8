"""A COCO evaluation that found no detection at all: what it measured, AP 0, instead of mmdet's `{}`.

mmdet's CocoMetric logs an error and returns an empty dict when a model predicts nothing on the whole
val set (pycocotools cannot load an empty result list). Downstream, an empty dict looks like a run
that never reported, and a report would print "not reported" for a model that was evaluated and
scored zero. `fill_no_detections` puts back the numbers COCOeval would give: AP 0 for every metric
whose objects exist in the val set, -1 ("no such objects", as mmdet writes it) where none exist, and
the same per border-distance bin and per class for BorderCocoMetric; tools/test.py then records "no detections".
"""

from mmdet.evaluation import CocoMetric

from .class_ap import class_ap_keys

# COCOeval's area ranges (inclusive bounds) for mAP_s / mAP_m / mAP_l, in squared pixels
_AREAS = {'mAP_s': (0, 32**2), 'mAP_m': (32**2, 96**2), 'mAP_l': (96**2, 1e5**2)}
_ITEMS = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')  # CocoMetric's default metric_items


def fill_no_detections(evaluator, metrics):
    """(metrics, notes): `metrics` plus the COCO keys of every CocoMetric in `evaluator` that returned
    nothing because nothing was predicted; notes say which."""
    metrics, notes = dict(metrics), []
    for metric in getattr(evaluator, 'metrics', []):
        if not isinstance(metric, CocoMetric) or metric.format_only or metric._coco_api is None:
            continue
        if any(k.startswith(f'{metric.prefix}/') for k in metrics):
            continue
        filled = no_detection_metrics(metric)
        metrics.update(filled)
        kinds = [m for m in metric.metrics if m in ('bbox', 'segm')]
        notes.append(
            f'no detections: {type(metric).__name__} evaluated {", ".join(kinds)} and the model '
            'predicted nothing on the whole set; AP recorded as 0 (\u22121 where the set has no such objects)'
        )
    return metrics, notes


def no_detection_metrics(metric):
    """{key: 0.0 or -1.0} as `metric` (a CocoMetric) would report them with no detection at all."""
    api = metric._coco_api
    img_ids, cat_ids = set(metric.img_ids), set(metric.cat_ids)
    areas = [
        a['area']
        for a in api.dataset.get('annotations', [])
        if a['image_id'] in img_ids and a['category_id'] in cat_ids and not a.get('iscrowd', 0)
    ]
    out = {}
    for kind in (m for m in metric.metrics if m in ('bbox', 'segm')):
        for item in _ITEMS:
            lo, hi = _AREAS.get(item, (0, float('inf')))
            out[f'{metric.prefix}/{kind}_{item}'] = 0.0 if any(lo <= a <= hi for a in areas) else -1.0
    if getattr(metric, 'per_class', False):  # BorderCocoMetric(classwise=True): AP 0 per class that has objects
        present = {
            a['category_id']
            for a in api.dataset.get('annotations', [])
            if a['image_id'] in img_ids and not a.get('iscrowd', 0)
        }
        for kind in (m for m in metric.metrics if m in ('bbox', 'segm')):
            out.update(
                {
                    f'{metric.prefix}/{key}': 0.0 if c in present else -1.0
                    for key, c in zip(class_ap_keys(kind, metric.class_names()), metric.cat_ids)
                }
            )
    if hasattr(metric, 'border_names'):  # BorderCocoMetric: the same per distance bin, and the object counts
        counts = metric.border_counts()
        for kind in (m for m in metric.metrics if m in ('bbox', 'segm')):
            out.update({f'border/{kind}_mAP@{n}': 0.0 if c else -1.0 for n, c in zip(metric.border_names, counts)})
        out.update({f'border/count@{n}': c for n, c in zip(metric.border_names, counts)})
    return out
