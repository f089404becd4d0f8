"""COCO AP as a function of the distance to the nearest image border (`border_bins` for why).

- `BorderCocoMetric` (mmdet) is `CocoMetric` plus `border/<iou>_mAP@<lo>-<hi>` and
  `border/count@<lo>-<hi>`. It reuses the "COCO area ranges" trick: COCOeval already computes
  APs/APm/APl by ignoring ground truth outside an area range and unmatched detections outside it,
  so a second COCOeval whose `area` field holds each object's border-distance bin, with one area
  range per bin, gives AP per bin with COCO's exact matching rules. Distance = min(x, y, W-x2, H-y2)
  of the box (for masks: the mask's box), clipped at 0, in pixels of the original image.
  `backend='faster'` evaluates with faster-coco-eval (same numbers as pycocotools, several times
  faster), bound into mmdet's `coco_metric` module only while the metric runs. The border pass reuses
  CocoMetric's loaded detections, and result JSONs stay in memory unless `outfile_prefix` asks for them.
  `classwise=True` adds AP per class as `coco/<bbox|segm>_mAP_<class>` (`class_ap` says why not mmdet's keys).
"""

import contextlib
import io
import time
from typing import Any

import mmdet.evaluation.metrics.coco_metric as _coco_metric
import pycocotools.cocoeval
from faster_coco_eval import COCO as FasterCOCO
from faster_coco_eval import COCOeval_faster
from mmdet.evaluation import CocoMetric
from mmdet.registry import METRICS as DET_METRICS
from mmengine.fileio import dump as _dump
from mmengine.fileio import load as _load
from mmengine.logging import MMLogger, print_log

from ..errors import ConfigError
from . import per_image
from .border_bins import bin_of, check_border_bins
from .class_ap import class_ap_keys, class_aps

BACKENDS = ('faster', 'pycocotools')
_MANY_IMAGES = 1000  # above this, say that a (long) evaluation has started
_RESULT_FILES = ('.bbox.json', '.segm.json', '.proposal.json')  # CocoMetric.results2json's outputs


def _box_distance(bbox, width, height):
    """Distance in pixels from an xywh box to the nearest image border, 0 if it touches or crosses."""
    x, y, w, h = (float(v) for v in bbox)
    return max(0.0, min(x, y, width - (x + w), height - (y + h)))


# ---------------------------------------------------------------- COCO backends


class _Timed:
    """Logs how long COCOeval's evaluate and accumulate stages took (mmengine's current logger)."""

    stage = ''  # appended to the IoU type in log lines

    def evaluate(self):
        n = len(self.params.imgIds)
        if n > _MANY_IMAGES:  # neither backend has a progress bar: say what is running
            print_log(f'{self.params.iouType}{self.stage}: evaluating {n} images...', logger='current')
        tic = time.perf_counter()
        super().evaluate()
        self._evaluate_s = time.perf_counter() - tic

    def accumulate(self, *args):
        tic = time.perf_counter()
        super().accumulate(*args)
        print_log(
            f'{self.params.iouType}{self.stage}: evaluate {self._evaluate_s:.1f} s, '
            f'accumulate {time.perf_counter() - tic:.1f} s',
            logger='current',
        )


class _PycocoEval(_Timed, pycocotools.cocoeval.COCOeval):
    pass


class _FasterEval(_Timed, COCOeval_faster):
    """faster-coco-eval's COCOeval, printing to mmengine's log and summarising like pycocotools."""

    def __init__(self, cocoGt=None, cocoDt=None, iouType='segm', **kwargs):
        kwargs.setdefault('print_function', lambda msg: print_log(msg, logger='current'))
        super().__init__(cocoGt, cocoDt, iouType, **kwargs)

    def summarize(self):
        super().summarize()
        # pycocotools' stats[0] (mmdet's mAP) is AP at maxDets=100 whatever params.maxDets is;
        # faster-coco-eval takes maxDets[-1] (1000 in mmdet): they differ on >100 detections per image
        # and class.
        if self.params.iouType in ('bbox', 'segm') and 100 in self.params.maxDets:
            self.stats[0] = self._summarize(1, maxDets=100)  # a view: all_stats[0] follows


_CLASSES = {'faster': (FasterCOCO, _FasterEval), 'pycocotools': (_coco_metric.COCO, _PycocoEval)}


@contextlib.contextmanager
def _bound(module, **names):
    """Temporarily rebind module-level names (mmdet's `COCO` / `COCOeval`)."""
    saved = {name: getattr(module, name) for name in names}
    try:
        for name, value in names.items():
            setattr(module, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


def _new_api(coco_cls, dataset):
    """A COCO object of `coco_cls` indexing `dataset` (a dict), without pycocotools' prints."""
    api = coco_cls()
    api.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        api.createIndex()
    return api


class _Capture:
    """Stands in for `dump`, `load` and `COCOeval` in mmdet's coco_metric while CocoMetric runs.

    Result JSONs stay in memory (written only when `write`, i.e. the user set `outfile_prefix`; other
    files, such as the converted ground truth that mmdet reads back by path, are always written), and
    each COCOeval is kept under the result file its detections came from, for the border pass.
    """

    def __init__(self, eval_cls, write, **eval_kwargs):
        self.eval_cls, self.write, self.eval_kwargs = eval_cls, write, eval_kwargs
        self.kept, self.evals, self._loaded = {}, {}, None

    def dump(self, obj, file, **kwargs):
        if str(file).endswith(_RESULT_FILES):
            self.kept[str(file)] = obj
        if self.write or str(file) not in self.kept:
            _dump(obj, file, **kwargs)

    def load(self, file, **kwargs):
        self._loaded = str(file)  # CocoMetric loads a metric's results, then builds its COCOeval
        return self.kept[self._loaded] if self._loaded in self.kept else _load(file, **kwargs)

    def new_eval(self, coco_gt, coco_dt, iou_type):
        return self.eval_cls(coco_gt, coco_dt, iou_type, **self.eval_kwargs)

    def coco_eval(self, coco_gt, coco_dt, iou_type):
        self.evals[self._loaded] = ev = self.new_eval(coco_gt, coco_dt, iou_type)
        return ev

    def evaluation(self, metric):
        """The COCOeval CocoMetric ran for `metric` ('bbox', 'segm'); None if it ran none."""
        return next((ev for file, ev in self.evals.items() if file.endswith(f'.{metric}.json')), None)

    def detections(self, metric):
        """The COCO object of detections CocoMetric evaluated for `metric`; None if it evaluated none."""
        ev = self.evaluation(metric)
        return None if ev is None else ev.cocoDt


@DET_METRICS.register_module()
class BorderCocoMetric(CocoMetric):
    """CocoMetric plus AP per border-distance bin (see the module docstring).

    Args:
        border_bins: bin edges in pixels of the original image; default bins [0, 1) (touching),
            [1, 32), [32, 96), [96, inf).
        backend: 'faster' (faster-coco-eval) or 'pycocotools', for every COCO evaluation it runs.
        keep_per_image: keep each image's matches in `self.per_image` ({'bbox' / 'segm': CocoData}) for
            the report's image bootstrap; tools/test.py saves them as per_image.npz.
        classwise: AP per class and evaluation, `coco/bbox_mAP_<class>` (harness/evaluation/class_ap.py),
            instead of mmdet's `coco/<class>_precision`.
        Other arguments: mmdet's CocoMetric.
    """

    def __init__(
        self,
        *args: Any,
        border_bins: Any = (0, 1, 32, 96),
        backend: str = 'faster',
        eval_threads: int | None = None,
        keep_per_image: bool = True,
        classwise: bool = False,
        **kwargs: Any,
    ) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"backend={backend!r}: expected 'faster' (faster-coco-eval) or 'pycocotools'")
        if backend == 'faster' and kwargs.get('use_mp_eval'):
            raise ConfigError("use_mp_eval=True runs pycocotools: use backend='pycocotools' with it")
        if backend == 'pycocotools' and not pycocotools.cocoeval.__name__.startswith('pycocotools'):
            raise ConfigError(
                "backend='pycocotools': faster_coco_eval.init_as_pycocotools() has replaced pycocotools in this process"
            )
        if eval_threads is not None and (backend != 'faster' or not isinstance(eval_threads, int) or eval_threads < 1):
            raise ConfigError(
                f'eval_threads={eval_threads!r}: expected a positive integer, '
                "and backend='faster' (the threads of its mask IoUs)"
            )
        self.border_edges, self.border_names = check_border_bins(border_bins)
        self.backend = backend
        self.keep_per_image = bool(keep_per_image)
        self.per_image: dict = {}
        self.eval_kwargs = {} if eval_threads is None else dict(rle_iou_max_workers=eval_threads)
        self.per_class = bool(classwise)
        super().__init__(*args, classwise=False, **kwargs)  # mmdet's own per-class keys collide (class_ap)

    def compute_metrics(self, results: list) -> dict:
        self.per_image = {}
        if not self.format_only and not any(len(pred['labels']) for _, pred in results):
            # mmdet logs this and returns {} with pycocotools; faster-coco-eval would return AP 0.
            # tools/test.py records AP 0 and "no detections" (evaluation.empty).
            MMLogger.get_current_instance().error('The testing results of the whole dataset is empty.')
            if self._coco_api is not None:  # what CocoMetric.compute_metrics would have set
                self.cat_ids = self.cat_ids or self._coco_api.get_cat_ids(cat_names=self.dataset_meta['classes'])
                self.img_ids = self.img_ids or self._coco_api.get_img_ids()
            if self.keep_per_image and self._coco_api is not None:
                self.per_image = {
                    kind: per_image.coco_data_without_detections(
                        self._coco_api, self.img_ids, self.cat_ids, self.iou_thrs
                    )
                    for kind in self.metrics
                    if kind in per_image.COCO_KINDS
                }
            return {}
        coco_cls, eval_cls = _CLASSES[self.backend]
        if self.backend == 'faster' and not isinstance(self._coco_api, (FasterCOCO, type(None))):
            self._coco_api = _new_api(FasterCOCO, self._coco_api.dataset)  # made at init by pycocotools
        capture = _Capture(eval_cls, self.outfile_prefix is not None, **self.eval_kwargs)
        with _bound(_coco_metric, COCO=coco_cls, COCOeval=capture.coco_eval, dump=capture.dump, load=capture.load):
            metrics = super().compute_metrics(results)
        if metrics and not self.format_only:
            if self.per_class:
                metrics.update(self._class_metrics(capture))
            metrics.update(self._border_metrics(capture, coco_cls))
            if self.keep_per_image:  # what the report's image bootstrap resamples (evaluation.per_image)
                self.per_image = {
                    kind: per_image.coco_data(capture.evaluation(kind))
                    for kind in self.metrics
                    if kind in per_image.COCO_KINDS and capture.evaluation(kind) is not None
                }
        return metrics

    def evaluate(self, size: int) -> dict:
        # mmengine prefixes every key with 'coco/'; border keys go out as 'border/...' (the report's and
        # BorderIoUMetric's spelling), the standard ones unchanged.
        return {
            k[len(self.prefix) + 1 :] if k.startswith(f'{self.prefix}/border/') else k: v
            for k, v in super().evaluate(size).items()
        }

    def class_names(self) -> list[str]:
        """The evaluated categories' names, in `cat_ids` order (COCOeval's category axis)."""
        return [self._coco_api.loadCats(c)[0]['name'] for c in self.cat_ids]

    def _class_metrics(self, capture):
        metrics = {}
        for iou_type in (m for m in self.metrics if m in ('bbox', 'segm')):
            coco_eval = capture.evaluation(iou_type)
            if coco_eval is not None:
                aps = dict(zip(class_ap_keys(iou_type, self.class_names()), class_aps(coco_eval)))
                print_log(
                    f'{iou_type} AP per class: '
                    + ', '.join(f'{k[len(iou_type) + 5 :]} {v:.3f}' for k, v in aps.items()),
                    logger='current',
                )
                metrics.update(aps)
        return metrics

    def _border_metrics(self, capture, coco_cls):
        gt_api, counts = self._border_gt(coco_cls)
        metrics = {}
        for iou_type in (m for m in self.metrics if m in ('bbox', 'segm')):
            coco_dt = capture.detections(iou_type)
            if coco_dt is None:
                continue
            aps = self._border_aps(gt_api, coco_dt, iou_type, capture.new_eval, coco_cls)
            metrics.update({f'border/{iou_type}_mAP@{n}': ap for n, ap in zip(self.border_names, aps)})
        metrics.update({f'border/count@{n}': c for n, c in zip(self.border_names, counts)})
        return metrics

    def _border_gt(self, coco_cls):
        """A copy of the ground truth whose `area` is the border bin; non-crowd objects per bin."""
        bins, counts = self._gt_bins()
        anns = [dict(ann, area=k) for ann, k in zip(self._coco_api.dataset.get('annotations', []), bins)]
        return _new_api(coco_cls, dict(self._coco_api.dataset, annotations=anns)), counts

    def border_counts(self) -> dict:
        """Non-crowd objects of the evaluated images and categories per border bin."""
        return self._gt_bins()[1]

    def _gt_bins(self):
        src, img_ids, cat_ids = self._coco_api, set(self.img_ids), set(self.cat_ids)
        counts, bins = [0] * len(self.border_names), []
        for ann in src.dataset.get('annotations', []):
            img = src.imgs[ann['image_id']]
            k = bin_of(self.border_edges, _box_distance(ann['bbox'], img['width'], img['height']))
            bins.append(k)
            if k >= 0 and not ann.get('iscrowd', 0) and ann['image_id'] in img_ids and ann['category_id'] in cat_ids:
                counts[k] += 1
        return bins, counts

    def _border_aps(self, gt_api, coco_dt, iou_type, new_eval, coco_cls):
        """AP per bin at maxDets=100, from COCOeval with one area range per bin, on CocoMetric's detections
        (for segm their boxes are the masks' own boxes, as CocoMetric drops the detector's)."""
        anns = []
        for dt in coco_dt.dataset['annotations']:
            img = gt_api.imgs[dt['image_id']]
            anns.append(
                dict(dt, area=bin_of(self.border_edges, _box_distance(dt['bbox'], img['width'], img['height'])))
            )
        dt_api = _new_api(coco_cls, dict(coco_dt.dataset, annotations=anns))
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints each stage
            coco_eval = new_eval(gt_api, dt_api, iou_type)
            coco_eval.stage = ' by border distance'
            if self.backend == 'faster':
                coco_eval.print_function = lambda *a, **k: None
            p, n = coco_eval.params, len(self.border_names)
            p.catIds, p.imgIds, p.maxDets, p.iouThrs = self.cat_ids, self.img_ids, [100], self.iou_thrs
            p.areaRng = [[-1, n]] + [[k, k] for k in range(n)]  # 'all', then bin k only
            p.areaRngLbl = ['all'] + self.border_names
            coco_eval.evaluate()
            coco_eval.accumulate()
        aps = []
        for k in range(n):
            precision = coco_eval.eval['precision'][:, :, :, k + 1, -1]
            precision = precision[precision > -1]
            aps.append(round(float(precision.mean()), 3) if precision.size else -1.0)
        return aps
