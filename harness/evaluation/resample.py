"""A run's metric recomputed on resampled evaluation images, from its per-image data (`per_image`).

A resample is given as integer weights, one per image: how many times the image was drawn
(`weights[b, i]`; all ones give the metric on the whole set). Every function takes a (B, n_img)
weight matrix and returns B values, so a bootstrap of B = 1000 resamples is one call.

COCO AP (`coco_ap`) follows COCOeval.accumulate at area "all", maxDets=100, and equals COCOeval's
AP@[.5:.95] (mmdet's `coco/<kind>_mAP` before rounding) on the whole set; no matching is redone. It
is written here because pycocotools' and faster-coco-eval's `accumulate` take one set of images, and
calling them 1000 times per run costs more than the evaluation. What makes a resample cheap:

- weights instead of copies: an image drawn w times adds w to the true- and false-positive counts
  where its detections rank. Copies of a detection sit next to each other in COCO's ranking, and the
  interpolated precision (the running maximum from the right) is the same after one step of w as
  after w steps of 1, so the weighted curve gives COCO's AP on the resampled set exactly (up to
  detections with equal scores in different images, whose order is arbitrary in COCO as well);
- only the ends of runs of true positives matter: within a run precision rises and a false positive
  lowers it, so the interpolated precision at every recall is a value at the end of a run, and the
  recall thresholds first reached inside a run take that value;
- the recall thresholds reached are counted so as to reproduce COCO's float comparison
  `recall >= np.linspace(0, 1, 101)[r]` exactly, and the loops are compiled (numba).

mmseg metrics (`seg_metric`): weighted sums of the per-image intersection / union / pixel counts, then
IoUMetric's formulas (classes without pixels are NaN and left out of the mean; percent).
"""

import numpy as np
from scipy import sparse

_REC_THRS = np.linspace(0.0, 1.0, 101)  # COCO's recall thresholds
# Where recall is exactly r / 100 (as a fraction), COCO's `fl(recall) >= _REC_THRS[r]` fails for a few
# r, e.g. 35: fl(0.35) < fl(35 * 0.01). Counting has to miss the same thresholds.
_MISSED_AT_EXACT = np.array([not (r / 100 >= _REC_THRS[r]) for r in range(101)])
_MISSED = _MISSED_AT_EXACT.astype(np.float64)
_BLOCK = 256  # resamples per kernel call
_KERNELS: dict = {}


def _kernel():
    """The compiled AP loop (numba; cached on disk next to this file after the first compilation). The
    resamples are the inner, contiguous dimension, so each step is one vector operation over all of them."""
    if 'ap' not in _KERNELS:
        from numba import njit

        @njit(cache=True, nogil=True, error_model='numpy')
        def ap_sums(
            wt,
            det_img,
            cat_start,
            row_pos,
            row_off,
            tp_pos,
            tp_end,
            tp_row,
            tp_off,
            ig_pos,
            ig_off,
            n_obj,
            n_thr,
            ts,
            missed,
            total,
        ):
            """total[b] += over categories, thresholds `ts` and COCO's 101 recall thresholds, the interpolated
            precision with image weights wt[:, b]. Categories without objects in a resample add 0 there."""
            n_b = wt.shape[1]
            eps = np.spacing(1.0)
            longest = 1
            for k in range(cat_start.shape[0] - 1):
                longest = max(longest, row_off[k + 1] - row_off[k])
            counted = np.empty((longest, n_b))  # detections up to each run end of the category
            precision, reached = np.empty((longest, n_b)), np.empty((longest, n_b))
            acc, tp, ignored, best = np.empty(n_b), np.empty(n_b), np.empty(n_b), np.empty(n_b)
            for k in range(cat_start.shape[0] - 1):
                objects = np.maximum(n_obj[k], 1.0)  # no objects: no true positive has weight, so it adds 0
                acc[:] = 0.0
                p = cat_start[k]
                for row in range(row_off[k], row_off[k + 1]):
                    while p <= row_pos[row]:
                        acc += wt[det_img[p]]
                        p += 1
                    counted[row - row_off[k]] = acc
                for ti in range(ts.shape[0]):
                    slot = k * n_thr + ts[ti]
                    g, g_end = ig_off[slot], ig_off[slot + 1]
                    tp[:] = 0.0
                    ignored[:] = 0.0
                    runs = 0
                    for j in range(tp_off[slot], tp_off[slot + 1]):
                        tp += wt[det_img[tp_pos[j]]]
                        if tp_end[j]:
                            while g < g_end and ig_pos[g] <= tp_pos[j]:
                                ignored += wt[det_img[ig_pos[g]]]
                                g += 1
                            c = counted[tp_row[j] - row_off[k]]
                            for b in range(n_b):
                                precision[runs, b] = tp[b] / (c[b] - ignored[b] + eps)
                                y = (100.0 * tp[b]) / objects[b]  # exact when tp / objects is r / 100
                                r = np.floor(y)
                                reached[runs, b] = r + 1.0 - (y == r) * missed[int(r)]
                            runs += 1
                    best[:] = 0.0
                    for i in range(runs - 1, -1, -1):  # COCO's running maximum from the right
                        for b in range(n_b):
                            best[b] = max(best[b], precision[i, b])
                            total[b] += best[b] * (reached[i, b] - (reached[i - 1, b] if i > 0 else 0.0))
            return total

        _KERNELS['ap'] = ap_sums
    return _KERNELS['ap']


class _Plan:
    """Per category and IoU threshold: the true positives in rank order, which of them end a run, and the
    detections ignored at that threshold; per category the positions where any threshold's run ends (rows);
    the ground-truth counts as a sparse (categories x images) matrix."""

    def __init__(self, d):
        n_cat, n_thr = len(d.cat_ids), len(d.iou_thrs)
        self.n_img, self.n_thr = len(d.img_ids), n_thr
        self.gt = sparse.csr_matrix((d.gt_n.astype(np.float64), (d.gt_cat, d.gt_img)), shape=(n_cat, self.n_img))
        tp_pos, tp_end, tp_row, ig_pos, rows = [], [], [], [], []
        self.tp_off, self.ig_off = np.zeros(n_cat * n_thr + 1, np.int64), np.zeros(n_cat * n_thr + 1, np.int64)
        self.row_off = np.zeros(n_cat + 1, np.int64)
        for k in range(n_cat):
            s, e = d.cat_start[k], d.cat_start[k + 1]
            per_t = []
            for t in range(n_thr):
                tp = ((d.det_tp[s:e] >> t) & 1).astype(bool)
                ig = ((d.det_ig[s:e] >> t) & 1).astype(bool)
                live = np.flatnonzero(~ig)  # ignored detections are neither true nor false positives
                hit = tp[live]
                ends = np.ones(len(live), bool)
                ends[:-1] = ~hit[1:]
                per_t.append((s + live[hit], ends[hit], s + np.flatnonzero(ig)))
            cat_rows = np.unique(np.concatenate([pos[end] for pos, end, _ in per_t])) if per_t else np.zeros(0, int)
            rows.append(cat_rows)
            self.row_off[k + 1] = self.row_off[k] + len(cat_rows)
            for t, (pos, end, ign) in enumerate(per_t):
                tp_pos.append(pos), tp_end.append(end), ig_pos.append(ign)
                tp_row.append(self.row_off[k] + np.searchsorted(cat_rows, pos))  # valid where end
                self.tp_off[k * n_thr + t + 1] = self.tp_off[k * n_thr + t] + len(pos)
                self.ig_off[k * n_thr + t + 1] = self.ig_off[k * n_thr + t] + len(ign)
        join = lambda parts, dtype: np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)  # noqa
        self.tp_pos, self.tp_end, self.ig_pos = join(tp_pos, np.int64), join(tp_end, np.bool_), join(ig_pos, np.int64)
        self.tp_row, self.row_pos = join(tp_row, np.int64), join(rows, np.int64)
        self.det_img, self.cat_start = d.det_img.astype(np.int64), d.cat_start.astype(np.int64)


def coco_ap(data, weights, iou=None):
    """COCO AP in [0, 1] of each resample (-1 where no category has objects): (B,) for (B, n_img) weights.

    `iou`: one IoU threshold (0.5: AP50), or None for the mean over all of them (AP@[.5:.95]).
    """
    plan = getattr(data, '_plan', None)
    if plan is None:
        plan = data._plan = _Plan(data)
    w = np.ascontiguousarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != plan.n_img:
        raise ValueError(f'weights of shape {w.shape}; expected (resamples, {plan.n_img})')
    ts = np.arange(plan.n_thr) if iou is None else np.flatnonzero(np.isclose(data.iou_thrs, iou))
    if not len(ts):
        raise KeyError(f'IoU threshold {iou}: not among the evaluated {list(data.iou_thrs)}')
    wt = np.ascontiguousarray(w.T)  # (n_img, B): one image's weights in all resamples side by side
    n_obj = plan.gt @ wt  # (K, B) objects per category and resample
    sums = np.zeros(len(w))
    for b0 in range(0, len(w), _BLOCK):  # blocks of resamples keep the per-category buffers small
        sums[b0 : b0 + _BLOCK] = _kernel()(
            np.ascontiguousarray(wt[:, b0 : b0 + _BLOCK]),
            plan.det_img,
            plan.cat_start,
            plan.row_pos,
            plan.row_off,
            plan.tp_pos,
            plan.tp_end,
            plan.tp_row,
            plan.tp_off,
            plan.ig_pos,
            plan.ig_off,
            np.ascontiguousarray(n_obj[:, b0 : b0 + _BLOCK]),
            plan.n_thr,
            ts,
            _MISSED,
            np.zeros(len(w[b0 : b0 + _BLOCK])),
        )
    count = (n_obj > 0).sum(0) * len(ts) * len(_REC_THRS)  # COCO averages over valid entries only
    return np.where(count > 0, sums / np.maximum(count, 1), -1.0)


def seg_metric(data, weights, key):
    """mmseg's `key` ('mIoU', 'mAcc', 'aAcc', 'IoU.<class>', 'Acc.<class>') in percent, per resample."""
    w = np.asarray(weights, dtype=np.float64)
    inter = w @ data.intersect
    name, _, cls = key.partition('.')
    with np.errstate(divide='ignore', invalid='ignore'):
        if key == 'aAcc':
            return 100.0 * inter.sum(1) / (w @ data.label).sum(1)
        if (name in ('mIoU', 'mAcc') and not cls) or (name in ('IoU', 'Acc') and cls):
            per_class = inter / (w @ (data.union if 'IoU' in name else data.label))
            if not cls:
                return 100.0 * np.nanmean(per_class, axis=1)
            index = np.flatnonzero(data.classes == cls)
            if len(index):
                return 100.0 * per_class[:, index[0]]
    raise KeyError(f'{key}: not a metric that per-image segmentation data can recompute')


def resamplable(key):
    """How `key` is recomputed from per-image data: ('coco', kind, IoU or None), ('seg', key), or None if it is not."""
    if key.startswith('coco/'):
        kind, _, rest = key[5:].partition('_')
        thresholds = {'mAP': None, 'mAP_50': 0.5, 'mAP_75': 0.75}
        if kind in ('bbox', 'segm') and rest in thresholds:
            return ('coco', kind, thresholds[rest])
        return None
    if key in ('mIoU', 'mAcc', 'aAcc') or key.startswith(('IoU.', 'Acc.')):
        return ('seg', key)
    return None
