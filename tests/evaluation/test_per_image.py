"""Per-image evaluation data and the metrics recomputed from it on resampled images.

References are independent of the code under test: pycocotools' own `evalImgs` and COCOeval AP (also
on datasets where the resampled images are copied for real), faster-coco-eval's AP, and mmseg's
IoUMetric formulas on explicitly resampled pixel counts.
"""

import contextlib
import copy
import io

import numpy as np
import pytest
import torch
from faster_coco_eval import COCO as FasterCOCO
from faster_coco_eval import COCOeval_faster
from mmseg.evaluation import IoUMetric
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from benchmarks.coco_eval import synthetic_coco
from harness.evaluation import BorderCocoMetric, per_image
from harness.evaluation.empty import fill_no_detections
from harness.evaluation.resample import coco_ap, seg_metric
from harness.report.intervals import image_weights

KINDS = ['bbox', 'segm']


@pytest.fixture(scope='module')
def synthetic():
    """40 images, 6 categories, two crowd regions, detections that hit, miss and hit crowds."""
    gt, preds = synthetic_coco(n_images=40, n_cats=6, size=(96, 128), false_positives=4, seed=3)
    for ann in gt['annotations'][:2]:
        ann['iscrowd'] = 1
    return gt, preds


def _preds(preds, kind):
    return preds if kind == 'bbox' else [{k: v for k, v in p.items() if k != 'bbox'} for p in preds]


def _pycoco(gt, preds, kind):
    with contextlib.redirect_stdout(io.StringIO()):
        api = COCO()
        api.dataset = copy.deepcopy(gt)
        api.createIndex()
        ev = COCOeval(api, api.loadRes(copy.deepcopy(_preds(preds, kind))), kind)
        ev.params.maxDets = [100, 300, 1000]  # as mmdet's CocoMetric sets them
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def _from_eval_imgs(ev, max_det=100):
    """(per-detection (category, image, rank, tp bits, ignore bits), {(image, category): non-ignored objects}) read
    straight from pycocotools' evalImgs (area 'all')."""
    p, dets, gts = ev.params, [], {}
    n_img, n_area = len(p.imgIds), len(p.areaRng)
    for k in range(len(p.catIds)):
        for i in range(n_img):
            e = ev.evalImgs[k * n_area * n_img + i]
            if e is None:
                continue
            bits = 1 << np.arange(len(p.iouThrs))
            matched, ignored = np.asarray(e['dtMatches']) > 0, np.asarray(e['dtIgnore']).astype(bool)
            for d in range(min(len(e['dtScores']), max_det)):
                tp = int((bits * (matched[:, d] & ~ignored[:, d])).sum())
                dets.append((k, i, e['dtScores'][d], tp, int((bits * ignored[:, d]).sum())))
            n = int(np.count_nonzero(np.asarray(e['gtIgnore']) == 0))
            if n:
                gts[(i, k)] = n
    return dets, gts


@pytest.mark.parametrize('kind', KINDS)
def test_matches_are_pycocotools_evalimgs(synthetic, kind):
    ev = _pycoco(*synthetic, kind)
    data = per_image.coco_data(ev)
    dets, gts = _from_eval_imgs(ev)
    assert dict(zip(zip(data.gt_img.tolist(), data.gt_cat.tolist()), data.gt_n.tolist())) == gts
    assert data.det_tp.any() and data.det_ig.any()  # true positives and crowd hits are both exercised
    for k in range(len(data.cat_ids)):
        part = slice(data.cat_start[k], data.cat_start[k + 1])
        mine = data.det_img[part], data.det_tp[part]
        ref = sorted([d for d in dets if d[0] == k], key=lambda d: -d[2])  # stable: image order on ties
        last = max((j for j, d in enumerate(ref) if d[3]), default=-1)  # stored up to the last true positive
        assert mine[0].tolist() == [d[1] for d in ref[: last + 1]]
        assert mine[1].tolist() == [d[3] for d in ref[: last + 1]]


@pytest.mark.parametrize('kind', KINDS)
def test_ap_on_the_whole_set_is_cocoeval_ap_for_both_backends(synthetic, kind):
    gt, preds = synthetic
    ev = _pycoco(gt, preds, kind)
    ones = np.ones((1, len(ev.params.imgIds)))
    assert coco_ap(per_image.coco_data(ev), ones)[0] == pytest.approx(ev.stats[0], abs=1e-12)
    assert coco_ap(per_image.coco_data(ev), ones, iou=0.5)[0] == pytest.approx(ev.stats[1], abs=1e-12)
    api = FasterCOCO(copy.deepcopy(gt))
    fe = COCOeval_faster(
        api, api.loadRes(copy.deepcopy(_preds(preds, kind))), kind, print_function=lambda *a, **k: None
    )
    fe.params.maxDets = [100, 300, 1000]
    fe.evaluate()
    fe.accumulate()
    assert coco_ap(per_image.coco_data(fe), ones)[0] == pytest.approx(fe._summarize(1, maxDets=100), abs=1e-12)


def _copied(gt, preds, draw):
    """The dataset and predictions with image `i` copied as many times as `draw` holds it (new ids, adjacent)."""
    images, anns, dets = [], [], []
    by_img = {}
    for p in preds:
        by_img.setdefault(p['image_id'], []).append(p)
    gt_by_img = {}
    for a in gt['annotations']:
        gt_by_img.setdefault(a['image_id'], []).append(a)
    for i, img in enumerate(gt['images']):
        for c in range(int(draw[i])):
            new = img['id'] * 100 + c
            images.append(dict(img, id=new))
            anns += [dict(a, id=len(anns) + j + 1, image_id=new) for j, a in enumerate(gt_by_img.get(img['id'], []))]
            dets += [dict(p, image_id=new) for p in by_img.get(img['id'], [])]
    return dict(gt, images=images, annotations=anns), dets


@pytest.mark.parametrize('kind', KINDS)
def test_bootstrap_ap_is_cocoeval_on_the_copied_images(synthetic, kind):
    """A fixed-seed resample scored from per-image data equals pycocotools' AP on a dataset where the drawn
    images really are copied."""
    gt, preds = synthetic
    data = per_image.coco_data(_pycoco(gt, preds, kind))
    weights = image_weights(len(gt['images']), n_boot=4, seed=7)
    fast = coco_ap(data, weights)
    for b, draw in enumerate(weights):
        assert fast[b] == pytest.approx(_pycoco(*_copied(gt, preds, draw), kind).stats[0], abs=1e-12)
    assert len(set(np.round(fast, 9))) > 1  # the resamples differ


def test_seg_bootstrap_is_iou_metric_on_resampled_counts():
    rng = np.random.default_rng(0)
    n, classes = 25, ('road', 'sidewalk', 'car')
    label = rng.integers(0, 50, (n, 3)).astype(np.int64)
    label[:, 2] *= rng.random(n) < 0.3  # a rare class: absent from many resamples
    pred = rng.integers(0, 50, (n, 3))
    inter = np.minimum(label, pred) // 2
    data = per_image.SegData(np.array(classes), inter, label + pred - inter, pred, label)
    weights = image_weights(n, n_boot=20, seed=3)
    ids = np.random.default_rng(3).integers(0, n, size=(20, n))  # the same draws, as image ids
    for key in ('mIoU', 'mAcc', 'aAcc', 'IoU.car', 'Acc.road'):
        got = seg_metric(data, weights, key)
        for b in range(20):
            sums = [torch.tensor(a[ids[b]].sum(0), dtype=torch.float64) for a in (inter, data.union, pred, label)]
            m = IoUMetric.total_area_to_metrics(*sums, ['mIoU', 'mDice'], None, 1)
            want = {
                'mIoU': np.nanmean(m['IoU']),
                'mAcc': np.nanmean(m['Acc']),
                'aAcc': m['aAcc'],
                'IoU.car': m['IoU'][2],
                'Acc.road': m['Acc'][0],
            }[key] * 100
            assert got[b] == pytest.approx(want, abs=1e-9, nan_ok=True)


def test_save_and_load_round_trip(tmp_path, synthetic):
    data = {
        'bbox': per_image.coco_data(_pycoco(*synthetic, 'bbox')),
        'seg': per_image.SegData(np.array(['a', 'b']), *[np.arange(6).reshape(3, 2)] * 4),
    }
    per_image.save(tmp_path / 'p.npz', data)
    back = per_image.load(tmp_path / 'p.npz')
    for kind, d in data.items():
        for name in d.__dataclass_fields__:
            assert np.array_equal(getattr(back[kind], name), getattr(d, name)), (kind, name)
    (tmp_path / 'bad.npz').write_bytes(b'not a zip')
    with pytest.raises(ValueError, match='bad.npz: not a readable per-image file'):
        per_image.load(tmp_path / 'bad.npz')


def test_no_detections_is_ap_zero_not_an_empty_dict(tmp_path):
    """mmdet's CocoMetric returns {} when nothing is predicted; the recorded result is AP 0 (and -1 where the
    set has no such objects), per border bin too, with per-image data that scores 0 on every resample."""
    images = [dict(id=i, width=100, height=100, file_name=f'{i}.jpg') for i in (1, 2)]
    anns = [
        dict(id=1, image_id=1, category_id=1, bbox=[0, 0, 10, 10], area=100, iscrowd=0, segmentation=[]),
        dict(id=2, image_id=2, category_id=2, bbox=[30, 30, 40, 40], area=9000, iscrowd=0, segmentation=[]),
    ]
    ann_file = tmp_path / 'ann.json'
    ann_file.write_text(
        __import__('json').dumps(
            dict(images=images, annotations=anns, categories=[dict(id=1, name='a'), dict(id=2, name='b')])
        )
    )
    metric = BorderCocoMetric(ann_file=str(ann_file), metric=['bbox'], border_bins=(0, 1, 32))
    metric.dataset_meta = dict(classes=('a', 'b'))
    empty = dict(bboxes=np.zeros((0, 4)), scores=np.zeros(0), labels=np.zeros(0, int))
    assert metric.compute_metrics([(dict(img_id=i, width=100, height=100), empty) for i in (1, 2)]) == {}
    filled, notes = fill_no_detections(type('Evaluator', (), {'metrics': [metric]})(), {'probe/H_spc': 0.5})
    assert filled['coco/bbox_mAP'] == 0.0 and filled['coco/bbox_mAP_s'] == 0.0 and filled['coco/bbox_mAP_m'] == 0.0
    assert filled['coco/bbox_mAP_l'] == -1.0  # areas 100 and 9000 px: no object above 96^2 px in the set
    # the boxes are 0 px (touching) and 30 px from the border: bins 0-1 and 1-32, nothing at 32+
    assert filled['border/bbox_mAP@0-1'] == 0.0 and filled['border/bbox_mAP@1-32'] == 0.0
    assert filled['border/bbox_mAP@32-inf'] == -1.0
    assert [filled[f'border/count@{b}'] for b in ('0-1', '1-32', '32-inf')] == [1, 1, 0]
    assert filled['probe/H_spc'] == 0.5 and notes and notes[0].startswith('no detections')
    data = metric.per_image['bbox']
    assert coco_ap(data, image_weights(2, n_boot=5, seed=0)).tolist() == [0.0] * 5


def test_seg_metric_keeps_per_image_counts_that_give_its_miou():
    """BorderIoUMetric's per-image data, weights all one, gives back the mIoU and per-class IoU it reports."""
    from harness.data import CITYSCAPES_CLASSES
    from harness.evaluation import BorderIoUMetric

    gen = torch.Generator().manual_seed(0)
    labels = [torch.randint(0, 4, (24, 40), generator=gen) for _ in range(5)]
    preds = [torch.where(torch.rand(l.shape, generator=gen) < 0.3, (l + 1) % 4, l) for l in labels]
    metric = BorderIoUMetric(border_bins=(0, 8))
    metric.dataset_meta = dict(classes=CITYSCAPES_CLASSES)
    metric.process(
        {}, [dict(pred_sem_seg=dict(data=p[None]), gt_sem_seg=dict(data=l[None])) for l, p in zip(labels, preds)]
    )
    reported = metric.evaluate(5)
    data = metric.per_image['seg']
    assert data.intersect.shape == (5, len(CITYSCAPES_CLASSES))
    ones = np.ones((1, 5))
    assert seg_metric(data, ones, 'mIoU')[0] == pytest.approx(reported['mIoU'], abs=0.005)  # reported: 2 decimals
    assert seg_metric(data, ones, 'IoU.road')[0] == pytest.approx(reported['IoU.road'], abs=0.005)
