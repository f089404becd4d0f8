"""The metric tables of the report, beyond the headline: COCO AP by size, segmentation, per class,
by distance to the image border, the position read-out probe, and every other numeric key.

Each table lists the variants of one task (a grid may mix COCO and Cityscapes variants); a section
gets one sub-heading per task only when more than one task has something to show in it. Cells are
'mean \u00b1 std (\u0394 vs. baseline)'. Blocks are plain data (see `write`), so the Markdown
and the HTML say the same.
"""

import os

from ..data.cityscapes_labels import CITYSCAPES_CLASSES
from .format import (
    COCO_SUFFIXES,
    NOUNS,
    SEG_MAIN,
    SEG_PER_CLASS,
    border_parts,
    coco_kind,
    is_ap,
    label,
    probe_parts,
    task_title,
    with_delta,
)

_DELTA = 'Cells: mean \u00b1 std (\u0394 vs. baseline).'


def task_sections(res, make):
    """Blocks of `make(task, variants)` for each task, under a task sub-heading when several have any."""
    parts = [(t, make(t, res.variants_of(t))) for t in res.tasks]
    parts = [(t, blocks) for t, blocks in parts if blocks]
    if len(parts) == 1:
        return parts[0][1]
    return [b for t, blocks in parts for b in [('h', 3, f'{task_title(t)} variants'), *blocks]]


def variant_table(res, variants, keys, caption, names=None):
    """Rows = variants, columns = `keys`: 'mean \u00b1 std (\u0394)'."""
    header = ['Variant'] + [names[k] if names else label(k) for k in keys]
    return ('table', caption, header, [[v] + [with_delta(res, v, k) for k in keys] for v in variants])


def detail_blocks(res, plots):
    """Every table after the headline; `plots` are the border plots, placed under their table."""
    blocks, shown = [], set(res.headline)
    for kind, title in (('bbox', 'Box AP'), ('segm', 'Mask AP')):
        keys = [f'coco/{kind}_{s}' for s, _ in COCO_SUFFIXES]
        names = dict(zip(keys, (n for _, n in COCO_SUFFIXES)))
        part = task_sections(
            res, lambda t, vs, keys=keys, kind=kind, names=names: _coco_table(res, t, vs, keys, kind, names)
        )
        if part:
            blocks += [('h', 2, f'COCO {title}'), *part]
            shown.update(keys)
    part = task_sections(res, lambda t, vs: _seg_table(res, t, vs))
    if part:
        blocks += [('h', 2, 'Segmentation'), *part]
        shown.update(SEG_MAIN)
    for prefix, title in SEG_PER_CLASS:
        part = task_sections(res, lambda t, vs, prefix=prefix, title=title: _class_table(res, t, vs, prefix, title))
        if part:
            blocks += [('h', 2, title[0].upper() + title[1:]), *part]
            shown.update(k for k in res.keys if k.startswith(prefix))
    part = task_sections(res, lambda t, vs: _border_tables(res, t, vs, plots))
    if part:
        blocks += [('h', 2, 'By distance to the image border'), *part]
    part = task_sections(res, lambda t, vs: _probe_table(res, t, vs))
    if part:
        blocks += [('h', 2, 'Position read-out probe'), *part]
    shown.update(k for k in res.keys if border_parts(k) or probe_parts(k))
    part = task_sections(res, lambda t, vs: _other_table(res, t, vs, shown))
    if part:
        blocks += [('h', 2, 'Other metrics'), *part]
    return blocks


def _present(res, task, keys):
    return [k for k in keys if k in res.keys_of[task]]


def _coco_table(res, task, variants, keys, kind, names):
    if not _present(res, task, keys):
        return []
    without = [v for v in variants if res.missing_kind(v, keys[0])]
    caption = (
        f'COCO {kind} AP, x100 as papers print it (mmdet reports [0, 1]), one decimal. {_DELTA} '
        'n/a = no objects of that size (AP = \u22121).'
    )
    blocks = [variant_table(res, [v for v in variants if v not in without], keys, caption, names=names)]
    if without:
        blocks.append(('note', f'Not listed (model has no {NOUNS[kind]}): {", ".join(without)}.'))
    return blocks


def _seg_table(res, task, variants):
    keys = _present(res, task, SEG_MAIN)
    return [variant_table(res, variants, keys, f'mmseg metrics in percent. {_DELTA}')] if keys else []


def _class_table(res, task, variants, prefix, title):
    keys = [k for k in res.keys_of[task] if k.startswith(prefix)]
    if not keys:
        return []
    if task == 'cityscapes':  # mmseg's class order; only the classes some run reports
        order = {c: i for i, c in enumerate(CITYSCAPES_CLASSES)}
        keys.sort(key=lambda k: order.get(k[len(prefix) :], len(order)))
    rows = [[k[len(prefix) :]] + [with_delta(res, v, k) for v in variants] for k in keys]
    caption = f'{title[0].upper()}{title[1:]} in percent, one row per class that at least one run reports. {_DELTA}'
    return [('table', caption, ['Class', *variants], rows)]


def border_metrics(res, task):
    """{metric: [bin, ...]} of the task's `border/<metric>@<bin>` keys, both in order of appearance."""
    out = {}
    for key in res.keys_of[task]:
        parts = border_parts(key)
        if parts:
            out.setdefault(parts[0], []).append(parts[1])
    return out


def _border_tables(res, task, variants, plots):
    blocks = []
    for metric, bins in border_metrics(res, task).items():
        keys = [f'border/{metric}@{b}' for b in bins]
        what = label(f'coco/{metric}') if coco_kind(keys[0]) else metric
        shown = [v for v in variants if not res.missing_kind(v, keys[0])]
        caption = (
            f'{what} per bin of distance to the image border; columns are the bins as the evaluation '
            f'names them, in its order. {_DELTA}'
        )
        blocks.append(variant_table(res, shown, keys, caption, names=dict(zip(keys, bins))))
        blocks += [('img', name, alt, data) for name, alt, data in plots.get((task, metric), ())]
    return blocks


def _probe_table(res, task, variants):
    found = [(k, probe_parts(k)) for k in res.keys_of[task] if probe_parts(k)]
    if not found:
        return []
    targets = list(dict.fromkeys(t for _, (t, _) in found))
    stats = sorted(dict.fromkeys(s for _, (_, s) in found), key=lambda s: (s not in ('spc', 'mae'), s != 'spc'))
    present = {k for k, _ in found}
    rows = []
    for target in targets:
        for v in variants:
            keys = [f'probe/{target}_{s}' if s != 'value' else f'probe/{target}' for s in stats]
            rows.append([target, v] + [with_delta(res, v, k) if k in present else '' for k in keys])
    caption = (
        'How well position can be read out of the features: probe/<target>_<statistic> in results.json, '
        f'targets and statistics as the probe names them, in its units, three decimals. {_DELTA}'
    )
    blocks = [('table', caption, ['Target', 'Variant', *(s.upper() for s in stats)], rows)]
    settings = sorted(
        {_probe_settings(r.probe) for v in variants for r in res.of(v) if r.probe.get('status') == 'done'}
    )
    if settings:
        blocks.append(('note', 'Probed on ' + '; '.join(settings) + ' (results.json "probe").'))
    failed = failed_probes(res, variants)
    if failed:
        blocks.append(
            ('note', 'Probe failed, so no probe values: ' + '; '.join(f'{n} ({why})' for n, why in failed) + '.')
        )
    return blocks


def failed_probes(res, variants=None):
    """[[run, reason]] of the runs (of `variants`, or all) whose results.json records a failed probe."""
    return [
        [r.name, str(r.probe.get('error') or 'no reason recorded')]
        for r in res.runs
        if r.probe.get('status') == 'failed' and (variants is None or r.variant in variants)
    ]


def _probe_settings(probe):
    """'128x128 (the training size), images val, seeds 0, 1' from a results.json probe record."""
    size = probe.get('input_size') or probe.get('size')
    size = 'x'.join(map(str, size)) if isinstance(size, list) else 'the training size'
    if probe.get('size') is None and probe.get('input_size'):
        size += ' (the training size)'
    images = ', '.join(os.path.basename(str(i).rstrip('/')) or str(i) for i in probe.get('images') or [])
    seeds = ', '.join(map(str, probe.get('seeds') or []))
    return f'{size}, images {images or "not recorded"}, seeds {seeds or "not recorded"}'


def _other_table(res, task, variants, shown):
    other = [k for k in res.keys_of[task] if k not in shown]
    if not other:
        return []
    rows = [[k] + [with_delta(res, v, k) for v in variants] for k in other]
    units = (
        'COCO AP keys (e.g. AP per class) x100, others in their own units'
        if any(map(is_ap, other))
        else 'in their own units'
    )
    return [('table', f'Other numeric keys in results.json, {units}. {_DELTA}', ['Metric', *variants], rows)]
