"""The batch canvas follows the padding variant: no zero border sneaks back in at the input.

mmdet's `DetDataPreprocessor` (through mmengine's `ImgDataPreprocessor`) and mmseg's
`SegDataPreProcessor` stack a batch by padding every image at the bottom / right with `pad_value` (0
after normalisation) up to the largest image of the batch and a size divisor (32 for COCO models) or a
fixed crop size. A model whose layers pad by reflect / replicate / circular, or not at all, would
still see a zero strip before its first conv, and where it lies depends on the image's batch-mates:
a position signal that the layer patch never touches.

`follow_canvas` turns a model's data preprocessor into one derived from it (`patch.modules.rebuild_as`,
the same swap the layers get) that lets the stock preprocessor do everything it does — collate,
normalise, pad, set `pad_shape` / `batch_input_shape`, pad gt masks (0) and seg maps (ignore index
255) — and then refills the canvas outside each image by a rule that adds no position signal:
`reflect` / `replicate` / `circular` continue the image as the layers do; `none` and `partial` use
`replicate` (a valid layer has no fill rule of its own; partial convs treat their own zero padding
as missing, but the canvas strip would count as real pixels). `zeros` keeps the stock preprocessor.
Batch augmentations run after the refill, as they run after the padding in mmdet.

Written by hand because neither library can pad a batch by a rule: mmengine's `stack_batch` and
mmseg's `stack_batch` take a constant value only. The rules are index maps, so a canvas may be
larger than the image (a 400-pixel image in a batch with a 1333-pixel one) where `F.pad` refuses.
"""

from collections.abc import Sequence
from typing import Any

import torch

from ..errors import ConfigError
from .modes import CANVAS_RULES
from .modules import rebuild_as

# Batch augmentations that pad the canvas again after the preprocessor did (with zeros).
_PADDING_AUGMENTS = ('BatchFixedSizePad',)


def canvas_index(n, size, rule, device=None):
    """For each of `size` canvas positions along one axis, the image position (of `n`) it copies.

    Identity on the image itself; beyond it: replicate repeats the last pixel, circular wraps around,
    reflect mirrors about the last pixel without repeating it (as `F.pad(mode='reflect')`), periodic
    with period 2(n - 1) so that any canvas size works.
    """
    j = torch.arange(size, device=device)
    if rule == 'replicate':
        return j.clamp(max=n - 1)
    if rule == 'circular':
        return j % n
    if rule == 'reflect':
        if n == 1:
            return torch.zeros_like(j)
        m = j % (2 * (n - 1))
        return torch.where(m < n, m, 2 * (n - 1) - m)
    raise ConfigError(f'canvas rule {rule!r}: unknown; expected one of {", ".join(CANVAS_RULES)}')


def fill_canvas(batch: torch.Tensor, shapes: Sequence[Sequence[int]], rule: str) -> torch.Tensor:
    """Refill `batch` (n, c, H, W) outside each image's top-left (h, w) region by `rule`, in place."""
    if rule == 'zeros':
        return batch
    height, width = batch.shape[-2:]
    for i, (h, w) in enumerate(shapes):
        h, w = min(int(h), height), min(int(w), width)
        if (h, w) == (height, width):
            continue
        rows = canvas_index(h, height, rule, batch.device)
        cols = canvas_index(w, width, rule, batch.device)
        batch[i] = batch[i][:, rows[:, None], cols[None, :]]
    return batch


def _image_shapes(data):
    """(h, w) of each image as it comes from the data loader, before the preprocessor pads it."""
    inputs = data.get('inputs') if isinstance(data, dict) else None
    if torch.is_tensor(inputs) and inputs.dim() == 4:
        return [tuple(inputs.shape[-2:])] * inputs.shape[0]
    if isinstance(inputs, (list, tuple)) and all(torch.is_tensor(x) and x.dim() == 3 for x in inputs):
        return [tuple(x.shape[-2:]) for x in inputs]
    raise ConfigError(
        f'data preprocessor input: got {type(inputs).__name__}; expected a list of (c, h, w) '
        'tensors or an (n, c, h, w) tensor (multi-branch inputs have no canvas rule yet)'
    )


class CanvasMixin:
    """Run the stock preprocessor without its batch augmentations, refill the canvas, then augment.

    `defer_augments` False (mmpretrain's `ClsDataPreprocessor`, whose augments mix labels inside its
    forward): the augments run where they are, and a training batch that they mixed on a padded canvas
    is refused rather than refilled wrongly.
    """

    prefix = 'Canvas'
    canvas = 'zeros'
    defer_augments = True

    def forward(self, data, training=False):
        shapes = _image_shapes(data)
        augments = getattr(self, 'batch_augments', None) if self.defer_augments else None
        if augments is not None:
            self.batch_augments = None
        try:
            out = super().forward(data, training)
        finally:
            if augments is not None:
                self.batch_augments = augments
        canvas = tuple(out['inputs'].shape[-2:])
        if (
            training
            and not self.defer_augments
            and getattr(self, 'batch_augments', None) is not None
            and any(tuple(s) != canvas for s in shapes)
        ):
            raise ConfigError(
                f'{type(self).__name__}: batch augments mixed images of sizes {sorted(set(shapes))} on '
                f'a padded {canvas[0]}x{canvas[1]} canvas; expected one image size per batch with '
                f"batch augments and a non-zero padding mode, or padding.canvas='zeros'"
            )
        out['inputs'] = fill_canvas(out['inputs'], shapes, self.canvas)
        if training and augments is not None:
            inputs, samples = out['inputs'], out.get('data_samples')
            if callable(augments):
                inputs, samples = augments(inputs, samples)
            else:
                for aug in augments:
                    inputs, samples = aug(inputs, samples)
            out['inputs'], out['data_samples'] = inputs, samples
        return out


def _stacking(pre):
    """'canvas' for preprocessors known to stack at the top-left of a bottom / right padded canvas,
    'unpadded' for one that never pads (mmengine's `BaseDataPreprocessor`), else 'unknown'."""
    from mmengine.model import BaseDataPreprocessor, ImgDataPreprocessor

    try:
        from mmseg.models.data_preprocessor import SegDataPreProcessor
    except ImportError:
        SegDataPreProcessor = ImgDataPreprocessor
    try:  # mmpretrain's classifiers (matched pretraining): stack_batch pads bottom / right as well
        from mmpretrain.models.utils.data_preprocessor import ClsDataPreprocessor
    except ImportError:
        ClsDataPreprocessor = ImgDataPreprocessor
    if isinstance(pre, (ImgDataPreprocessor, SegDataPreProcessor, ClsDataPreprocessor)):
        return 'canvas'
    return 'unpadded' if pre is None or type(pre) is BaseDataPreprocessor else 'unknown'


def follow_canvas(pre: Any, rule: str) -> tuple[Any, dict]:
    """(preprocessor, input policy): `pre` refilling its canvas by `rule` (`pre` itself for `zeros` or when
    it never pads a batch), and the dict that patch_report.json records as `input`."""
    kind = 'canvas' if isinstance(pre, CanvasMixin) else _stacking(pre)
    if isinstance(pre, CanvasMixin):
        pre.canvas = rule
    elif rule != 'zeros' and kind == 'unknown':
        raise ConfigError(
            f'model.data_preprocessor: {type(pre).__name__} stacks batches in a way the harness does '
            'not know; expected DetDataPreprocessor, SegDataPreProcessor, ClsDataPreprocessor, an '
            "ImgDataPreprocessor subclass, or padding.canvas='zeros' to keep its zero padding"
        )
    elif rule != 'zeros' and kind == 'canvas':
        augments = getattr(pre, 'batch_augments', None)
        for aug in augments if isinstance(augments, (list, tuple, torch.nn.ModuleList)) else [augments]:
            if type(aug).__name__ in _PADDING_AUGMENTS:
                raise ConfigError(
                    f'model.data_preprocessor.batch_augments: {type(aug).__name__} pads the canvas '
                    f'with zeros again after the {rule} refill; expected no padding batch augment '
                    f"with a non-zero padding mode, or padding.canvas='zeros'"
                )
        # mmdet / mmseg augment (inputs, data_samples) after padding: deferred past the refill
        try:
            from mmpretrain.models.utils.data_preprocessor import ClsDataPreprocessor

            defer = not isinstance(pre, ClsDataPreprocessor)
        except ImportError:
            defer = True
        pre = rebuild_as(pre, CanvasMixin, canvas=rule, defer_augments=defer)
    return pre, dict(
        canvas=rule if kind == 'canvas' else 'unpadded' if kind == 'unpadded' else 'zeros',
        preprocessor=type(pre).__name__,
    )
