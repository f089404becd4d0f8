"""COCOeval's matching of detections to ground truth, made again from the IoUs COCOeval computed.

Why: the report's image bootstrap (`per_image`, `resample`) needs, per image, which object each
detection matched at each IoU threshold: pycocotools keeps that in `evalImgs`, but faster-coco-eval
(the harness's default backend) keeps it in C++ objects that Python cannot read. The IoU matrices
(`coco_eval.ious`, the costly part of the evaluation) are there with both backends, and the greedy rule
of COCOeval.evaluateImg is short: per threshold, each detection in score order takes the unmatched
regular object of highest IoU >= the threshold (the last one on ties), else an ignored (crowd) one,
which may be taken again. It runs once per evaluation, compiled (numba); tests compare the result with
pycocotools' `evalImgs`.
"""

import numpy as np


def pair_ground_truth(coco_eval):
    """{(image id, category id): (ignore flags, crowd flags)} of the ground truth COCOeval evaluated, in the
    order of its IoU columns."""
    p = coco_eval.params
    imgs, cats, pairs = set(int(i) for i in p.imgIds), set(int(c) for c in p.catIds), {}
    # COCOeval takes them from getAnnIds(imgIds, catIds): within a pair, the dataset's order, as here
    for a in coco_eval.cocoGt.dataset.get('annotations', []):
        if a['image_id'] in imgs and a['category_id'] in cats:  # both backends: ignore = iscrowd
            pairs.setdefault((a['image_id'], a['category_id']), []).append(bool(a.get('iscrowd', 0)))
    return {key: (np.array(v, bool), np.array(v, bool)) for key, v in pairs.items()}


def match(blocks, iou_thrs, tp, ig):
    """COCO's greedy matching of every (image, category) pair in `blocks`; bit masks into `tp` / `ig`."""
    offs, dims, flat_iou, flat_ig, flat_crowd, det = [0], [], [], [], [], []
    for s, ious, (ignore, crowd) in blocks:
        if ignore.any():  # COCOeval: regular objects first, then ignored ones
            order = np.argsort(ignore, kind='mergesort')
            ious, ignore, crowd = ious[:, order], ignore[order], crowd[order]
        flat_iou.append(ious.ravel())
        flat_ig.append(ignore), flat_crowd.append(crowd)
        dims.append(ious.shape), det.append(s)
        offs.append(offs[-1] + ious.shape[1])
    _matcher()(
        np.concatenate(flat_iou),
        np.array(dims, np.int64),
        np.array(offs, np.int64),
        np.concatenate(flat_ig),
        np.concatenate(flat_crowd),
        np.array(det, np.int64),
        np.minimum(iou_thrs, 1 - 1e-10),
        tp,
        ig,
    )


_KERNELS: dict = {}


def _matcher():
    """COCOeval.evaluateImg's matching loop, compiled (numba): per pair, threshold and detection in score
    order, the unmatched regular object of highest IoU (the last one on ties), else an ignored one."""
    if 'match' not in _KERNELS:
        from numba import njit

        @njit(cache=True, nogil=True)
        def match(iou, dims, gt_off, ignore, crowd, det, thrs, tp, ig):
            at = 0
            for q in range(dims.shape[0]):
                n_det, n_gt, g0 = dims[q, 0], dims[q, 1], gt_off[q]
                for t in range(thrs.shape[0]):
                    taken = np.zeros(n_gt, np.bool_)
                    for d in range(n_det):
                        best, m = thrs[t], -1
                        for g in range(n_gt):
                            if taken[g] and not crowd[g0 + g]:
                                continue
                            if m > -1 and not ignore[g0 + m] and ignore[g0 + g]:
                                break
                            if iou[at + d * n_gt + g] < best:
                                continue
                            best, m = iou[at + d * n_gt + g], g
                        if m == -1:
                            continue
                        taken[m] = True
                        if ignore[g0 + m]:
                            ig[det[q] + d] |= np.uint16(1 << t)
                        else:
                            tp[det[q] + d] |= np.uint16(1 << t)
                at += n_det * n_gt

        _KERNELS['match'] = match
    return _KERNELS['match']
