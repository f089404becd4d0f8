"""Evaluation: COCO AP and mIoU by distance to the image border, per-class IoU (registered metrics), and
the per-image data the report resamples."""

from ..exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        'border_bins': ['bin_of', 'check_border_bins'],
        'border_coco': ['BACKENDS', 'BorderCocoMetric'],
        'seg_iou': ['BorderIoUMetric', 'ClassIoUMetric', 'pixel_bands'],
    },
)
