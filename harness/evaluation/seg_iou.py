"""mmseg's IoUMetric with the per-class IoU it otherwise only prints, and by distance to the border.

`ClassIoUMetric`: reports compare variants class by class (road vs sidewalk is where position matters on Cityscapes),
so the per-class numbers must reach results.json: keys `IoU.<class>` in percent, like `mIoU`, for
the classes present in the labels or the predictions. Values are plain floats (JSON-serialisable).
`BorderIoUMetric` adds `border/mIoU@<lo>-<hi>` and `border/aAcc@<lo>-<hi>` over pixel bands (see
`border_bins`), pixel (i, j) of an HxW map being at distance min(i, j, H-1-i, W-1-j).
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

from . import per_image
from .border_bins import check_border_bins


@METRICS.register_module()
class ClassIoUMetric(IoUMetric):
    """IoUMetric plus per-class IoU in results.json, and the per-image pixel counts in `self.per_image`
    ({'seg': SegData}, saved by tools/test.py as per_image.npz for the report's image bootstrap)."""

    def __init__(self, *args: Any, keep_per_image: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keep_per_image = bool(keep_per_image)
        self.per_image: dict = {}

    def compute_metrics(self, results: list) -> dict:
        self.per_image = {}
        if self.keep_per_image and not self.format_only and results:
            self.per_image = {'seg': per_image.seg_data(results, self.dataset_meta['classes'])}
        metrics = {k: round(float(v), 2) for k, v in super().compute_metrics(results).items()}
        areas = [sum(r[i] for r in results) for i in range(4)]
        per_class = self.total_area_to_metrics(*areas, ['mIoU'], self.nan_to_num, self.beta)['IoU']
        for name, iou in zip(self.dataset_meta['classes'], np.asarray(per_class, dtype=float)):
            if not np.isnan(iou):  # NaN: the class is in neither the labels nor the predictions
                metrics[f'IoU.{name}'] = round(float(iou) * 100, 2)
        return metrics


def pixel_bands(edges: Sequence[float], height: int, width: int) -> torch.Tensor:
    """(H, W) long tensor: the band index of each pixel's border distance, -1 below edges[0]."""
    rows, cols = torch.arange(height), torch.arange(width)
    distance = torch.minimum(
        torch.minimum(rows, height - 1 - rows)[:, None], torch.minimum(cols, width - 1 - cols)[None, :]
    )
    return torch.bucketize(distance.double(), torch.tensor(edges, dtype=torch.float64), right=True) - 1


@METRICS.register_module()
class BorderIoUMetric(ClassIoUMetric):
    """ClassIoUMetric plus mIoU and aAcc (percent) per band of pixel distance to the border.

    Args:
        border_bins: band edges in pixels; default bands [0, 32), [32, 128), [128, inf).
        Other arguments: mmseg's IoUMetric.
    """

    def __init__(self, border_bins: Any = (0, 32, 128), **kwargs: Any) -> None:
        self.border_edges, self.border_names = check_border_bins(border_bins)
        super().__init__(**kwargs)
        self._bands: dict = {}  # (H, W) -> band map

    def process(self, data_batch: Any, data_samples: Any) -> None:
        start = len(self.results)
        super().process(data_batch, data_samples)
        if self.format_only:
            return
        num_classes = len(self.dataset_meta['classes'])
        for k, data_sample in enumerate(data_samples):
            pred = data_sample['pred_sem_seg']['data'].squeeze()
            label = data_sample['gt_sem_seg']['data'].squeeze().to(pred)
            if label.shape not in self._bands:
                self._bands[label.shape] = pixel_bands(self.border_edges, *label.shape)
            band = self._bands[label.shape].to(label.device)
            areas = [
                torch.stack(self.intersect_and_union(pred[band == b], label[band == b], num_classes, self.ignore_index))
                for b in range(len(self.border_names))
            ]
            self.results[start + k] += (torch.stack(areas),)  # (bands, 4, classes), after the parent's 4

    def compute_metrics(self, results: list) -> dict:
        metrics = super().compute_metrics([r[:4] for r in results])
        if self.format_only:
            return metrics
        bands = sum(r[4] for r in results)
        for name, (intersect, union, pred, label) in zip(self.border_names, bands):
            if label.sum() == 0:  # no labelled pixel at this distance
                metrics[f'border/mIoU@{name}'] = metrics[f'border/aAcc@{name}'] = -1.0
                continue
            m = self.total_area_to_metrics(intersect, union, pred, label, ['mIoU'], self.nan_to_num, self.beta)
            # rounded as IoUMetric and ClassIoUMetric round mIoU and aAcc
            metrics[f'border/mIoU@{name}'] = round(float(np.round(np.nanmean(m['IoU']) * 100, 2)), 2)
            metrics[f'border/aAcc@{name}'] = round(float(np.round(m['aAcc'] * 100, 2)), 2)
        return metrics
