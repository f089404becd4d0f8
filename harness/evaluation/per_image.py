"""What each run keeps of its evaluation, image by image, so that the report can resample the images.

A difference of a few AP points between two variants means little until one knows how much it would
move on another draw of test images. The report answers that with a paired bootstrap over the
evaluation images (`harness.report.intervals`), which needs, per image, what the metric sums over:

- COCO AP (`coco_data`): COCOeval's per-image evaluation (per image and category the detections'
  scores, which ground truth each one matched at each IoU threshold, and the ignore flags), reduced
  to what AP@[.5:.95] at maxDets=100, area "all" needs. faster-coco-eval, the default backend, keeps
  it in C++ objects Python cannot read, so the matches are made once more from the IoU matrices
  COCOeval computed (`coco_matching`), never per resample. Per category, the detections are stored
  in the order COCOeval's `accumulate` ranks them (score, ties by image then rank in the image, the
  top 100 per image), each with its image
  and two bit masks over the IoU thresholds: matched (a true positive) and ignored (matched a crowd
  region). Scores are not needed once ranked. Detections after a category's last true positive are
  dropped: they only add false positives below the whole precision-recall curve, so AP is the same
  for every resample. Ground truth is stored as counts of non-ignored objects per image and category.
  No matching is redone when images are resampled (`evaluation.resample.coco_ap`).
- mmseg mIoU and friends (`seg_data`): the four per-image area vectors IoUMetric already computes
  (intersection, union, predicted and labelled pixels per class).

One run's data goes to `per_image.npz` next to its metrics.json (`tools/test.py` writes it; a
few MB for COCO val2017): keys `<kind>.<field>`, kind `bbox`, `segm` or `seg`. Runs evaluated by
mmdet's / mmseg's own CocoMetric / IoUMetric have none; the report then shows the seed interval only.
"""

import io
import os
from dataclasses import dataclass, fields

import numpy as np

from .coco_matching import match, pair_ground_truth

PER_IMAGE = 'per_image.npz'
FORMAT = 1  # bump when a field changes meaning; `load` refuses other versions
COCO_KINDS = ('bbox', 'segm')
MAX_DET = 100  # mmdet's mAP is COCO's AP at maxDets=100


@dataclass
class CocoData:
    """Per-image COCO evaluation of one run and IoU type, ranked as COCOeval.accumulate ranks it."""

    img_ids: np.ndarray  # (n_img,) image ids, COCOeval's order; det_img / gt_img index into it
    cat_ids: np.ndarray  # (K,)
    iou_thrs: np.ndarray  # (T,) T <= 16
    cat_start: np.ndarray  # (K + 1,) detections of category k are [cat_start[k], cat_start[k + 1])
    det_img: np.ndarray  # (N,) int32
    det_tp: np.ndarray  # (N,) uint16, bit t: matched a non-ignored object at iou_thrs[t]
    det_ig: np.ndarray  # (N,) uint16, bit t: ignored at iou_thrs[t] (matched a crowd region)
    gt_img: np.ndarray  # (G,) int32
    gt_cat: np.ndarray  # (G,) int32, index into cat_ids
    gt_n: np.ndarray  # (G,) int32, non-ignored objects of that category in that image (> 0)


@dataclass
class SegData:
    """Per-image pixel counts of one mmseg run, (n_img, n_classes) each, in the dataset's order."""

    classes: np.ndarray  # (C,) class names
    intersect: np.ndarray
    union: np.ndarray
    pred: np.ndarray
    label: np.ndarray


def coco_data(coco_eval, max_det=MAX_DET):
    """`CocoData` of a COCOeval (pycocotools' or faster-coco-eval's) after `evaluate()`.

    The matches come from `coco_matching` (COCOeval.evaluateImg's rule on the IoUs COCOeval computed).
    Only area "all" and the top `max_det` detections per image and category.
    """
    p = coco_eval.params
    img_ids, cat_ids = np.asarray(p.imgIds, np.int64), np.asarray(p.catIds, np.int64)
    if len(p.iouThrs) > 16:
        raise ValueError(f'{len(p.iouThrs)} IoU thresholds; per-image data holds at most 16')
    img_pos, cat_pos = {int(v): i for i, v in enumerate(img_ids)}, {int(v): k for k, v in enumerate(cat_ids)}
    # detections in COCOeval's order within an (image, category) pair: score, then their order in the results
    dts = coco_eval.cocoDt.dataset.get('annotations', [])
    img, keep_i = _positions(img_ids, [d['image_id'] for d in dts])
    cat, keep_c = _positions(cat_ids, [d['category_id'] for d in dts])
    score = np.fromiter((d['score'] for d in dts), np.float64, len(dts))
    keep = keep_i & keep_c
    img, cat, score = img[keep], cat[keep], score[keep]
    order = np.lexsort((np.arange(len(img)), -score, img, cat))
    img, cat, score = img[order], cat[order], score[order]
    pair_start = np.flatnonzero(np.r_[True, (img[1:] != img[:-1]) | (cat[1:] != cat[:-1])]) if len(img) else img
    rank = np.arange(len(img)) - np.repeat(pair_start, np.diff(np.r_[pair_start, len(img)]))
    kept = rank < max_det
    tp, ig = np.zeros(len(img), np.uint16), np.zeros(len(img), np.uint16)
    gts = pair_ground_truth(coco_eval)
    blocks, img_list, cat_list = [], img_ids.tolist(), cat_ids.tolist()
    for s, i, k in zip(pair_start.tolist(), img[pair_start].tolist(), cat[pair_start].tolist()):
        key = (img_list[i], cat_list[k])
        if key in gts:  # objects of this category in this image: COCOeval has their IoUs
            blocks.append((s, np.asarray(coco_eval.ious[key], np.float64)[:max_det], gts[key]))
    if blocks:
        match(blocks, np.asarray(p.iouThrs, np.float64), tp, ig)
    img, cat, score, tp, ig = img[kept], cat[kept], score[kept], tp[kept], ig[kept]
    # COCOeval.accumulate's ranking per category: score, ties by image, then by rank in the image
    order = np.lexsort((np.arange(len(img)), img, -score, cat))
    img, cat, tp, ig = img[order], cat[order], tp[order], ig[order]
    starts, parts = [0], []
    for k in range(len(cat_ids)):
        s, e = np.searchsorted(cat, [k, k + 1])
        hits = np.flatnonzero(tp[s:e])
        parts.append(np.arange(s, s + (hits[-1] + 1 if len(hits) else 0)))  # nothing after the last match counts
        starts.append(starts[-1] + len(parts[-1]))
    sel = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    gt_rows = [
        (img_pos[i], cat_pos[c], n)
        for (i, c), (ignore, _) in gts.items()
        if i in img_pos and c in cat_pos and (n := int(np.count_nonzero(~ignore)))
    ]
    return CocoData(
        img_ids,
        cat_ids,
        np.asarray(p.iouThrs, np.float64),
        np.asarray(starts, np.int64),
        img[sel].astype(np.int32),
        tp[sel],
        ig[sel],
        *_gt(sorted(gt_rows)),
    )


def _positions(ids, values):
    """(index of each value in the sorted `ids`, whether it is there at all)."""
    values = np.asarray(values, np.int64)
    at = np.minimum(np.searchsorted(ids, values), max(len(ids) - 1, 0))
    found = (ids[at] == values) if len(ids) else np.zeros(len(values), bool)
    return at, found


def coco_data_without_detections(coco_api, img_ids, cat_ids, iou_thrs):
    """`CocoData` of a run that predicted nothing: only the ground truth (AP 0 on every resample).

    Images and categories in COCOeval's order (it evaluates `np.unique` of the ids); an object counts
    unless it is a crowd region, as in COCOeval for area "all".
    """
    img_ids, cat_ids = np.unique(np.asarray(img_ids, np.int64)), np.unique(np.asarray(cat_ids, np.int64))
    index, cats, counts = {int(v): i for i, v in enumerate(img_ids)}, {int(v): k for k, v in enumerate(cat_ids)}, {}
    for ann in coco_api.dataset.get('annotations', []):
        i, k = index.get(ann['image_id']), cats.get(ann['category_id'])
        if i is not None and k is not None and not ann.get('iscrowd', 0):
            counts[(i, k)] = counts.get((i, k), 0) + 1
    return CocoData(
        img_ids,
        cat_ids,
        np.asarray(iou_thrs, np.float64),
        np.zeros(len(cat_ids) + 1, np.int64),
        _cat([], np.int32),
        _cat([], np.uint16),
        _cat([], np.uint16),
        *_gt([(i, k, n) for (i, k), n in sorted(counts.items())]),
    )


def _cat(parts, dtype):
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _gt(rows):
    gt = np.array(rows, dtype=np.int32).reshape(-1, 3)
    return gt[:, 0].copy(), gt[:, 1].copy(), gt[:, 2].copy()


def seg_data(results, classes):
    """`SegData` from IoUMetric's per-image results: tuples (intersect, union, pred, label) of (C,) tensors."""
    arrays = [
        np.stack([np.asarray(r[j].cpu() if hasattr(r[j], 'cpu') else r[j], dtype=np.float64) for r in results])
        .round()
        .astype(np.int64)
        .reshape(len(results), len(classes))
        for j in range(4)
    ]
    return SegData(np.asarray(classes, dtype=str), *arrays)


def collect(evaluator):
    """{kind: data} of the metrics of an mmengine Evaluator that kept per-image data (`per_image`)."""
    out = {}
    for metric in getattr(evaluator, 'metrics', []):
        out.update(getattr(metric, 'per_image', None) or {})
    return out


def save(path, data):
    """Write {kind: CocoData | SegData} to `path` (npz, atomically)."""
    from ..jsonio import write_atomic

    arrays = {'format': np.array(FORMAT)}
    for kind, d in data.items():
        arrays.update({f'{kind}.{f.name}': getattr(d, f.name) for f in fields(d)})
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    write_atomic(path, buf.getvalue())


def load(path):
    """{kind: CocoData | SegData} from a `per_image.npz`; ValueError naming the file if it is not one."""
    try:
        with np.load(os.fspath(path), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as e:
        raise ValueError(f'{path}: not a readable per-image file ({e})') from None
    if int(arrays.pop('format', -1)) != FORMAT:
        raise ValueError(f'{path}: per-image format is not {FORMAT}; re-evaluate the run to rewrite it')
    out = {}
    for kind in dict.fromkeys(k.split('.', 1)[0] for k in arrays):
        cls = SegData if kind == 'seg' else CocoData
        try:
            out[kind] = cls(**{f.name: arrays[f'{kind}.{f.name}'] for f in fields(cls)})
        except KeyError as e:
            raise ValueError(f'{path}: {kind} lacks field {e.args[0]}') from None
    return out
