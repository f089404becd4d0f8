"""What tools/benchmark.py times: small real models, one fixed train step, interleaved rounds, ratios.

The harness claims its patches cost (almost) nothing: a `zeros`-patched model *is* the stock model, the
other padding modes add one pad / resample / re-weighting per layer, CoordConv one small conv. On a
shared machine absolute times drift by tens of percent, so every claim is a ratio of two models timed
in the same *round* (one step of each model, back to back, in an order rotated every round) and the
report gives the median of the per-round ratios: slow drift multiplies both sides and cancels.

Models are the R-18 variants of the shipped configs (as tests/conftest.py builds them): random init,
nothing downloaded.
"""
import copy
import gc
import statistics
import time

import torch
from mmengine.hub import get_config
from mmengine.registry import MODELS, init_default_scope

import harness  # noqa: F401  (registers HarnessModel)

# R-18 versions of the packaged R-50 configs, small enough for CPU (tests/conftest.py builds the same).
R18_FPN = dict(backbone=dict(depth=18, init_cfg=None), neck=dict(in_channels=[64, 128, 256, 512], out_channels=64))
R18_D8 = dict(pretrained=None, data_preprocessor=dict(size=None, size_divisor=1),
              backbone=dict(depth=18, norm_cfg=dict(type='BN')),
              decode_head=dict(in_channels=512, channels=32, norm_cfg=dict(type='BN')),
              auxiliary_head=dict(in_channels=256, channels=16, norm_cfg=dict(type='BN')))

# family -> label, registry scope, packaged base config, overrides, padding scope of the mode variants.
# DeepLabV3 is patched in its backbone only: ASPP's dilated branches cannot be valid convs at small sizes.
FAMILIES = {
    'mask-rcnn': dict(
        label='Mask R-CNN R-18-FPN', scope='mmdet', padding_scope='all',
        base='mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
        overrides=dict(R18_FPN, rpn_head=dict(in_channels=64, feat_channels=64), roi_head=dict(
            bbox_roi_extractor=dict(out_channels=64), bbox_head=dict(in_channels=64, num_classes=3),
            mask_roi_extractor=dict(out_channels=64),
            mask_head=dict(in_channels=64, conv_out_channels=64, num_classes=3)),
            # Positives = the ground-truth boxes (added as proposals, IoU 1): a random-init RPN proposes
            # differently under each padding, which changed the mask head's RoIs by up to 30% between
            # variants (zeros 72, partial 95 per step); with this every variant's RoI heads do the same work.
            train_cfg=dict(rcnn=dict(assigner=dict(pos_iou_thr=0.99, min_pos_iou=0.99))))),
    'deeplabv3': dict(
        label='DeepLabV3 R-18-D8', scope='mmseg', padding_scope='backbone',
        base='mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024.py', overrides=R18_D8),
}
PATCHES = {'coordconv': dict(coordconv=dict(sites=['mask_head_first']))}
_CFG_CACHE = {}


def model_cfg(family):
    """(registry scope, model dict) of `family`, a fresh copy."""
    if family not in _CFG_CACHE:
        spec = FAMILIES[family]
        cfg = get_config(spec['base'])
        cfg.merge_from_dict(dict(model=copy.deepcopy(spec['overrides'])))
        _CFG_CACHE[family] = (spec['scope'], cfg.model)
    scope, model = _CFG_CACHE[family]
    return scope, copy.deepcopy(model)


def variant_patches(family, variant):
    """HarnessModel arguments of a variant: 'stock', 'stock-copy' or 'torch-reflect' (None: no
    HarnessModel), a padding mode, 'coordconv'."""
    if variant in ('stock', 'stock-copy', 'torch-reflect'):
        return None
    if variant in PATCHES:
        return copy.deepcopy(PATCHES[variant])
    return dict(padding=dict(mode=variant, scope=FAMILIES[family]['padding_scope']))


def build_model(family, variant, seed=0, device='cpu'):
    """Model `family` as `variant`, built after `torch.manual_seed(seed)` (same seed, same weights)."""
    scope, cfg = model_cfg(family)
    init_default_scope(scope)
    patches = variant_patches(family, variant)
    if patches is not None:
        cfg.update(type='HarnessModel', base_type=cfg['type'], **patches)
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    if variant == 'torch-reflect':
        torch_reflect(model, FAMILIES[family]['padding_scope'])
    return model.to(device)


def torch_reflect(model, scope):
    """PyTorch's own `padding_mode='reflect'` on every padded conv the harness would convert in `scope`
    (pools keep their zero padding: they have no padding mode): what reflect padding costs without us."""
    from .convert import classify, in_scope, scope_globs
    globs = [g for _, item_globs in scope_globs(model, scope) for g in item_globs]
    for name, module in model.named_modules():
        if name and classify(module) == 'conv' and in_scope(name, globs):
            module.padding_mode = 'reflect'


def make_batch(family, h, w, n=2, seed=0, objects=3):
    """A raw batch (dict(inputs=[uint8 CHW], data_samples=[...])) with ground truth, as a dataloader gives.

    Detectors get `objects` random boxes with masks per image; FAMILIES makes exactly those boxes the
    RoI heads' positives, so the mask head sees `objects` RoIs per image (with 3, as in the tests, it
    saw 6 per step and any cost there vanished; 30 is the tens of positives per image of real training).
    """
    torch.manual_seed(seed)
    if FAMILIES[family]['scope'] == 'mmdet':
        from mmdet.testing import demo_mm_inputs
        return demo_mm_inputs(n, [(3, h, w)] * n, num_items=[objects] * n, num_classes=3, with_mask=True)
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for _ in range(n):
        s = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        s.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, h, w)))
        samples.append(s)
    return dict(inputs=[torch.randint(0, 256, (3, h, w), dtype=torch.uint8) for _ in range(n)], data_samples=samples)


def synchronize(device):
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


def count_mask_rois(model):
    """A list that receives the number of RoIs entering the mask head at each forward (none: no mask head)."""
    counts = []
    head = getattr(getattr(model, 'roi_head', None), 'mask_head', None)
    if head is not None:
        head.register_forward_hook(lambda module, args, output: counts.append(int(args[0].shape[0])))
    return counts


class TrainStep:
    """One training step on a fixed batch: data_preprocessor + loss + backward + SGD step.

    The RNG is reseeded before every step, so proposal / RoI sampling is the same at every call and two
    identical models do identical work. The learning rate is small so that the weights (and with them the
    number of positive RoIs) barely move over a benchmark, while the optimizer still does its full update.
    """

    def __init__(self, model, data, device='cpu', lr=1e-4, seed=0):
        self.model, self.data, self.device, self.seed = model.train(), data, device, seed
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)

    def __call__(self):
        torch.manual_seed(self.seed)
        self.optimizer.zero_grad(set_to_none=True)
        data = self.model.data_preprocessor(self.data, training=True)
        losses = self.model(**data, mode='loss')
        loss, _ = self.model.parse_losses(losses)
        if not torch.isfinite(loss):
            raise FloatingPointError(f'non-finite loss {loss.item()} in the benchmark train step')
        loss.backward()
        self.optimizer.step()


def time_call(fn, device='cpu'):
    """(wall seconds, process CPU seconds) of one call of `fn`, the device synchronised around it.

    CPU time counts only this process's own work, so on a shared CPU it does not grow when other jobs
    take the cores away (wall time does); it is meaningless for GPU work, where wall time is the clock.
    """
    gc.collect()
    synchronize(device)
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    synchronize(device)
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(fns, rounds, warmup=1, device='cpu', after_round=None):
    """{name: [(wall, cpu) per round]}: each round calls every one of `fns` once, order rotated per round.

    Rotation puts every function in every position equally often (for `rounds` a multiple of their
    number), so "runs first" or "runs right after X" biases cancel as well as slow drift.
    """
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    times = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            times[name].append(time_call(fns[name], device))
        if after_round:
            after_round(r + 1, rounds)
    return times


def ratio_stats(num, den):
    """Median, quartiles, min and max of the per-round ratios num[i] / den[i], and the medians of both."""
    ratios = sorted(a / b for a, b in zip(num, den, strict=True))
    q1, _, q3 = statistics.quantiles(ratios, n=4, method='inclusive') if len(ratios) > 1 else ratios * 3
    return dict(median=statistics.median(ratios), q1=q1, q3=q3, min=ratios[0], max=ratios[-1], n=len(ratios),
                num_median=statistics.median(num), den_median=statistics.median(den))


# --- COCO evaluation: the same synthetic ground truth and predictions through two COCOeval backends ---

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
        yy, xx = np.mgrid[top:min(int(y0 + bh) + 2, h), left:min(int(x0 + bw) + 2, w)]
        m = np.zeros((h, w), dtype=np.uint8, order='F')
        m[top:top + yy.shape[0], left:left + yy.shape[1]] = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
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
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=cat, segmentation=rle,
                             bbox=bbox, area=area, iscrowd=0))
            for _ in range(rng.integers(0, 4)):
                j = rng.normal(0, 0.1, 4) * [bw, bh, bw, bh]
                dets.append((img_id, cat, (x0 + j[0], y0 + j[1], bw + j[2], bh + j[3])))
        for _ in range(false_positives):
            dets.append((img_id, int(rng.integers(1, n_cats + 1)), random_box()))
    preds = []
    for img_id, cat, (x0, y0, bw, bh) in dets:
        x0, y0 = min(max(x0, 0), w - 2), min(max(y0, 0), h - 2)
        rle, bbox, _ = ellipse(x0, y0, min(max(bw, 2), w - x0), min(max(bh, 2), h - y0))
        preds.append(dict(image_id=img_id, category_id=cat, bbox=bbox, segmentation=rle,
                          score=float(rng.uniform(0.05, 1))))
    gt = dict(images=images, annotations=anns,
              categories=[dict(id=c, name=f'class{c}') for c in range(1, n_cats + 1)])
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
            ev = COCOeval_faster(coco, coco.loadRes(preds), iou_type, print_function=lambda *a, **k: None,
                                 **({} if threads is None else dict(rle_iou_max_workers=threads)))
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

    from .border_metrics import BorderCocoMetric
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
        pred = dict(img_id=img['id'],
                    bboxes=np.array([[x, y, x + w, y + h] for x, y, w, h in (p['bbox'] for p in ps)],
                                    dtype=np.float32).reshape(-1, 4),
                    scores=np.array([p['score'] for p in ps], dtype=np.float32),
                    labels=np.array([cat_ids.index(p['category_id']) for p in ps], dtype=np.int64))
        if iou_type == 'segm':
            pred['masks'] = [dict(p['segmentation']) for p in ps]
        results.append((dict(width=img['width'], height=img['height'], img_id=img['id']), pred))
    with contextlib.redirect_stdout(io.StringIO()):
        metric = BorderCocoMetric(ann_file=ann_file, metric=[iou_type], backend=backend,
                                  eval_threads=threads if backend == 'faster' else None)
    metric.dataset_meta = dict(classes=tuple(c['name'] for c in gt['categories']))

    def run():
        with contextlib.redirect_stdout(io.StringIO()):
            return {k: float(v) for k, v in metric.compute_metrics(results).items()}
    return run
