"""`HarnessModel`: build any MMDetection / MMSegmentation model, then patch it — from a config.

A config turns the harness on by changing the model's `type` and naming the stock type in `base_type`;
every other key of the stock model dict stays where it is, so `_base_` inheritance and
`--cfg-options model.backbone.depth=18` keep working:

    custom_imports = dict(imports=['harness'], allow_failed_imports=False)
    model = dict(type='HarnessModel', base_type='MaskRCNN',
                 padding=dict(mode='none', scope='backbone'),        # optional
                 coordconv=dict(sites=['mask_head_first']),          # optional
                 solo_coords=True)                                   # False: SOLO without coordinates

The builder returns the stock class (a `MaskRCNN` is still a `MaskRCNN`), patched at build time: the
runner wraps it in DDP and loads `init_cfg` / `load_from` / resume weights afterwards, into the same
parameter names. What was patched is kept in `model.harness_report` and saved by
`harness.run.hooks.PatchReportHook`.
"""
from collections import Counter

from mmengine.config import ConfigDict
from mmengine.logging import print_log
from mmengine.registry import MODELS

from ..data.preprocessors import INPUT_CANVAS, follow_canvas
from .convert import convert_padding
from .coordconv import inject_coordconv
from ..errors import ConfigError
from .modes import canonical_mode, canonical_resample
from .pretrained import check_backbone_init
from .solo_coords import remove_solo_coords


def patch_model(model, padding=None, coordconv=None, solo_coords=True):
    """Apply the harness patches to a built model. Returns (patched model, patch report)."""
    report = {}
    if not solo_coords:
        report['solo_coords_removed'] = remove_solo_coords(model)
    if padding is not None:
        if (not isinstance(padding, dict) or 'mode' not in padding
                or set(padding) - {'mode', 'scope', 'resample', 'canvas'}):
            raise ConfigError(f'model.padding: got {padding!r}; expected dict(mode=..., scope=..., resample=..., '
                              'canvas=...)')
        scope = padding.get('scope', 'all')
        mode = canonical_mode(padding['mode'], 'model.padding.mode')
        resample = canonical_resample(padding.get('resample'), mode, 'model.padding.resample')
        model, layers = convert_padding(model, mode, scope, resample)
        report['padding'] = dict(mode=padding['mode'], scope=scope, layers=layers)
        if resample is not None:
            report['padding']['resample'] = resample
    if hasattr(model, 'data_preprocessor'):  # the batch canvas follows the mode (harness/data/preprocessors.py)
        rule = (padding or {}).get('canvas') or INPUT_CANVAS[canonical_mode((padding or {}).get('mode', 'zeros'))]
        model.data_preprocessor, report['input'] = follow_canvas(model.data_preprocessor, rule)
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
        rule = f" (resample {report['padding']['resample']})" if report['padding'].get('resample') else ''
        lines.append(f"padding {report['padding']['mode']}{rule} on scope {report['padding']['scope']}: " +
                     ', '.join(f'{n} {a}' for a, n in sorted(counts.items())))
        lines += [f"  skipped {e['name']} ({e['type']}): {e['reason']}"
                  for e in report['padding']['layers'] if e['action'] == 'skipped']
    if report.get('input', {}).get('canvas', 'zeros') not in ('zeros', 'unpadded'):
        lines.append(f"input canvas filled by {report['input']['canvas']} ({report['input']['preprocessor']})")
    if 'coordconv' in report:
        lines.append('coordconv on ' + ', '.join(e['name'] for e in report['coordconv']))
    if 'solo_coords_removed' in report:
        lines.append('SOLO coordinates removed from ' + ', '.join(e['name'] for e in report['solo_coords_removed']))
    return lines


@MODELS.register_module()
def HarnessModel(base_type, padding=None, coordconv=None, solo_coords=True, **model_cfg):
    """Build `dict(type=base_type, **model_cfg)` with the current default scope, then patch it."""
    model = MODELS.build(ConfigDict(type=base_type, **model_cfg))
    model, report = patch_model(model, padding, coordconv, solo_coords)
    model.harness_report = report
    for line in summarize(report):
        print_log(f'[harness] {line}', logger='current')
    note = check_backbone_init(model_cfg, report)  # a backbone pretrained with another padding is refused
    if note:
        print_log(f'[harness] {note}', logger='current')
    return model
