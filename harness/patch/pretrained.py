"""A pretrained backbone knows its padding: one pretrained under another border rule is refused.

Filters learned with zero padding and run with circular padding measure the padding *and* the
mismatch (issue: "matched pretraining"). The grid's `init: matched` pretrains a classifier per backbone
padding (`harness.run.pretrain`); its checkpoint carries the classifier's patch report in its meta
(`provenance.META_KEY`, written by `PatchReportHook`). When a model is built through `HarnessModel`
with a backbone `init_cfg` of type `Pretrained` that points at such a checkpoint, `check_backbone_init`
compares the backbone part of both reports — mode, resample rule and which backbone layers were
converted, by name relative to the backbone, so a classifier patched on scope `backbone` matches a
detector patched on scope `all` — and refuses a mismatch with a ConfigError naming both.

A checkpoint without harness meta (torchvision's ImageNet weights, a model-zoo file) is the stock,
zero-padded backbone: that is the `imagenet` design, allowed under any padding (the report says so).
The whole-model comparison for `load_from` / resume / test lives in `provenance.check_patch`; this is
its backbone-only counterpart, for weights that start a *different* model.
"""

import os

import torch

from ..errors import ConfigError
from .provenance import META_KEY
from .spec import PaddingSpec

BACKBONE = 'backbone.'


def backbone_patch(report, prefix=BACKBONE):
    """What must agree between a pretrained backbone and the backbone it initialises: {'padding': mode}
    plus, for a non-zero mode, the resample rule and the converted layers (names after `prefix`)."""
    pad = (report or {}).get('padding') or {}
    mode = PaddingSpec.parse(pad or None, 'patch report padding').mode
    layers = sorted(
        e['name'][len(prefix) :]
        for e in pad.get('layers') or []
        if e['name'].startswith(prefix) and e.get('action') == mode
    )
    if mode == 'zeros' or not layers:
        return {'padding': 'zeros'}
    spec = {'padding': mode, 'layers': layers}
    if pad.get('resample') is not None:
        spec['resample'] = pad['resample']
    return spec


def describe(spec):
    """'zeros' or 'circular on 20 backbone layers' (with the resample rule when there is one)."""
    if spec['padding'] == 'zeros':
        return 'zeros (stock backbone)'
    rule = f', resample {spec["resample"]}' if spec.get('resample') else ''
    return f'{spec["padding"]} on {len(spec["layers"])} backbone layers{rule}'


def pretrained_backbone(model_cfg):
    """(checkpoint, prefix) of the backbone's `init_cfg` of type Pretrained, or (None, None)."""
    backbone = (model_cfg or {}).get('backbone') or {}
    inits = backbone.get('init_cfg') or []
    for init in inits if isinstance(inits, (list, tuple)) else [inits]:
        if isinstance(init, dict) and init.get('type') == 'Pretrained' and init.get('checkpoint'):
            return str(init['checkpoint']), init.get('prefix')
    return None, None


def read_meta(path):
    """The `meta` dict of a local torch checkpoint ({} if it has none); memory-mapped, tensors not read."""
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=False, mmap=True)
    except (RuntimeError, ValueError, OSError):  # not a zip checkpoint (legacy format): read it whole
        ckpt = torch.load(path, map_location='cpu', weights_only=False)
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    return meta if isinstance(meta, dict) else {}


def check_backbone_init(model_cfg, report, where='model.backbone.init_cfg'):
    """Refuse a backbone `init_cfg` checkpoint pretrained with another padding than `report`'s backbone.

    Returns a note ('' when the checkpoint is not a local file, or matches); raises ConfigError."""
    path, prefix = pretrained_backbone(model_cfg)
    if path is None or not os.path.isfile(os.path.expanduser(path)):
        return ''  # a URL (torchvision://, https://) or a checkpoint still to be trained: nothing to read yet
    saved = read_meta(os.path.expanduser(path)).get(META_KEY)
    want = backbone_patch(report)
    if saved is None:
        return (
            f'{where}: {path} has no harness patch report (stock weights, trained with zero padding); '
            f'this model pads its backbone with {describe(want)}'
        )
    have = backbone_patch(saved, prefix or '')
    if have != want:
        raise ConfigError(
            f'{where}: checkpoint {path} holds a backbone pretrained with padding {describe(have)}, '
            f'but this model pads its backbone with {describe(want)}; expected a backbone pretrained '
            'with the same padding (a grid with init: matched pretrains one per padding)'
        )
    return ''
