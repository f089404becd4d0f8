"""The top of the report: what the grid found, one sentence per comparison, then the plot of every
difference with its 95% interval, then the table behind both and how the intervals were made.

A sentence reads "mask-rcnn-none vs. mask-rcnn: −1.2 mask AP [−2.0, −0.4], 3 seeds, distinguishable
from zero (Holm, family of 10: adjusted p = 0.012)": Δ is the mean over the seeds both runs have of
(variant − baseline), the interval is `intervals.paired_interval`'s (seeds and test images, unadjusted),
and the verdict is the family's (`family`). One seed gets Δ and its test-set interval, no verdict.
"""

from .family import headline_comparisons, verdict
from .format import label, scale, signed

SHORT = {
    'coco/bbox_mAP': 'box AP',
    'coco/segm_mAP': 'mask AP',
    'coco/bbox_mAP_50': 'box AP50',
    'coco/segm_mAP_50': 'mask AP50',
    'coco/bbox_mAP_75': 'box AP75',
    'coco/segm_mAP_75': 'mask AP75',
}
METHOD = (
    '\u0394 is the mean over the seeds both runs have of (variant \u2212 baseline), in the units of the '
    'tables (AP x100, mmseg in percent). Its 95% interval is \u0394 \u00b1 t(0.975, n\u22121)\u00b7SE with '
    'SE\u00b2 = SE_seeds\u00b2 + SE_images\u00b2: SE_seeds\u00b2 is the variance of the per-seed differences '
    'over n (it holds each seed\u2019s own luck, seed x image interaction included; floored at the rounding '
    'variance of the values), SE_images\u00b2 the part of the test set\u2019s luck that every seed shares: the '
    'mean covariance between different seeds of their differences on B = 1000 paired image resamples '
    '(images drawn with replacement, fixed RNG seed, every run scored on the same resample, AP / mIoU '
    'recomputed from the per-image evaluation). The t quantile keeps the n\u22121 degrees of freedom of '
    'the seeds, so the interval is never narrower than the seed-only t interval; its coverage was checked '
    'by simulation (reports/benchmarks.md). One seed: \u0394 \u00b1 z\u00b7SD of the bootstrap, test-set '
    'noise only, and no verdict. No per-image data (a plain CocoMetric / IoUMetric): seeds only (paired t). '
    'Each row of summary.csv rebuilds its interval from its columns se_seeds, se_images, df and level.'
)


def short(key):
    return SHORT.get(key, label(key))


def interval_text(key, iv):
    """'[−2.0, −0.4]' (signed, display units), or '' without an interval."""
    return '' if iv is None or iv.lo is None else f'[{signed(key, iv.lo)}, {signed(key, iv.hi)}]'


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
    text += f', {n} seed{"s" if n != 1 else ""}, {verdict(res, variant, key)}'
    if iv.lo is None:
        text += ' (one seed and no per-image data)'
    elif iv.has_verdict and iv.se_images is None:
        text += ' (seed noise only: no per-image data)'
    unpaired = [n for n in iv.notes if n.startswith('paired over seeds')]
    return text + (f'; {unpaired[0]}' if unpaired else '')


def _cell(value, fmt='{:.3g}'):
    return '' if value is None else fmt.format(value)


def findings_blocks(res, plots):
    """Blocks of the Findings section; `plots`: {task: [(file, alt, png)]} of the interval plots."""
    found = headline_comparisons(res)
    blocks = [('h', 2, 'Findings')]
    if not found:
        return blocks + [('note', 'No comparison: no variant has a baseline other than itself with a headline metric.')]
    blocks.append(('p', res.family.describe()))
    blocks.append(('list', [sentence(res, v, k) for _, v, k in found]))
    for task in res.tasks:
        blocks += [('img', *p) for p in plots.get(task, ())]
    rows = []
    for _, v, k in found:
        iv = res.interval(v, k)
        if iv is None:
            rows.append([f'{v} vs. {res.baseline[v]}', short(k), '\u2014', *[''] * 9])
            continue
        k_scale = scale(k)  # display units, as the interval
        rows.append(
            [
                f'{v} vs. {res.baseline[v]}',
                short(k),
                signed(k, iv.delta),
                interval_text(k, iv),
                ', '.join(map(str, iv.seeds)),
                _cell(None if iv.se_seeds is None else iv.se_seeds * k_scale),
                _cell(None if iv.se_images is None else iv.se_images * k_scale),
                _cell(iv.df, '{:g}'),
                _cell(iv.p),
                verdict(res, v, k),
                iv.method,
                '; '.join(iv.notes),
            ]
        )
    blocks.append(
        (
            'table',
            'Every headline difference with its unadjusted 95% interval and the family\u2019s '
            'verdict (display units; SE columns in the same units, df = degrees of freedom of the quantile, '
            'p = unadjusted two-sided p value).',
            [
                'Comparison',
                'Metric',
                '\u0394',
                '95% interval',
                'Seeds',
                'SE seeds',
                'SE images',
                'df',
                'p',
                'Verdict',
                'Interval from',
                'Notes',
            ],
            rows,
        )
    )
    blocks.append(('note', METHOD))
    problems = getattr(getattr(res, 'comparisons', None), 'problems', [])
    if problems:
        blocks.append(('list', problems))
    return blocks
