"""Published numbers beside ours, each compared the way it was measured, with the settings that differ.

A published delta is (model with a feature) − (model without it), e.g. SOLO's +3.6 mask AP from
CoordConv. A grid may hold the pair the other way round (the variant "solo-nocoord" against the
baseline "solo"), so our difference is turned to the reference's direction (`references.orientation`)
before the two are put side by side: ours = solo − solo-nocoord, with its 95% interval. Every row says
where our setting differs from the published one: schedule (training epochs), multi-scale training.
"""

from .family import verdict
from .findings import interval_text
from .finished_runs import train_multi_scale
from .format import cell, fmt, label, signed
from .references import FEATURES, orientation
from .stats import number


def reference_blocks(res, refs):
    rows = []
    for variant, ref in refs:
        what = ', '.join(x for x in (ref.model, ref.backbone, ref.schedule, ref.dataset) if x) or '(grid.json)'
        if variant not in res.baseline:
            ours = 'not in grid'
        elif ref.kind == 'delta':
            ours = _ours_delta(res, variant, ref)
        else:
            ours = cell(res.stat(variant, ref.metric))
        if ref.kind == 'delta':
            feature = FEATURES.get(ref.feature, (ref.feature or 'the feature',))[0]
            published = f'{signed(ref.metric, ref.value, scaled=True)} (with \u2212 without {feature})'
        else:
            published = fmt(ref.metric, ref.value, scaled=True)
        rows.append([variant, what, label(ref.metric), published, ours, _settings(res, variant, ref), ref.source])
    caption = (
        'Published (not ours): numbers as their sources print them (percent), a difference as (with \u2212 '
        'without) the feature. "Ours" is this grid: mean \u00b1 std, or our difference turned the same way '
        '(which run minus which is written out) with its 95% interval. "Setting" says where ours differs '
        '(schedule in training epochs, multi-scale training); our runs are usually far smaller than the '
        'published ones (see "Scale and setup").'
    )
    return [
        ('h', 2, 'Published numbers (not ours)'),
        (
            'table',
            caption,
            ['Variant', 'Published model', 'Metric', 'Published (not ours)', 'Ours', 'Setting', 'Source'],
            rows,
        ),
    ]


def _ours_delta(res, variant, ref):
    base = res.baseline[variant]
    sign = orientation(ref, res.grid['variants'], variant, base)
    if sign is None:
        return (
            f'not comparable: {variant} and {base} do not differ in '
            f'{FEATURES.get(ref.feature, (ref.feature or "the published feature",))[0]}'
        )
    iv = res.interval(variant, ref.metric)
    with_, without = (variant, base) if sign > 0 else (base, variant)
    if iv is None:
        return f'{with_} \u2212 {without}: \u2014 ({res.stat(variant, ref.metric).state})'
    text = f'{with_} \u2212 {without}: {signed(ref.metric, sign * iv.delta)}'
    if iv.lo is not None:
        lo, hi = sorted((sign * iv.lo, sign * iv.hi))
        text += ' ' + interval_text(ref.metric, type(iv)(iv.delta, lo, hi, iv.seeds, iv.method))
    return text + f', {len(iv.seeds)} seed{"s" if len(iv.seeds) != 1 else ""}, {verdict(res, variant, ref.metric)}'


def _settings(res, variant, ref):
    """'published 36 epochs, multi-scale; ours 3.8 epochs, single-scale: differs in schedule, multi-scale'."""
    runs = [r for r in res.of(variant) if r.state == 'done'] if variant in res.baseline else []
    epochs = next((e for e in map(_epochs, runs) if e is not None), None)
    multi = next((m for m in map(train_multi_scale, runs) if m is not None), None)
    pub = [
        f'{ref.epochs:g} epochs' if ref.epochs else ref.schedule or 'schedule not given',
        {True: 'multi-scale', False: 'single-scale', None: 'training scale not given'}[ref.multi_scale],
    ]
    ours = [
        f'{epochs:.2g} epochs' if epochs is not None else 'epochs not recorded',
        {True: 'multi-scale', False: 'single-scale', None: 'training scale not recorded'}[multi],
    ]
    differs = []
    if ref.epochs and epochs is not None and abs(epochs - ref.epochs) > 0.05 * ref.epochs:
        differs.append('schedule')
    if ref.multi_scale is not None and multi is not None and ref.multi_scale != multi:
        differs.append('multi-scale training')
    text = f'published {", ".join(pub)}; ours {", ".join(ours)}'
    return text + (f': differs in {" and ".join(differs)}' if differs else '')


def _epochs(run):
    """Training epochs of a run from its results.json meta: iterations x batch x processes / train images."""
    m = run.meta
    its, batch, images = number(m.get('iterations')), number(m.get('batch_size')), number(m.get('train_images'))
    gpus = number(m.get('gpus')) or 1.0
    return its * batch * gpus / images if its and batch and images else None
