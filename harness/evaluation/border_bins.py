"""Bins of distance to the nearest image border, shared by the COCO and the segmentation metrics.

Why: zero padding tells a CNN where the image ends, and that is where most of the absolute position
it encodes comes from (Islam et al., "How much position information do convolutional neural
networks encode?", ICLR 2020). A padding ablation therefore has to show its effect by distance to
the border, not only as one mAP / mIoU per run.

`border_bins` are bin edges: bin k is [edges[k], edges[k+1]) and the last bin is open-ended, unless
the last edge is `inf` (then `(0, inf)` is one bin holding everything). An empty bin reports -1,
as COCO does for an area range without objects.
"""

import math
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError


def check_border_bins(bins: Any, field: str = 'border_bins') -> tuple[list[float], list[str]]:
    """Validate bin edges; return (edges as floats, bin names like '0-1' ... '96-inf')."""
    try:
        edges = [float(e) for e in bins]
    except (TypeError, ValueError):
        raise ConfigError(f'{field}={bins!r}: expected a list of bin edges in pixels') from None
    if len(edges) < 2:
        raise ConfigError(f'{field}={bins!r}: expected at least 2 edges, e.g. (0, 32, 128)')
    if any(e < 0 for e in edges):
        raise ConfigError(f'{field}={bins!r}: edges are distances in pixels and must be >= 0')
    if not all(a < b for a, b in zip(edges, edges[1:])):
        raise ConfigError(f'{field}={bins!r}: edges must be strictly increasing')
    bounds = edges if math.isinf(edges[-1]) else edges + [math.inf]
    names = [f'{_fmt(lo)}-{_fmt(hi)}' for lo, hi in zip(bounds, bounds[1:])]
    return edges, names


def _fmt(edge):
    return 'inf' if math.isinf(edge) else f'{edge:g}'


def bin_of(edges: Sequence[float], distance: float) -> int:
    """Index of the bin [edges[k], edges[k+1]) holding `distance`; -1 if below the first edge."""
    return bisect_right(edges, distance) - 1
