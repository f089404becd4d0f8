"""What a results.json metric key means, and how its numbers are printed in the report.

Keys come from several writers: mmdet's CocoMetric (`coco/bbox_mAP`, in [0, 1], shown x100 with one
decimal as papers print it), mmseg's IoUMetric (`mIoU`, `IoU.<class>`, already percent), the
border-distance evaluation (`border/<metric>@<bin>`, same units as `<metric>`: an AP in [0, 1], an
mIoU in percent) and the position read-out probe (`probe/<target>_<stat>`, e.g. `probe/H_spc`).
Keeping the vocabulary in one place means every table, plot and CSV agrees on scale and decimals.
Signs are explicit in differences (+0.8, \u22121.2, \u00b10.0).
"""

import re

from ..errors import ConfigError
from ..patch.spec import PaddingSpec

COCO_SUFFIXES = (
    ('mAP', 'AP'),
    ('mAP_50', 'AP50'),
    ('mAP_75', 'AP75'),
    ('mAP_s', 'APs'),
    ('mAP_m', 'APm'),
    ('mAP_l', 'APl'),
)
SEG_MAIN = ('mIoU', 'mAcc', 'aAcc')
SEG_PER_CLASS = (('IoU.', 'per-class IoU'), ('Acc.', 'per-class accuracy'))
# mmseg's CityscapesDataset.METAINFO order; per-class rows follow it, other classes come after.
TASK_TITLES = {'coco': 'COCO', 'cityscapes': 'Cityscapes'}
NOUNS = {'bbox': 'boxes', 'segm': 'masks'}
MINUS = '\u2212'


def task_title(task):
    return TASK_TITLES.get(task, task or 'task not recorded')


def border_parts(key):
    """'border/bbox_mAP@0-32' -> ('bbox_mAP', '0-32'); None for other keys."""
    if not key.startswith('border/') or '@' not in key:
        return None
    metric, _, bin_ = key[len('border/') :].rpartition('@')
    return metric, bin_


def probe_parts(key):
    """'probe/HS_spc' -> ('HS', 'spc'); 'probe/x' -> ('x', 'value'); None for other keys."""
    if not key.startswith('probe/'):
        return None
    target, _, stat = key[len('probe/') :].rpartition('_')
    return (target, stat) if target else (stat, 'value')


def coco_kind(key):
    """'bbox' / 'segm' for a COCO AP key (`coco/...` or its `border/...@bin`), else None."""
    if key.startswith('border/'):
        key = 'coco/' + (border_parts(key) or ('', ''))[0]
    kind, _, rest = key[len('coco/') :].partition('_') if key.startswith('coco/') else ('', '', '')
    return kind if kind in NOUNS and rest.startswith('mAP') else None


def is_ap(key):
    """A key where mmdet writes -1 for "no objects of that kind": the value is then n/a, not a number."""
    return key.startswith('coco/') or coco_kind(key) is not None


def scale(key):
    return 100.0 if is_ap(key) else 1.0


def _decimals(key):
    if is_ap(key):
        return 1
    inner = border_parts(key)[0] if key.startswith('border/') and border_parts(key) else key
    if inner in SEG_MAIN or inner.startswith(tuple(p for p, _ in SEG_PER_CLASS)):
        return 2
    if key.startswith('probe/'):  # correlations in [-1, 1] and errors of a few units alike
        return 3
    return None


def fmt(key, value, scaled=False):
    """A value in results.json units (or already in display units when `scaled`) as text."""
    v = value if scaled else value * scale(key)
    d = _decimals(key)
    return (f'{v:.{d}f}' if d is not None else f'{v:.4g}').replace('-', MINUS)


def signed(key, delta, scaled=False):
    """A difference with an explicit sign: +0.8, \u22121.2, \u00b10.0."""
    text = fmt(key, abs(delta), scaled)
    if not any(c in '123456789' for c in text.split('e')[0]):
        return '\u00b1' + text
    return ('+' if delta > 0 else MINUS) + text


def label(key):
    """A column / axis label: 'bbox AP (x100)', 'bbox AP (x100) at 0-32', 'mIoU', or the key itself."""
    border = border_parts(key)
    if border:
        return f'{label(border[0] if not coco_kind(key) else "coco/" + border[0])} at {border[1]}'
    if key.startswith('coco/'):
        kind, _, suffix = key[5:].partition('_')
        name = dict(COCO_SUFFIXES).get(suffix, suffix)
        return f'{kind} {name} (x100)'
    return key


def cell(stat):
    """'mean \u00b1 std', with '(n=k/N)' only when fewer than all N seeds gave a value; else the state."""
    if stat.state != 'ok':
        return stat.state
    text = fmt(stat.key, stat.mean)
    if stat.std is not None:
        text += f' \u00b1 {fmt(stat.key, stat.std)}'
    if len(stat.values) < stat.n_runs:
        text += f' (n={len(stat.values)}/{stat.n_runs})'
    return text


def delta_cell(res, variant, key):
    if res.baseline[variant] == variant:
        return 'baseline'
    d = res.delta(variant, key)
    if d is not None:
        return signed(key, d)
    stat, base = res.stat(variant, key), res.stat(res.baseline[variant], key)
    if stat.state.startswith('n/a'):
        return 'n/a'
    return f'\u2014 (baseline {base.state})' if base.state != 'ok' else '\u2014'


def with_delta(res, variant, key):
    """'mean \u00b1 std (\u0394)': a cell of the detail tables."""
    text = cell(res.stat(variant, key))
    d = res.delta(variant, key)
    return text + (f' ({signed(key, d)})' if d is not None else '')


def wall(seconds):
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return ''
    if seconds < 60:
        return f'{seconds:.1f} s'
    h, rest = divmod(int(round(seconds)), 3600)
    return f'{h}h {rest // 60:02d}m {rest % 60:02d}s' if h else f'{rest // 60}m {rest % 60:02d}s'


def meta_text(value):
    if isinstance(value, dict):
        return ', '.join(f'{k} {v}' for k, v in value.items())
    return str(value)


def patch_text(report):
    """What a run's model really was, from its patch_report.json: 'none (scope all, resample input): 40
    converted, 1 skipped; input canvas replicate; coordconv on a'. '' without a report."""
    if not isinstance(report, dict):
        return ''
    pad = report.get('padding') if isinstance(report.get('padding'), dict) else {}
    try:
        spec = PaddingSpec.parse(pad or None, 'patch_report.json padding')
        parts = [spec.describe() if pad else spec.mode]
    except ConfigError as e:
        spec, parts = PaddingSpec(), [f'unreadable ({e})']
    layers = [e for e in pad.get('layers') or [] if isinstance(e, dict)]
    changed = sum(e.get('action') not in ('unchanged', 'skipped') for e in layers)
    skipped = sum(e.get('action') == 'skipped' for e in layers)
    if spec.mode != 'zeros' and layers:
        parts[0] += f': {changed} converted' + (f', {skipped} skipped' if skipped else '')
    canvas = (report.get('input') or {}).get('canvas') if isinstance(report.get('input'), dict) else None
    parts.append(f'input canvas {canvas}' if canvas else 'input canvas not recorded')
    for key, what in (('coordconv', 'coordconv on'), ('solo_coords_removed', 'SOLO coordinates removed from')):
        names = [str(e.get('name')) for e in report.get(key) or [] if isinstance(e, dict)]
        if names:
            parts.append(f'{what} {", ".join(names)}')
    return '; '.join(parts)


def safe_name(name):
    return re.sub(r'[^A-Za-z0-9._-]+', '_', name).strip('._') or 'metric'
