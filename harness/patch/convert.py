"""Walk a model and change the padding of every padded conv / pool in a scope.

Like detectron2's `convert_frozen_batchnorm`: a matching layer (the root included) is replaced by a new
module built from it (parameters shared, names unchanged), and the converted module is returned. Every
padded layer in scope ends up in the patch report: changed, unchanged (with why) or skipped (with why) — nothing is
silently ignored.
"""

import difflib
from collections.abc import Sequence

import torch.nn as nn
from mmcv.cnn import ConvModule

from ..errors import ConfigError
from .border_layers import make_border_layer, pad_amounts
from .modes import SCOPES
from .modules import matches, replace_module
from .spec import PaddingSpec

# Layers that pad inside their own forward with zeros, whatever their `padding` attribute says.
_SELF_PADDING = ('Conv2dAdaptivePadding', 'Conv2dSame')
_POOLS = (nn.MaxPool2d, nn.AvgPool2d)
_PAD_LAYERS = (nn.ZeroPad2d, nn.ConstantPad2d)


def _is_padded(module):
    pad = getattr(module, 'padding', 0)
    if isinstance(pad, str):
        return pad == 'same'
    return any(p != 0 for p in (pad if isinstance(pad, (tuple, list)) else (pad,)))


def scope_globs(model: nn.Module, scope: str | Sequence[str]) -> list[tuple[str, list[str]]]:
    """[(item, globs)] for `scope` (a preset of modes.SCOPE_PRESETS, a module-name glob, or a list of those) in
    `model`: `PaddingSpec.scope_globs`, with the model's `*head` children for the preset `head`."""
    heads = [f'{name}.*' for name, _ in model.named_children() if name.endswith('head')]
    return PaddingSpec('zeros', scope if isinstance(scope, str) else tuple(scope)).scope_globs(heads)


def _entry(name, module, action, reason=''):
    return dict(
        name=name,
        type=type(module).__name__,
        kernel=_plain(getattr(module, 'kernel_size', None)),
        stride=_plain(getattr(module, 'stride', None)),
        dilation=_plain(getattr(module, 'dilation', 1)),
        padding=list(pad_amounts(module)) if hasattr(module, 'kernel_size') else _plain(module.padding),
        action=action,
        reason=reason,
    )


def _plain(v):
    return list(v) if isinstance(v, tuple) else v


def classify(module: nn.Module) -> str | None:
    """'conv', 'pool', 'skip:<why>' for a padded layer; None for a layer that does not pad."""
    name = type(module).__name__
    if isinstance(module, _PAD_LAYERS):
        if any(module.padding) and getattr(module, 'value', 0) == 0:
            return 'skip:standalone zero-padding layer (not converted; pad inside the conv instead)'
        return None
    if not hasattr(module, 'kernel_size') or not hasattr(module, 'padding'):
        return None
    if isinstance(module, ConvModule):
        return None  # a wrapper that copies its conv's kernel_size / padding; the conv itself is converted
    if name in _SELF_PADDING:
        return 'skip:pads with zeros inside its own forward'
    if not _is_padded(module):
        return None
    if isinstance(module, nn.Conv2d):
        return 'conv'
    if isinstance(module, _POOLS):
        return 'pool'
    if isinstance(module, (nn.ConvTranspose2d,)):
        return None  # transposed-conv padding crops the output; it invents no values
    return f'skip:{name} has no padding-mode support (e.g. deformable conv samples zeros off the border)'


def convert_padding(
    model: nn.Module, mode: 'str | PaddingSpec', scope: str | Sequence[str] = 'all', resample: str | None = None
) -> tuple[nn.Module, list[dict]]:
    """Change the padding of every padded layer in `scope` to `mode` (a mode name, or a PaddingSpec that
    then also gives the scope and the rule), in place. Returns (model, report).

    `zeros` leaves every layer as it is (the patched model is the stock model) but still reports.
    `resample` is mode none's rule (modes.NONE_RESAMPLE; default modes.DEFAULT_RESAMPLE), recorded in
    every entry of a layer converted to none.
    """
    spec = (
        mode
        if isinstance(mode, PaddingSpec)
        else PaddingSpec.parse(
            dict(mode=mode, scope=scope, **({} if resample is None else dict(resample=resample))), 'padding'
        )
    )
    mode, scope, resample = spec.mode, spec.scope, spec.rule
    padded = [(n, m, kind) for n, m in model.named_modules() if (kind := classify(m))]
    names = [n for n, _, _ in padded]
    globs = []
    for item, item_globs in scope_globs(model, scope):
        if item != 'all' and not any(matches(n, item_globs) for n in names):  # 'all' of nothing: nothing to do
            close = difflib.get_close_matches(item, names, n=5, cutoff=0.3)
            raise ConfigError(
                f'padding.scope: {item!r} matches no padded layer of {type(model).__name__}; '
                f'expected one of {", ".join(SCOPES)} or module-name globs; '
                f'closest names: {", ".join(close) or "(none)"}'
            )
        globs += item_globs

    report = []
    for name, module, kind in padded:
        if not matches(name, globs):
            continue
        if kind.startswith('skip:'):
            report.append(_entry(name, module, 'skipped', kind[5:]))
            continue
        if mode == 'zeros':
            report.append(_entry(name, module, 'zeros', 'baseline: layer left as it is'))
            continue
        new = make_border_layer(module, mode, name or type(module).__name__, resample)  # the root has no name
        if new is None:
            report.append(_entry(name, module, 'unchanged', f'{type(module).__name__} already ignores padding'))
            continue
        model = replace_module(model, name, new)
        report.append(_entry(name, module, mode))
        if resample is not None:
            report[-1]['resample'] = resample
    return model, report
