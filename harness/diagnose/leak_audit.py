"""Position-leak audit of a config: which layers pad, where stride-2 padding is uneven, what leaks.

Three questions about any mmdet / mmseg config, without training it:
- Which layers invent values at the border? Every padded conv / pool (harness.patch.convert's report).
- Where is the padding uneven? "Mind the Pad" (Alsallakh et al., ICLR 2021): with input size s, kernel
  extent k, stride 2 and padding p on both sides, the last window stops short of the bottom / right
  border when (s + 2p - k) is odd, so the top / left border gets padding the bottom / right never sees.
  For ResNet's 7x7/s2/p3 stem and 3x3/s2/p1 convs that is every *even* input: a size divisible by 32
  is uneven at every stride-2 layer, and 32n + 1 (e.g. 225) at none. The sizes each layer sees come
  from a forward pass with hooks, at the size the audit is given.
- How much position does each mode leak? For constant images (a few grey values) a position-free
  network gives spatially constant features. The leak score of a feature level is the spatial variance
  of each channel over its mean square, averaged over channels (channels that are all zero count 0)
  and over the grey values: 0 means no position signal, 1 a channel that is all border effect.
Only the backbone and the neck run (heads need proposals or crop sizes); layers outside them are
listed without an input size. A `checkpoint` must have been trained with the config's own patch
(`harness.patch.provenance.check_patch`), whichever modes are then measured on its weights.
"""

import copy
from collections.abc import Sequence
from typing import Any

import torch

from ..configs import quiet_logs, read_config
from ..errors import ConfigError, PaddingError
from ..patch.convert import convert_padding
from ..patch.model import patch_model
from ..patch.modes import PADDING_MODES
from ..patch.spec import PaddingSpec
from .features import feature_levels
from .loading import build_model, check_checkpoint_patch, load_state, preprocess_stats

# Default input sizes: an R-50 audit (6 modes) stays near 30 s on 2 CPU cores. mmseg's R-50-D8 keeps
# stride 8 in its last stages (4x the work of an mmdet R-50 at the same size): its default is the smoke
# crop, 128x256 (a quarter of the Cityscapes crop per side); 256x512 took 56 s here.
DEFAULT_SIZE = {'mmseg': (128, 256)}  # everything else (mmdet): 256x256
GREYS = (0, 128, 255)


def uneven_padding(
    size: int, kernel: int, stride: int, dilation: int, before: int, after: int, ceil_mode: bool = False
) -> tuple[int, bool]:
    """(padding the last window sees at the end, True if that differs from `before`) along one axis."""
    extent = dilation * (kernel - 1) + 1
    length = size + before + after
    span = length - extent
    if span < 0:
        return after, False  # the layer does not fit: nothing to say about its windows
    n = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (n - 1) * stride >= size + before:
        n -= 1
    seen_after = after - (length - ((n - 1) * stride + extent))
    return seen_after, seen_after != before


def leak_score(f: torch.Tensor) -> float:
    """Spatial variance / mean square per channel of f (n, c, h, w), averaged over channels and images."""
    f = f.double()
    ms = f.pow(2).mean((-2, -1))
    var = f.var((-2, -1), unbiased=False)
    ratio = torch.where(ms > 0, var / ms.clamp(min=1e-300), torch.zeros_like(ms))
    return float(ratio.mean())


def _constant_images(cfg, size, greys):
    mean, std, _ = preprocess_stats(cfg)
    x = torch.tensor(greys, dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 3, *size)
    return (x - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)


@torch.no_grad()
def audit(
    config: str,
    modes: Sequence[str] = PADDING_MODES,
    size: Sequence[int] | None = None,
    checkpoint: str | None = None,
    scope: Any = None,
    greys: Sequence[int] = GREYS,
    seed: int = 0,
    resample: Sequence[str] | None = None,
) -> dict:
    """Audit `config` (a config file). Returns a JSON-ready dict; see the module docstring.

    `resample`: mode none's rules to measure, each a column `none:<rule>` (default: the default rule, `none`).
    """
    cfg = read_config(config)
    modes = [PaddingSpec.from_flags(m).mode for m in modes]
    own = cfg.model.get('padding') if cfg.model.get('type') == 'HarnessModel' else None
    scope = scope or (own or {}).get('scope', 'all')
    size = tuple(size or DEFAULT_SIZE.get(cfg.get('default_scope'), (256, 256)))
    stock = copy.deepcopy(cfg)
    if own:
        stock.model.padding = None  # every mode is applied to the stock model below
    model, report = build_model(stock, seed=seed)
    loaded = None
    if checkpoint is not None:
        state, saved = load_state(checkpoint, with_patch=True)
        # the checkpoint must have been trained with the config's own patch, whatever modes are measured
        note = check_checkpoint_patch(checkpoint, saved, build_model(cfg, seed=seed)[1] if own else report, config)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if len(missing) == len(model.state_dict()):
            raise ConfigError(f'checkpoint {checkpoint}: none of its {len(state)} weights fit {config}')
        loaded = dict(path=checkpoint, missing=len(missing), unexpected=len(unexpected), patch_note=note)

    # every padded layer: (name, type, kernel, stride, dilation, padding as l, r, t, b, ...); zeros changes nothing
    _, layers = convert_padding(model, 'zeros', 'all')
    sizes: dict = {}

    def record(name):
        def hook(module, args, out):  # returns None: the output is left as it is
            sizes.setdefault(name, (list(args[0].shape[-2:]), list(out.shape[-2:])))

        return hook

    hooks = [model.get_submodule(e['name']).register_forward_hook(record(e['name'])) for e in layers]
    x = _constant_images(cfg, size, greys)
    try:
        levels = feature_levels(model, x)
    finally:
        for h in hooks:
            h.remove()
    for e in layers:
        e['in_size'], e['out_size'] = sizes.get(e['name'], (None, None))
        e['ceil_mode'] = bool(getattr(model.get_submodule(e['name']), 'ceil_mode', False))
        e['uneven'] = _uneven(e)

    leak, errors, shapes = {}, {}, {name: list(f.shape[1:]) for name, f in levels}
    columns = []  # (column name, padding): mode none once per resample rule asked for
    for m in modes:
        for rule in resample if m == 'none' and resample else [None]:
            padding = dict(mode=m, scope=scope) if rule is None else dict(mode=m, scope=scope, resample=rule)
            columns.append((m if rule is None else f'{m}:{rule}', padding))
    for column, padding in columns:
        if padding['mode'] == 'zeros':
            leak[column] = {name: leak_score(f) for name, f in levels}
            continue
        patched = copy.deepcopy(model)
        try:
            with quiet_logs():
                patched, _ = patch_model(patched, padding=padding)
            leak[column] = {name: leak_score(f) for name, f in feature_levels(patched, x)}
        except PaddingError as e:
            errors[column] = str(e)
        del patched
    return dict(
        config=config,
        size=list(size),
        scope=scope,
        config_mode=(own or {}).get('mode', 'zeros'),
        greys=list(greys),
        checkpoint=loaded,
        seed=seed,
        layers=layers,
        levels=shapes,
        leak=leak,
        errors=errors,
        uneven=[e['name'] for e in layers if e['uneven']],
        pad_size_divisor=_pad_divisor(cfg),
    )


def _uneven(e):
    """Where the end padding a layer's windows see differs from the start's: {'h': [t, b], 'w': [l, r]}."""
    if e['in_size'] is None or not isinstance(e['kernel'], (int, list)):
        return None
    k = e['kernel'] if isinstance(e['kernel'], list) else [e['kernel']] * 2
    s = e['stride'] if isinstance(e['stride'], list) else [e['stride'] or k[0]] * 2
    d = e['dilation'] if isinstance(e['dilation'], list) else [e['dilation']] * 2
    left, right, top, bottom = e['padding']
    out = {}
    for axis, n, kk, ss, dd, before, after in (
        ('h', e['in_size'][0], k[0], s[0], d[0], top, bottom),
        ('w', e['in_size'][1], k[1], s[1], d[1], left, right),
    ):
        seen, uneven = uneven_padding(n, kk, ss, dd, before, after, e['ceil_mode'])
        if uneven:
            out[axis] = [before, seen]
    return out or None


def _pad_divisor(cfg):
    pre = cfg.model.get('data_preprocessor') or {}
    return pre.get('pad_size_divisor') or pre.get('size_divisor')


def _hw(v):
    v = v if isinstance(v, (list, tuple)) else [v, v]
    return str(v[0]) if len(set(v)) == 1 else 'x'.join(map(str, v))


def format_report(result: dict) -> str:
    """The console view: uneven layers, then the leak table (level x mode)."""
    h, w = result['size']
    layers = result['layers']
    strided = [e for e in layers if max(e['stride'] if isinstance(e['stride'], list) else [e['stride'] or 1]) > 1]
    lines = [
        f"audit: {result['config']}  input {h}x{w}  scope {result['scope']}  config's mode {result['config_mode']}",
        f'padded layers: {len(layers)} ({sum(e["action"] == "skipped" for e in layers)} cannot be converted); '
        f'strided: {len(strided)}; uneven padding at {h}x{w}: {len(result["uneven"])}',
    ]
    for e in layers:
        if e['uneven']:
            seen = ', '.join(
                f'{"top/bottom" if a == "h" else "left/right"} {b}/{s}' for a, (b, s) in e['uneven'].items()
            )
            lines.append(
                f'  uneven  {e["name"]:<36} {e["type"]:<12} {_hw(e["kernel"])}/s{_hw(e["stride"])}/'
                f'p{_hw(e["padding"][2::-2])} on {_hw(e["in_size"])}: padding seen {seen}'
            )
    div = result.get('pad_size_divisor')
    if div and (h % div or w % div):
        lines.append(
            f'  note: the data preprocessor pads inputs to a multiple of {div}: the network sees '
            f'{-(-h // div) * div}x{-(-w // div) * div}, with zeros at the bottom / right'
        )
    modes = list(result['leak']) + list(result['errors'])
    lines.append('leak score (0 = constant features for a constant image)')
    width = {m: max(11, len(m) + 2) for m in modes}
    lines.append(f'{"level":<12}{"c x h x w":>16}' + ''.join(f'{m:>{width[m]}}' for m in modes))
    for level, shape in result['levels'].items():
        cells = [
            f'{result["leak"][m][level]:>{width[m]}.2e}' if m in result['leak'] else f'{"error":>{width[m]}}'
            for m in modes
        ]
        lines.append(f'{level:<12}{"x".join(map(str, shape)):>16}' + ''.join(cells))
    lines += [f'  {m}: {msg}' for m, msg in result['errors'].items()]
    return '\n'.join(lines)
