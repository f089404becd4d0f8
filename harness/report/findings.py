"""The top of the report: what the grid found, one sentence per comparison, then the plot of every
difference with its 95% interval, then the table behind both and how the intervals were made.

A sentence reads "mask-rcnn-none vs. mask-rcnn: −1.2 mask AP [−2.0, −0.4], 3 seeds, distinguishable
from zero": Δ is the mean over the seeds both runs have of (variant − baseline), the interval is
`intervals.paired_interval`'s (seeds and test images), and "distinguishable" means it excludes zero.
"""
from .format import label, signed

SHORT = {'coco/bbox_mAP': 'box AP', 'coco/segm_mAP': 'mask AP', 'coco/bbox_mAP_50': 'box AP50',
         'coco/segm_mAP_50': 'mask AP50', 'coco/bbox_mAP_75': 'box AP75', 'coco/segm_mAP_75': 'mask AP75'}
METHOD = ('\u0394 is the mean over the seeds both runs have of (variant \u2212 baseline), in the units of the '
          'tables (AP x100, mmseg in percent). Its 95% interval combines two noises: seeds (the variance of the '
          'per-seed differences over n, t with n\u22121 degrees of freedom) and test images (a paired bootstrap: '
          'B = 1000 resamples of the evaluation images with replacement, fixed RNG seed, every run of both sides '
          'scored on the same resample, AP / mIoU recomputed from the per-image evaluation without re-matching), '
          'added as variances, \u0394 \u00b1 t(\u03bd)\u00b7SE with Welch\u2013Satterthwaite degrees of freedom. '
          'One seed: '
          'images only (seed noise not measured). No per-image data (runs evaluated with a plain CocoMetric / '
          'IoUMetric): seeds only (paired t). "Distinguishable" = the interval excludes zero.')


def comparisons(res):
    """[(task, variant, key)] of every headline difference the report states, in report order."""
    return [(t, v, k) for t in res.tasks for v in res.variants_of(t) if res.baseline[v] != v
            for k in res.headline_of[t] if not res.missing_kind(v, k)]


def short(key):
    return SHORT.get(key, label(key))


def interval_text(key, iv):
    """'[−2.0, −0.4]' (signed, display units), or '' without an interval."""
    return '' if iv is None or iv.lo is None else f'[{signed(key, iv.lo)}, {signed(key, iv.hi)}]'


def verdict(iv):
    if iv is None or iv.distinguishable is None:
        return 'no interval'
    return 'distinguishable from zero' if iv.distinguishable else 'not distinguishable from zero'


def sentence(res, variant, key):
    base = res.baseline[variant]
    iv = res.interval(variant, key)
    head = f'{variant} vs. {base}: '
    if iv is None:
        a, b = res.stat(variant, key), res.stat(base, key)
        why = a.state if a.state != 'ok' else f'baseline {b.state}' if b.state != 'ok' else 'no seed in common'
        return head + f'{short(key)} not compared ({why})'
    n = len(iv.seeds)
    text = head + f'{signed(key, iv.delta)} {short(key)}'
    if iv.lo is not None:
        text += f' {interval_text(key, iv)}'
    text += f', {n} seed{"s" if n != 1 else ""}, {verdict(iv)}'
    if iv.lo is None:
        text += ' (one seed and no per-image data)'
    elif iv.se_images is None:
        text += ' (seed noise only: no per-image data)'
    elif iv.se_seeds is None:
        text += ' (image noise only: one seed)'
    unpaired = [n for n in iv.notes if n.startswith('paired over seeds')]
    return text + (f'; {unpaired[0]}' if unpaired else '')


def findings_blocks(res, plots):
    """Blocks of the Findings section; `plots`: {task: [(file, alt, png)]} of the interval plots."""
    found = comparisons(res)
    blocks = [('h', 2, 'Findings')]
    if not found:
        return blocks + [('note', 'No comparison: no variant has a baseline other than itself with a headline metric.')]
    blocks.append(('list', [sentence(res, v, k) for _, v, k in found]))
    for task in res.tasks:
        blocks += [('img', *p) for p in plots.get(task, ())]
    rows = []
    for _, v, k in found:
        iv = res.interval(v, k)
        rows.append([f'{v} vs. {res.baseline[v]}', short(k), signed(k, iv.delta) if iv else '\u2014',
                     interval_text(k, iv),
                     ', '.join(map(str, iv.seeds)) if iv else '', verdict(iv) if iv else '',
                     iv.method if iv else '', '; '.join(iv.notes) if iv else ''])
    blocks.append(('table', 'Every headline difference with its 95% interval (display units).',
                   ['Comparison', 'Metric', '\u0394', '95% interval', 'Seeds', 'Verdict', 'Interval from', 'Notes'],
                   rows))
    blocks.append(('note', METHOD))
    problems = getattr(getattr(res, 'comparisons', None), 'problems', [])
    if problems:
        blocks.append(('list', problems))
    return blocks
