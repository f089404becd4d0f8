"""Evaluation: COCO AP and mIoU by distance to the image border, per-class IoU (registered metrics)."""
from .border_bins import bin_of, check_border_bins
from .border_coco import BACKENDS, BorderCocoMetric
from .seg_iou import BorderIoUMetric, ClassIoUMetric, pixel_bands

__all__ = ['BACKENDS', 'BorderCocoMetric', 'BorderIoUMetric', 'ClassIoUMetric', 'bin_of', 'check_border_bins',
           'pixel_bands']
