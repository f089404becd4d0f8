"""The report's plots, as PNG bytes: what a table of means hides, the spread over seeds and the trend.

Per task, first: every difference to the baseline with its 95% interval (`findings`), one panel per
headline metric. Per headline metric and task: every seed as a dot with the mean and \u00b11 std per variant, and the
same relative to each variant's baseline. Per `border/<metric>`: the metric against the distance
bin, one line per variant, and the \u0394 vs. baseline per bin. matplotlib's Agg canvas is used
directly (no pyplot global state); every text from the inputs is protected from mathtext.
"""

import io
import math

from .family import headline_comparisons, judged_distinguishable
from .findings import short
from .format import label, safe_name, scale, task_title
from .tables import border_metrics

_RED = '#b00000'
_DELTA = '\u0394 '


def make_plots(res):
    """{('intervals', task), ('headline', task) or ('border', task, metric): [(file name, alt text, png bytes)]},
    in report order."""
    out, used = {}, set()

    def name(stem):
        stem = safe_name(stem)
        while stem in used:
            stem += '_'
        used.add(stem)
        return f'{stem}.png'

    for task in res.tasks:
        variants = res.variants_of(task)
        intervals = _interval_plot(res, task)
        if intervals is not None:
            out[('intervals', task)] = [
                (
                    name(f'intervals_{task or "task"}'),
                    f'{task_title(task)}: every difference to the baseline with its 95% interval',
                    intervals,
                )
            ]
        for key in res.headline_of[task]:
            file, what = name(key), key
            out.setdefault(('headline', task), []).append(
                (file, f'{what} per variant, one dot per seed', _spread_plot(res, variants, key))
            )
            delta = _delta_plot(res, variants, key)
            if delta is not None:
                out[('headline', task)].append(
                    (f'delta_{file}', f"{what}: difference to each variant's baseline", delta)
                )
        for metric, bins in border_metrics(res, task).items():
            shown = [v for v in variants if not res.missing_kind(v, f'border/{metric}@{bins[0]}')]
            file, what = name(f'border_{metric}'), f'border/{metric}'
            plots = [(file, f'{what} per distance bin, one line per variant', _border_plot(res, shown, metric, bins))]
            delta = _border_plot(res, shown, metric, bins, delta=True)
            if delta is not None:
                plots.append((f'delta_{file}', f'{what}: \u0394 vs. baseline per distance bin', delta))
            out[('border', task, metric)] = plots
    return out


def _mpl(text):
    return str(text).replace('$', r'\$')  # matplotlib would read $...$ as mathtext


def _offsets(n, width=0.3):
    return [0.0] if n < 2 else [-width / 2 + width * i / (n - 1) for i in range(n)]


def _new_axes(n, wide=False):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(6.4 if wide else 4.5, 1.0 * n + 2.0), 3.8), dpi=110)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _png(fig, ax, labels, title, ylabel, rotate=True):
    ax.set_xticks(
        range(len(labels)),
        [_mpl(x) for x in labels],
        rotation=30 if rotate else 0,
        ha='right' if rotate else 'center',
        fontsize=8,
    )
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylabel(_mpl(ylabel))
    ax.set_title(_mpl(title), fontsize=8)
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png', bbox_inches='tight')
    return buf.getvalue()


def _spread_plot(res, variants, key):
    fig, ax = _new_axes(len(variants))
    k = scale(key)
    for i, v in enumerate(variants):
        stat = res.stat(v, key)
        if stat.state != 'ok':
            ax.text(
                i,
                0.5,
                stat.state,
                transform=ax.get_xaxis_transform(),
                ha='center',
                color=_RED,
                fontsize=7,
                rotation=90 if len(stat.state) > 12 else 0,
                va='center',
            )
            continue
        ax.hlines(stat.mean * k, i - 0.3, i + 0.3, color='C0', linewidth=2.5, zorder=2)
        if stat.std is not None:
            ax.errorbar(i, stat.mean * k, yerr=stat.std * k, color='k', capsize=4, zorder=3)
        ax.scatter(
            [i + o for o in _offsets(len(stat.values))],
            [x * k for _, x in stat.values],
            s=20,
            color='C1',
            edgecolors='k',
            linewidths=0.5,
            zorder=4,
        )
    return _png(
        fig,
        ax,
        variants,
        f'{res.grid["name"]}: {label(key)} per variant\ndots: seeds, bar: mean, line: \u00b11 std',
        label(key),
    )


def _delta_plot(res, variants, key):
    pairs = [v for v in variants if res.baseline[v] != v]
    if not pairs:
        return None
    fig, ax = _new_axes(len(pairs))
    k = scale(key)
    for i, v in enumerate(pairs):
        stat, base = res.stat(v, key), res.stat(res.baseline[v], key)
        if stat.state != 'ok' or base.state != 'ok':
            why = stat.state if stat.state != 'ok' else f'baseline {base.state}'
            ax.text(
                i,
                0.5,
                why,
                transform=ax.get_xaxis_transform(),
                ha='center',
                color=_RED,
                fontsize=7,
                rotation=90 if len(why) > 12 else 0,
                va='center',
            )
            continue
        d = (stat.mean - base.mean) * k
        ax.bar(i, d, width=0.6, color='C2' if d >= 0 else 'C3', alpha=0.5, zorder=2)
        if stat.std is not None:
            ax.errorbar(i, d, yerr=stat.std * k, color='k', capsize=4, zorder=3)
        ax.scatter(
            [i + o for o in _offsets(len(stat.values))],
            [(x - base.mean) * k for _, x in stat.values],
            s=20,
            color='C1',
            edgecolors='k',
            linewidths=0.5,
            zorder=4,
        )
    ax.axhline(0, color='k', linewidth=0.8)
    labels = [f'{v}\nvs. {res.baseline[v]}' for v in pairs]
    return _png(
        fig,
        ax,
        labels,
        f'{res.grid["name"]}: \u0394 {label(key)} vs. baseline\n'
        'bar: \u0394 of means, dots: seeds \u2212 baseline mean, line: \u00b11 std',
        f'\u0394 {label(key)}',
    )


def _border_plot(res, variants, metric, bins, delta=False):
    """Metric (or \u0394 vs. baseline) against the border-distance bin: one line per variant, \u00b11 std."""
    keys = [f'border/{metric}@{b}' for b in bins]
    lines = [v for v in variants if not delta or res.baseline[v] != v]
    if not lines:
        return None
    fig, ax = _new_axes(len(bins), wide=True)
    k = scale(keys[0])
    for i, (v, off) in enumerate(zip(lines, _offsets(len(lines), 0.2))):
        stats = [res.stat(v, key) for key in keys]
        base = [res.stat(res.baseline[v], key).mean if delta else 0.0 for key in keys]
        ys = [(s.mean - b) * k if s.state == 'ok' and b is not None else math.nan for s, b in zip(stats, base)]
        errs = [s.std * k if s.std is not None else 0.0 for s in stats]
        name = f'{v} vs. {res.baseline[v]}' if delta else v
        ax.errorbar(
            [x + off for x in range(len(bins))],
            ys,
            yerr=errs,
            marker='o',
            markersize=4,
            capsize=3,
            color=f'C{i % 10}',
            label=_mpl(name),
            zorder=3,
        )
    if delta:
        ax.axhline(0, color='k', linewidth=0.8)
    ax.set_xlabel('distance to the image border (bin)')
    ax.legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.01, 1.0), frameon=False)
    what = label(keys[0]).rsplit(' at ', 1)[0]
    title = f'{res.grid["name"]}: {_DELTA if delta else ""}{what} by distance to the image border\n' + (
        'line: \u0394 of means per bin, bar: \u00b11 std of the variant'
        if delta
        else 'line: mean over seeds, bar: \u00b11 std'
    )
    return _png(fig, ax, bins, title, f'\u0394 {what}' if delta else what, rotate=False)


def _interval_plot(res, task):
    """Δ and its 95% interval for every variant (rows) and headline metric (panels); None if nothing to show."""
    found = [(v, k) for t, v, k in headline_comparisons(res) if t == task]
    keys = list(dict.fromkeys(k for _, k in found))
    rows = list(dict.fromkeys(v for v, _ in found))
    if not found:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2.0 + 3.0 * len(keys), 1.0 + 0.45 * len(rows)), dpi=110)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(keys), sharey=True, squeeze=False)[0]
    for ax, key in zip(axes, keys):
        k = scale(key)
        for y, v in enumerate(rows):
            iv = res.interval(v, key) if (v, key) in found else None
            if iv is None:
                ax.text(0, y, 'not compared', va='center', ha='center', fontsize=7, color=_RED)
                continue
            judged = judged_distinguishable(res, v, key)
            color = '0.45' if not judged else 'C2' if iv.delta > 0 else 'C3'
            if iv.lo is not None and iv.has_verdict:
                ax.errorbar(
                    iv.delta * k,
                    y,
                    xerr=[[(iv.delta - iv.lo) * k], [(iv.hi - iv.delta) * k]],
                    fmt='o',
                    color=color,
                    capsize=4,
                    markersize=5,
                )
            elif iv.lo is not None:  # one seed: the test-set interval, dashed, no verdict
                bar = ax.errorbar(
                    iv.delta * k,
                    y,
                    xerr=[[(iv.delta - iv.lo) * k], [(iv.hi - iv.delta) * k]],
                    fmt='o',
                    mfc='none',
                    color=color,
                    capsize=4,
                    markersize=5,
                )
                bar[-1][0].set_linestyle('--')
            else:
                ax.plot(iv.delta * k, y, 'o', mfc='none', color=color, markersize=5)
        ax.axvline(0, color='k', linewidth=0.8)
        ax.set_title(_mpl(f'\u0394 {short(key)}'), fontsize=8)
        ax.grid(axis='x', alpha=0.3)
        ax.tick_params(labelsize=7)
    axes[0].set_yticks(range(len(rows)), [_mpl(f'{v} vs. {res.baseline[v]}') for v in rows], fontsize=7)
    axes[0].set_ylim(len(rows) - 0.5, -0.5)
    fig.suptitle(
        _mpl(
            f'{res.grid["name"]}: \u0394 vs. baseline, unadjusted 95% interval (seeds and test images); '
            f'colour: distinguishable after Holm (family of {res.family.size}), grey: not; '
            'hollow, dashed: one seed, test-set noise only, no verdict'
        ),
        fontsize=8,
    )
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png', bbox_inches='tight')
    return buf.getvalue()
