"""BorderCocoMetric / BorderIoUMetric: one bin covering everything reproduces mAP / mIoU, hand-made
cases land in the right bin, and the faster-coco-eval and pycocotools backends agree."""

import inspect
import json
import math
import tempfile
from pathlib import Path

import mmdet.evaluation.metrics.coco_metric as coco_metric
import numpy as np
import pycocotools.cocoeval
import pytest
import torch
from faster_coco_eval import COCO as FasterCOCO
from faster_coco_eval import COCOeval_faster
from PIL import Image
from pycocotools.coco import COCO

from harness.data import CITYSCAPES_CLASSES, COCO_CLASSES, make_tiny_cityscapes, make_tiny_coco
from harness.errors import ConfigError
from harness.evaluation import BorderCocoMetric, BorderIoUMetric, pixel_bands

INF = float('inf')
BACKENDS = ['faster', 'pycocotools']


# ---------------------------------------------------------------- COCO


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    """(ann_file, pycocotools COCO) of a 60-image tiny COCO val set."""
    tiny = make_tiny_coco(tmp_path_factory.mktemp('coco'), n_train=1, n_val=60)
    ann_file = str(tiny.root / tiny.ann_files['val'])
    return ann_file, COCO(ann_file)


def _distance(bbox, w, h):
    x, y, bw, bh = bbox
    return max(0, min(x, y, w - x - bw, h - y - bh))


def _sample(img, dets):
    """A data sample as mmdet's test loop hands it to CocoMetric.process; dets: (xyxy, mask, label, score)."""
    h, w = img['height'], img['width']
    n = len(dets)
    return dict(
        img_id=img['id'],
        ori_shape=(h, w),
        pred_instances=dict(
            bboxes=torch.tensor([d[0] for d in dets], dtype=torch.float32).reshape(n, 4),
            masks=torch.from_numpy(np.array([d[1] for d in dets], dtype=bool).reshape(n, h, w)),
            labels=torch.tensor([d[2] for d in dets], dtype=torch.long),
            scores=torch.tensor([d[3] for d in dets], dtype=torch.float32),
        ),
    )


def _shifted(mask, dy, dx):
    out = np.zeros_like(mask)
    h, w = mask.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = mask[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def _box_mask(xyxy, h, w):
    mask = np.zeros((h, w), bool)
    x1, y1, x2, y2 = (int(round(v)) for v in xyxy)
    mask[y1:y2, x1:x2] = True
    return mask


def _noisy_samples(gt, seed=0):
    """Perturbed ground truth (3 detections per object, 10% wrong labels, random scores) plus one
    false positive per image; the first 10 images also get 110 higher-scored junk boxes of their
    first object's class, so that AP at 100 detections per image and class (COCO's mAP) differs
    from AP at 1000 (mmdet's last maxDets)."""
    rng = np.random.default_rng(seed)
    samples = []
    for i, img_id in enumerate(sorted(gt.getImgIds())):
        img = gt.imgs[img_id]
        h, w = img['height'], img['width']
        dets, anns = [], gt.loadAnns(gt.getAnnIds(imgIds=img_id))
        for ann in anns:
            x, y, bw, bh = ann['bbox']
            for _ in range(3):
                jitter = rng.uniform(-4, 4, 4)
                xyxy = np.clip(
                    [x + jitter[0], y + jitter[1], x + bw + jitter[2], y + bh + jitter[3]], 0, [w, h, w, h]
                ).tolist()
                mask = _shifted(gt.annToMask(ann).astype(bool), *rng.integers(-3, 4, 2))
                label = ann['category_id'] - 1 if rng.random() > 0.1 else int(rng.integers(3))
                dets.append((xyxy, mask, label, rng.uniform(0, 0.5 if i < 10 else 1)))
        for _ in range(111 if i < 10 else 1):
            x1, y1 = rng.uniform(0, [w - 20, h - 20])
            xyxy = [x1, y1, x1 + rng.uniform(8, 20), y1 + rng.uniform(8, 20)]
            label = anns[0]['category_id'] - 1 if i < 10 else int(rng.integers(3))
            dets.append((xyxy, _box_mask(xyxy, h, w), label, rng.uniform(0.5, 1)))
        samples.append(_sample(img, dets))
    return samples


@pytest.fixture(scope='module')
def noisy(coco):
    return _noisy_samples(coco[1])


def _evaluate(ann_file, samples, **kwargs):
    metric = BorderCocoMetric(ann_file=ann_file, metric=['bbox', 'segm'], **kwargs)
    metric.dataset_meta = dict(classes=COCO_CLASSES)
    metric.process({}, samples)
    return metric.evaluate(len(samples))


@pytest.mark.parametrize('backend', BACKENDS)
def test_one_bin_equals_coco_map(coco, noisy, backend):
    ann_file, gt = coco
    m = _evaluate(ann_file, noisy, border_bins=(0, INF), backend=backend)
    for iou_type in ('bbox', 'segm'):
        assert 0.05 < m[f'coco/{iou_type}_mAP'] < 0.95
        assert m[f'border/{iou_type}_mAP@0-inf'] == pytest.approx(m[f'coco/{iou_type}_mAP'], abs=1e-4)
    assert m['border/count@0-inf'] == len(gt.getAnnIds())


def test_backends_agree(coco, noisy, monkeypatch):
    ann_file, _ = coco
    calls = []
    for cls in (COCOeval_faster, pycocotools.cocoeval.COCOeval):  # which backend really ran
        monkeypatch.setattr(cls, 'evaluate', _counting(cls.evaluate, calls, cls.__module__.split('.')[0]))
    metric = BorderCocoMetric(ann_file=ann_file, metric=['bbox', 'segm'], backend='faster')
    assert not isinstance(metric._coco_api, FasterCOCO)  # made by pycocotools at init
    metric.dataset_meta = dict(classes=COCO_CLASSES)
    metric.process({}, noisy)
    faster = metric.evaluate(len(noisy))
    assert isinstance(metric._coco_api, FasterCOCO) and calls == ['faster_coco_eval'] * 4
    calls.clear()
    pycoco = _evaluate(ann_file, noisy, backend='pycocotools')
    assert calls == ['pycocotools'] * 4
    assert coco_metric.COCOeval is pycocotools.cocoeval.COCOeval  # mmdet's names restored
    assert list(faster) == list(pycoco)
    assert [k for k in faster if k.startswith('border/bbox')] == [
        'border/bbox_mAP@0-1',
        'border/bbox_mAP@1-32',
        'border/bbox_mAP@32-96',
        'border/bbox_mAP@96-inf',
    ]
    assert len(faster) == 2 * 6 + 2 * 4 + 4
    for key in faster:
        assert faster[key] == pytest.approx(pycoco[key], abs=1e-4), key
    assert sum(0 < faster[f'border/bbox_mAP@{b}'] < 1 for b in ('0-1', '1-32', '32-96')) >= 2


def _counting(method, calls, name):
    def evaluate(self):
        calls.append(name)
        return method(self)

    return evaluate


@pytest.mark.parametrize('backend', BACKENDS)
def test_perfect_on_border_only(coco, backend, monkeypatch, tmp_path):
    """Exact detections for the objects touching the border, none elsewhere."""
    ann_file, gt = coco
    counts = [0, 0, 0, 0]
    samples = []
    for img_id in sorted(gt.getImgIds()):
        img = gt.imgs[img_id]
        dets = []
        for ann in gt.loadAnns(gt.getAnnIds(imgIds=img_id)):
            d = _distance(ann['bbox'], img['width'], img['height'])
            counts[(d >= 1) + (d >= 32) + (d >= 96)] += 1
            if d < 1:
                x, y, bw, bh = ann['bbox']
                dets.append(([x, y, x + bw, y + bh], gt.annToMask(ann).astype(bool), ann['category_id'] - 1, 1.0))
        samples.append(_sample(img, dets))
    assert counts[0] > 20 and counts[1] > 20 and counts[2] > 0 and counts[3] == 0
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))  # where CocoMetric's json files go
    metric = BorderCocoMetric(ann_file=ann_file, metric=['bbox', 'segm'], backend=backend)
    metric.dataset_meta = dict(classes=COCO_CLASSES)
    metric.process({}, samples)
    m = metric.evaluate(len(samples))
    assert [m[f'border/count@{b}'] for b in ('0-1', '1-32', '32-96', '96-inf')] == counts
    for iou_type in ('bbox', 'segm'):
        aps = [m[f'border/{iou_type}_mAP@{b}'] for b in ('0-1', '1-32', '32-96', '96-inf')]
        assert aps == [1.0, 0.0, 0.0, -1.0]
        assert 0.2 < m[f'coco/{iou_type}_mAP'] < 0.8
    assert list(tmp_path.iterdir()) == [] and metric.outfile_prefix is None


@pytest.mark.parametrize('backend', BACKENDS)
def test_result_files_only_when_asked(coco, noisy, backend, monkeypatch, tmp_path):
    """Without outfile_prefix nothing goes through mmengine's dump; with it, CocoMetric's result files
    are written as mmdet writes them, and the metrics are the same either way."""
    import harness.evaluation.border_coco as border_metrics

    ann_file, _ = coco
    written = []
    dump = border_metrics._dump
    monkeypatch.setattr(border_metrics, '_dump', lambda obj, file, **kw: written.append(file) or dump(obj, file, **kw))
    in_memory = _evaluate(ann_file, noisy, backend=backend)
    assert written == []
    on_disk = _evaluate(ann_file, noisy, backend=backend, outfile_prefix=str(tmp_path / 'res'))
    assert sorted(written) == [str(tmp_path / f'res.{t}.json') for t in ('bbox', 'segm')]
    segm = json.loads((tmp_path / 'res.segm.json').read_text())
    assert len(segm) == sum(len(s['pred_instances']['labels']) for s in noisy) and 'bbox' in segm[0]
    assert on_disk == in_memory


@pytest.mark.parametrize('backend', BACKENDS)
def test_classwise_ap_per_evaluation_equals_a_one_category_cocoeval(coco, noisy, backend, tmp_path):
    """`classwise=True` (the position control's evaluator): AP per class for bbox and for segm, each equal
    to pycocotools' AP (stats[0]: 100 detections per image) of a COCOeval restricted to that category, on
    the result files CocoMetric writes. The first 10 images hold 110 junk boxes of one class, so AP at
    mmdet's last maxDets (1000), which its own classwise keys read, would differ."""
    ann_file, gt = coco
    m = _evaluate(ann_file, noisy, backend=backend, classwise=True, outfile_prefix=str(tmp_path / 'res'))
    differs = 0
    for kind in ('bbox', 'segm'):
        dt = gt.loadRes(str(tmp_path / f'res.{kind}.json'))
        for cat in gt.loadCats(gt.getCatIds()):
            ev = pycocotools.cocoeval.COCOeval(gt, dt, kind)
            ev.params.catIds, ev.params.maxDets = [cat['id']], [1, 10, 100, 1000]  # stats[0]: at 100
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            assert m[f'coco/{kind}_mAP_{cat["name"]}'] == pytest.approx(ev.stats[0], abs=6e-4), (kind, cat)
            at_1000 = ev.eval['precision'][:, :, 0, 0, -1]
            differs += abs(float(at_1000[at_1000 > -1].mean()) - ev.stats[0]) > 1e-3
    assert differs >= 1  # the case mmdet's keys get wrong is in the data
    assert len([k for k in m if '_mAP_' in k and k.split('_mAP_')[1] in COCO_CLASSES]) == 6
    plain = _evaluate(ann_file, noisy, backend=backend)
    assert {k: v for k, v in m.items() if k not in plain} == {
        f'coco/{kind}_mAP_{c}': m[f'coco/{kind}_mAP_{c}'] for kind in ('bbox', 'segm') for c in COCO_CLASSES
    }
    assert all(m[k] == plain[k] for k in plain)


def test_mmdet_classwise_keys_collide_between_bbox_and_segm(coco, noisy):
    """Why BorderCocoMetric writes its own per-class keys: mmdet 3.3.0's CocoMetric(classwise=True) names
    them `<class>_precision` for both evaluations, so three keys survive where six were computed."""
    ann_file, _ = coco
    metric = coco_metric.CocoMetric(ann_file=ann_file, metric=['bbox', 'segm'], classwise=True)
    metric.dataset_meta = dict(classes=COCO_CLASSES)
    metric.process({}, noisy)
    keys = [k for k in metric.evaluate(len(noisy)) if k.endswith('_precision')]
    assert sorted(keys) == sorted(f'coco/{c}_precision' for c in COCO_CLASSES)


def test_classwise_with_no_detections_is_ap_zero_per_class_with_objects(tmp_path):
    from harness.evaluation.empty import fill_no_detections

    images = [dict(id=1, width=100, height=100, file_name='1.jpg')]
    anns = [dict(id=1, image_id=1, category_id=1, bbox=[0, 0, 10, 10], area=100, iscrowd=0, segmentation=[])]
    ann_file = tmp_path / 'ann.json'
    ann_file.write_text(
        json.dumps(dict(images=images, annotations=anns, categories=[dict(id=1, name='a'), dict(id=2, name='b')]))
    )
    metric = BorderCocoMetric(ann_file=str(ann_file), metric=['bbox'], classwise=True)
    metric.dataset_meta = dict(classes=('a', 'b'))
    empty = dict(bboxes=np.zeros((0, 4)), scores=np.zeros(0), labels=np.zeros(0, int))
    assert metric.compute_metrics([(dict(img_id=1, width=100, height=100), empty)]) == {}
    filled, _ = fill_no_detections(type('Evaluator', (), {'metrics': [metric]})(), {})
    assert filled['coco/bbox_mAP_a'] == 0.0 and filled['coco/bbox_mAP_b'] == -1.0  # b: no objects in the set


def test_eval_threads_reach_faster_coco_eval(coco, noisy, monkeypatch):
    ann_file, _ = coco
    workers = []
    evaluate = COCOeval_faster.evaluate
    monkeypatch.setattr(
        COCOeval_faster, 'evaluate', lambda self: workers.append(self.rle_iou_max_workers) or evaluate(self)
    )
    _evaluate(ann_file, noisy, backend='faster', eval_threads=1)
    assert workers == [1] * 4  # bbox, segm, and their border passes
    workers.clear()
    _evaluate(ann_file, noisy, backend='faster')
    default = inspect.signature(COCOeval_faster.__init__).parameters['rle_iou_max_workers'].default
    assert workers == [default] * 4


@pytest.mark.parametrize('backend', BACKENDS)
def test_ground_truth_from_the_dataset(coco, noisy, backend):
    """Without ann_file, CocoMetric converts the samples' ground truth and reads it back by path."""
    ann_file, gt = coco
    samples = []
    for s in noisy:
        img = gt.imgs[s['img_id']]
        instances = [
            dict(
                bbox=[x, y, x + w, y + h],
                bbox_label=a['category_id'] - 1,
                ignore_flag=a['iscrowd'],
                mask=a['segmentation'],
            )
            for a in gt.loadAnns(gt.getAnnIds(imgIds=img['id']))
            for x, y, w, h in [a['bbox']]
        ]
        samples.append(dict(s, instances=instances))
    m = _evaluate(None, samples, backend=backend)
    assert m['border/count@0-1'] + m['border/count@1-32'] + m['border/count@32-96'] > 0
    assert 0.05 < m['coco/bbox_mAP'] < 0.95


@pytest.mark.parametrize('backend', BACKENDS)
def test_nothing_predicted_returns_empty(coco, backend):
    ann_file, gt = coco
    samples = [_sample(gt.imgs[i], []) for i in sorted(gt.getImgIds())[:5]]
    assert _evaluate(ann_file, samples, backend=backend) == {}


@pytest.mark.parametrize(
    'bins, match',
    [
        ((32,), 'at least 2 edges'),
        ((0, 32, 32), 'strictly increasing'),
        ((64, 32), 'strictly increasing'),
        ((-1, 32), '>= 0'),
        ((0, 'far'), 'bin edges'),
        (32, 'bin edges'),
    ],
)
@pytest.mark.parametrize('cls', [BorderCocoMetric, BorderIoUMetric])
def test_bad_bins(cls, bins, match):
    with pytest.raises(ConfigError, match=rf'^border_bins=.*{match}'):
        cls(border_bins=bins)


def test_bad_backend():
    with pytest.raises(ConfigError, match=r"^backend='cocoapi'"):
        BorderCocoMetric(backend='cocoapi')
    with pytest.raises(ConfigError, match=r'^use_mp_eval=True'):
        BorderCocoMetric(use_mp_eval=True)
    for kwargs in (dict(eval_threads=0), dict(eval_threads='2'), dict(eval_threads=2, backend='pycocotools')):
        with pytest.raises(ConfigError, match=r"^eval_threads=.*expected a positive integer, and backend='faster'"):
            BorderCocoMetric(**kwargs)


def test_registered():
    from mmdet.registry import METRICS as DET
    from mmseg.registry import METRICS as SEG

    assert DET.get('BorderCocoMetric') is BorderCocoMetric and SEG.get('BorderIoUMetric') is BorderIoUMetric


# ---------------------------------------------------------------- semantic segmentation


@pytest.fixture(scope='module')
def city_labels(tmp_path_factory):
    tiny = make_tiny_cityscapes(tmp_path_factory.mktemp('city'), n_train=1, n_val=4)
    files = sorted(Path(tiny.root, tiny.ann_files['val']).rglob('*_gtFine_labelTrainIds.png'))
    return [torch.from_numpy(np.array(Image.open(f), dtype=np.int64)) for f in files]


def _seg_eval(labels, preds, **kwargs):
    metric = BorderIoUMetric(**kwargs)
    metric.dataset_meta = dict(classes=CITYSCAPES_CLASSES)
    metric.process(
        {}, [dict(pred_sem_seg=dict(data=p[None]), gt_sem_seg=dict(data=l[None])) for l, p in zip(labels, preds)]
    )
    return metric.evaluate(len(labels))


def test_one_band_equals_miou(city_labels):
    gen = torch.Generator().manual_seed(0)
    preds = []
    for label in city_labels:
        noise = torch.rand(label.shape, generator=gen) < 0.3
        preds.append(torch.where(noise, torch.randint(0, 19, label.shape, generator=gen), label.clamp(max=18)))
    m = _seg_eval(city_labels, preds, border_bins=(0, INF))
    assert 20 < m['mIoU'] < 90 and 'IoU.road' in m
    assert m['border/mIoU@0-inf'] == m['mIoU'] and m['border/aAcc@0-inf'] == m['aAcc']


def test_right_only_near_border(city_labels):
    h, w = city_labels[0].shape
    near = torch.tensor([[min(i, j, h - 1 - i, w - 1 - j) < 32 for j in range(w)] for i in range(h)])
    preds = [torch.where(near, label, (label + 1) % 19) for label in city_labels]
    m = _seg_eval(city_labels, preds)  # bands [0, 32), [32, 128), [128, inf)
    assert m['border/mIoU@0-32'] == 100.0 and m['border/aAcc@0-32'] == 100.0
    assert m['border/mIoU@32-128'] == 0.0 and m['border/aAcc@32-128'] == 0.0
    assert m['border/mIoU@128-inf'] == -1.0  # a 128x256 image has no pixel 128 from its border
    assert m['mIoU'] < 100


@pytest.mark.parametrize('edges', [(0, 1, 2), (1, 3), (0, INF)])
def test_pixel_bands(edges):
    h, w = 5, 8
    expected = [
        [max([k for k, e in enumerate(edges) if min(i, j, h - 1 - i, w - 1 - j) >= e], default=-1) for j in range(w)]
        for i in range(h)
    ]
    assert torch.equal(pixel_bands([float(e) for e in edges], h, w), torch.tensor(expected))
    assert not math.isinf(edges[-1]) or pixel_bands([0.0, INF], h, w).max() == 0
