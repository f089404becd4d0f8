"""`HarnessModel`: build any MMDetection / MMSegmentation model, then patch it — from a config.

A config turns the harness on by changing the model's `type` and naming the stock type in `base_type`;
every other key of the stock model dict stays where it is, so `_base_` inheritance and
`--cfg-options model.backbone.depth=18` keep working:

    custom_imports = dict(imports=['harness.engine.register'], allow_failed_imports=False)
    model = dict(type='HarnessModel', base_type='MaskRCNN',
                 padding=dict(mode='none', scope='backbone'),        # optional
                 coordconv=dict(sites=['mask_head_first']),          # optional
                 solo_coords=True)                                   # False: SOLO without coordinates

The builder returns the stock class (a `MaskRCNN` is still a `MaskRCNN`), patched at build time: the
runner wraps it in DDP and loads `init_cfg` / `load_from` / resume weights afterwards, into the same
parameter names. What was patched is kept in `model.harness_report` and saved by
`harness.engine.patch_report_hook.PatchReportHook`. `harness_model` turns a stock model dict into that
form: the one place a config is wrapped into HarnessModel.
"""

from collections import Counter
from typing import Any

import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.logging import print_log
from mmengine.registry import MODELS

from ..errors import ConfigError
from .canvas import follow_canvas
from .convert import convert_padding
from .coordconv import inject_coordconv
from .pretrained import check_backbone_init
from .solo_coords import remove_solo_coords
from .spec import PaddingSpec


def harness_model(
    model: dict, padding: Any = None, coordconv: dict | None = None, solo_coords: bool | None = None
) -> dict:
    """The model dict `model` built through HarnessModel (`base_type` its stock type, unless it is one
    already), with the patches that are given: `padding` (anything `PaddingSpec.parse` reads, stored
    canonical), `coordconv` (dict), `solo_coords` (False removes SOLO's coordinates)."""
    model = dict(model)
    if model.get('type') != 'HarnessModel':
        model = dict(model, type='HarnessModel', base_type=model.get('type'))
    if padding is not None:
        model['padding'] = PaddingSpec.parse(padding).as_config()
    if coordconv is not None:
        model['coordconv'] = dict(coordconv)
    if solo_coords is not None:
        model['solo_coords'] = solo_coords
    return model


def patch_model(
    model: nn.Module, padding: Any = None, coordconv: dict | None = None, solo_coords: bool = True
) -> tuple[nn.Module, dict]:
    """Apply the harness patches to a built model. Returns (patched model, patch report)."""
    report: dict[str, Any] = {}
    if not solo_coords:
        report['solo_coords_removed'] = remove_solo_coords(model)
    spec = PaddingSpec.parse(padding, 'model.padding')
    if padding is not None:
        model, layers = convert_padding(model, spec)
        report['padding'] = dict(mode=spec.mode, scope=spec.as_config()['scope'], layers=layers)
        if spec.rule is not None:
            report['padding']['resample'] = spec.rule
    if hasattr(model, 'data_preprocessor'):  # the batch canvas follows the mode (harness/patch/canvas.py)
        model.data_preprocessor, report['input'] = follow_canvas(model.data_preprocessor, spec.input_canvas)
    if coordconv is not None:
        if not isinstance(coordconv, dict) or 'sites' not in coordconv or set(coordconv) - {'sites', 'with_r'}:
            raise ConfigError(f'model.coordconv: got {coordconv!r}; expected dict(sites=[...], with_r=False)')
        model, report['coordconv'] = inject_coordconv(model, coordconv['sites'], coordconv.get('with_r', False))
    return model, report


def summarize(report):
    """One line per patch kind, for logs."""
    lines = []
    if 'padding' in report:
        counts = Counter(e['action'] for e in report['padding']['layers'])
        lines.append(
            f'padding {PaddingSpec.parse(report["padding"]).describe()}: '
            + ', '.join(f'{n} {a}' for a, n in sorted(counts.items()))
        )
        lines += [
            f'  skipped {e["name"]} ({e["type"]}): {e["reason"]}'
            for e in report['padding']['layers']
            if e['action'] == 'skipped'
        ]
    if report.get('input', {}).get('canvas', 'zeros') not in ('zeros', 'unpadded'):
        lines.append(f'input canvas filled by {report["input"]["canvas"]} ({report["input"]["preprocessor"]})')
    if 'coordconv' in report:
        lines.append('coordconv on ' + ', '.join(e['name'] for e in report['coordconv']))
    if 'solo_coords_removed' in report:
        lines.append('SOLO coordinates removed from ' + ', '.join(e['name'] for e in report['solo_coords_removed']))
    return lines


@MODELS.register_module()
def HarnessModel(
    base_type: str, padding: Any = None, coordconv: dict | None = None, solo_coords: bool = True, **model_cfg: Any
) -> nn.Module:
    """Build `dict(type=base_type, **model_cfg)` with the current default scope, then patch it."""
    model: Any
    model, report = patch_model(MODELS.build(ConfigDict(type=base_type, **model_cfg)), padding, coordconv, solo_coords)
    model.harness_report = report
    for line in summarize(report):
        print_log(f'[harness] {line}', logger='current')
    note = check_backbone_init(model_cfg, report)  # a backbone pretrained with another padding is refused
    if note:
        print_log(f'[harness] {note}', logger='current')
    return model
