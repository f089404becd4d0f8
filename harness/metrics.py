"""mmseg's IoUMetric, returning the per-class IoU it otherwise only prints.

Reports compare variants class by class (road vs sidewalk is where position matters on Cityscapes),
so the per-class numbers must reach results.json: keys `IoU.<class>` in percent, like `mIoU`, for
the classes present in the labels or the predictions. Values are plain floats (JSON-serialisable).
"""
import numpy as np
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class ClassIoUMetric(IoUMetric):

    def compute_metrics(self, results):
        metrics = {k: round(float(v), 2) for k, v in super().compute_metrics(results).items()}
        areas = [sum(r[i] for r in results) for i in range(4)]
        per_class = self.total_area_to_metrics(*areas, ['mIoU'], self.nan_to_num, self.beta)['IoU']
        for name, iou in zip(self.dataset_meta['classes'], np.asarray(per_class, dtype=float)):
            if not np.isnan(iou):  # NaN: the class is in neither the labels nor the predictions
                metrics[f'IoU.{name}'] = round(float(iou) * 100, 2)
        return metrics
