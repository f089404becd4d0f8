"""Layers that pad by another rule than zeros, and the helpers that derive them from stock layers.

The seed paper (Islam, Jia & Bruce, ICLR 2020) traces absolute position in CNNs to zero padding. To
remove or replace that signal without forking MMDetection / MMSegmentation, a padded layer is turned
into a layer derived from it (`modules.rebuild_as`) whose `forward` pads the input itself and then runs
the parent layer with padding 0. As in timm's `Conv2dSame`, the parent never sees the padding.

Modes (see README, "Padding modes"):
- reflect / replicate / circular: the same amounts, filled by that rule.
- partial: zero padding, output re-weighted by window size / real pixels in the window (Liu et al. 2018,
  "Partial Convolution based Padding"). The real-pixel count of a window is (real rows) x (real
  columns), so the ratio is the outer product of a row and a column ratio; those 1-D ratios depend only
  on length and geometry and are cached (a few per layer, least recently used dropped), so memory stays
  bounded however many input sizes a run sees. The one exception to "the parent runs unpadded": a
  partial conv keeps its own zero padding (no padded copy of the input) and only re-weights the output.
- none: a valid (padding 0) layer, brought back to the size the padded layer would have produced (so
  residual sums, FPN merges and strides stay aligned) by the rule `border_resample`:
  `input`: the input is resized bilinearly (align_corners=False) by the padding amounts, then the valid
  layer gives the padded size directly; `output` / `output-corners`: the valid output is resized
  bilinearly with align_corners False / True; `replicate`: the valid output is replicate-padded, the
  missing rows and columns split in proportion to the layer's own padding (rounded down at the top /
  left). Every rule needs the kernel to fit inside the real input (else a PaddingError names the layer).
"""

import math
from collections import OrderedDict
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import PaddingError
from .modes import DEFAULT_RESAMPLE
from .modules import rebuild_as

PARTIAL_CACHE_SIZE = 32  # 1-D ratios kept per layer; COCO's 32-multiple canvases give ~25 lengths per axis


def pad_amounts(module: nn.Module) -> tuple[int, int, int, int] | None:
    """(left, right, top, bottom) zero-padding amounts of a conv or pool, PyTorch's own rule for 'same'."""
    pad = module.padding
    if isinstance(pad, str):
        if pad == 'valid':
            return (0, 0, 0, 0)
        amounts = []
        for k, d in zip(reversed(_pair(module.kernel_size)), reversed(_pair(module.dilation))):
            total = d * (k - 1)
            amounts += [total // 2, total - total // 2]
        return tuple(amounts)
    ph, pw = _pair(pad)
    return (pw, pw, ph, ph)


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _out_len(size, k, s, d, pad_before, pad_after, ceil_mode=False):
    """Output length of a conv/pool along one axis (PyTorch's formula, ceil_mode rule included)."""
    span = size + pad_before + pad_after - d * (k - 1) - 1
    if span < 0:
        return 0
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + pad_before:
        out -= 1
    return out


class BorderMixin:
    """Pad by `self.border_mode` over `self.border_pad` (l, r, t, b), then run the parent unpadded.

    The parent's own `padding` is 0 on a derived layer; `border_name` is the module name used in errors.
    """

    prefix = 'Border'
    border_mode = 'zeros'
    border_pad = (0, 0, 0, 0)
    border_name = '?'
    border_resample = DEFAULT_RESAMPLE

    def _geometry(self):
        kh, kw = _pair(self.kernel_size)
        sh, sw = _pair(self.stride if self.stride is not None else self.kernel_size)
        dh, dw = _pair(getattr(self, 'dilation', 1))
        return (kh, kw), (sh, sw), (dh, dw), getattr(self, 'ceil_mode', False)

    def _padded_out_size(self, h, w):
        (kh, kw), (sh, sw), (dh, dw), ceil = self._geometry()
        l, r, t, b = self.border_pad
        return _out_len(h, kh, sh, dh, t, b, ceil), _out_len(w, kw, sw, dw, l, r, ceil)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mode = self.border_mode
        if mode == 'none':
            return self._valid_then_resample(x)
        if mode == 'partial':
            return self._partial(x)
        h, w = x.shape[-2:]
        l, r, t, b = self.border_pad
        if mode in ('reflect', 'circular') and (
            max(t, b) > h - (mode == 'reflect') or max(l, r) > w - (mode == 'reflect')
        ):
            raise PaddingError(
                f'{self.border_name}: {mode} padding of {self.border_pad} (l, r, t, b) does not fit '
                f'its {h}x{w} input; use a larger input or a narrower padding scope'
            )
        padded = pad_circular(x, self.border_pad) if mode == 'circular' else F.pad(x, self.border_pad, mode=mode)
        return super().forward(padded)  # type: ignore[misc]  # a mixin: the layer class is its sibling base

    def _valid_then_resample(self, x):
        h, w = x.shape[-2:]
        (kh, kw), (sh, sw), (dh, dw), ceil = self._geometry()
        if _out_len(h, kh, sh, dh, 0, 0, ceil) < 1 or _out_len(w, kw, sw, dw, 0, 0, ceil) < 1:
            raise PaddingError(
                f'{self.border_name}: padding mode none needs a valid {_stock_name(self)}, '
                f'but its kernel extent {dh * (kh - 1) + 1}x{dw * (kw - 1) + 1} is larger than its {h}x{w} '
                f'input; narrow the padding scope (e.g. scope: backbone) or use larger inputs'
            )
        size = self._padded_out_size(h, w)
        rule = self.border_resample
        l, r, t, b = self.border_pad
        if rule == 'input' and (t + b or l + r):
            x = F.interpolate(x, size=(h + t + b, w + l + r), mode='bilinear', align_corners=False)
        y = super().forward(x)
        if tuple(y.shape[-2:]) == size:
            return y
        if rule == 'replicate':
            return F.pad(y, _split(size[1] - y.shape[-1], l, r) + _split(size[0] - y.shape[-2], t, b), mode='replicate')
        # output rules; for `input` only where ceil_mode makes the valid pool one short
        return F.interpolate(y, size=size, mode='bilinear', align_corners=rule == 'output-corners')

    def _partial(self, x):
        y = super().forward(x)  # the conv zero-pads itself (see make_border_layer)
        ratio = self._partial_ratio(x)
        if self.bias is None:
            return y * ratio
        # (y - b) * ratio + b, in one pass
        return torch.addcmul(self.bias.view(1, -1, 1, 1) * (1 - ratio), y, ratio)

    def _partial_ratio(self, x):
        """window size / real input pixels per output location: the outer product of the 1-D ratios."""
        h, w = x.shape[-2:]
        rows, cols = self._axis_ratio(0, h, x.device), self._axis_ratio(1, w, x.device)
        return (rows[:, None] * cols[None, :]).to(x.dtype)

    def _axis_ratio(self, axis, length, device):
        """k / real pixels per window along one axis (float32), cached per (axis, length, device)."""
        key = (axis, length, device)
        cache = self.__dict__.setdefault('_partial_cache', OrderedDict())
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        (kh, kw), (sh, sw), (dh, dw), _ = self._geometry()
        l, r, t, b = self.border_pad
        k, s, d, before, after = (kh, sh, dh, t, b) if axis == 0 else (kw, sw, dw, l, r)
        n = _out_len(length, k, s, d, before, after)
        taps = torch.arange(n).view(-1, 1) * s + torch.arange(k).view(1, -1) * d - before  # input index per tap
        real = ((taps >= 0) & (taps < length)).sum(1).clamp(min=1)  # a window of padding only: ratio k
        cache[key] = (k / real.to(torch.float32)).to(device)
        if len(cache) > PARTIAL_CACHE_SIZE:
            cache.popitem(last=False)
        return cache[key]


def _stock_name(layer):
    """The name of the stock class under a derived layer's mixins (e.g. Conv2d for CoordBorderConv2d)."""
    return next(c.__name__ for c in type(layer).__mro__ if not hasattr(c, 'prefix'))


def _split(missing, before, after):
    """(before, after) share of `missing` rows / columns, in proportion to the padding (top / left rounded down)."""
    first = missing * before // (before + after) if before + after else 0
    return (first, missing - first)


def pad_circular(x: torch.Tensor, pad: Sequence[int]) -> torch.Tensor:
    """`F.pad(x, pad, mode='circular')` for (l, r, t, b), by slicing and concatenation: the same values,
    2-2.5x faster forward + backward on CPU than F.pad's circular path (torch 2.14, measured on D8 feature
    maps), which made circular the slowest mode."""
    l, r, t, b = pad
    w = x.shape[-1]
    x = torch.cat([x[..., w - l :], x, x[..., :r]], dim=-1)
    h = x.shape[-2]
    return torch.cat([x[..., h - t :, :], x, x[..., :b, :]], dim=-2)


def make_border_layer(module, mode, name, resample=DEFAULT_RESAMPLE):
    """The layer `module` with padding mode `mode` (not 'zeros'); None if `mode` leaves it unchanged.

    `module` is an `nn.Conv2d` (or subclass) or an `nn.MaxPool2d` / `nn.AvgPool2d` with padding;
    `resample` is mode none's rule (ignored by the other modes).
    """
    pad = pad_amounts(module)
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)) and mode == 'partial':
        # For pools, "only real pixels count": max-pool already pads with -inf; avg-pool stops
        # counting the padding.
        if isinstance(module, nn.MaxPool2d) or not module.count_include_pad:
            return None
        new = nn.AvgPool2d(
            module.kernel_size,
            module.stride,
            module.padding,
            module.ceil_mode,
            count_include_pad=False,
            divisor_override=module.divisor_override,
        )
        return new
    if isinstance(module, nn.Conv2d):
        own_padding = module.padding if mode == 'partial' else (0, 0)
        return rebuild_as(
            module,
            BorderMixin,
            border_mode=mode,
            border_pad=pad,
            border_name=name,
            border_resample=resample,
            padding=own_padding,
            padding_mode='zeros',
        )
    return rebuild_as(
        module, BorderMixin, border_mode=mode, border_pad=pad, border_name=name, border_resample=resample, padding=0
    )
