"""The report as a document: what a researcher reads first (scale, headline, runs), then the detail.

Order: title and description; the findings (one sentence per difference with its 95% interval, their
plot and table: `findings`); how the numbers were made; "Scale and setup" (so that a toy-scale
result is never read as a paper-scale one); the headline and every run; the metric tables
(`tables`); plots; published numbers, labelled "not ours"; every failed, missing and
unreadable run; the variants as grid.json defines them. The result is a list of plain blocks that
`write` renders as Markdown and HTML.
"""

import json
from collections import Counter

from ..patch.spec import PaddingSpec
from .findings import findings_blocks
from .format import SEG_MAIN, cell, delta_cell, fmt, is_ap, label, meta_text, patch_text, task_title, wall
from .init_table import init_blocks
from .plan import resolve_blocks
from .published import reference_blocks
from .stats import number, seeds_text
from .tables import detail_blocks, failed_probes, task_sections

META_FIELDS = (
    ('commit', 'commit'),
    ('versions', 'versions'),
    ('hardware', 'hardware'),
    ('gpus', 'world size (processes)'),
    ('iterations', 'iterations'),
    ('train_images', 'train images'),
    ('val_images', 'val images'),
    ('batch_size', 'batch size'),
    ('image_size', 'image size'),
)


def document(res, work_dir, plots, refs, notes):
    grid = res.grid
    blocks = [('h', 1, f'{grid["name"]}: ablation report')]
    if grid.get('description'):
        blocks.append(('p', str(grid['description'])))
    blocks += findings_blocks(res, {k[1]: v for k, v in plots.items() if k[0] == 'intervals'})
    blocks += resolve_blocks(res)
    blocks.append(
        (
            'note',
            f'Every number below is read from the results.json files under {work_dir}, '
            'except those labelled "published (not ours)". COCO AP is shown x100 with one '
            'decimal (mmdet reports it in [0, 1]); mmseg values are percent. std is the sample '
            'standard deviation (n\u22121) over the seeds that gave a value; '
            '\u0394 = mean(variant) \u2212 mean(its baseline).',
        )
    )
    blocks += _setup_blocks(res)
    blocks += init_blocks(res)  # per variant: imagenet / matched (with its pretraining top-1) / scratch
    blocks += _log_blocks(res, work_dir)
    blocks += [('h', 2, 'Headline')]
    if not res.headline:
        blocks.append(('note', 'No headline metric: grid.json names none and no run has metrics yet.'))
    blocks += task_sections(res, lambda t, vs: [_headline_table(res, t, vs)])
    blocks += [('h', 2, 'Runs'), *task_sections(res, lambda t, vs: [_runs_table(res, t, vs)])]
    blocks += detail_blocks(res, {k[1:]: v for k, v in plots.items() if k[0] == 'border'})
    headline_plots = {k[1]: v for k, v in plots.items() if k[0] == 'headline'}
    if headline_plots:
        blocks.append(('h', 2, 'Plots'))
        blocks += task_sections(res, lambda t, vs: [('img', *p) for p in headline_plots.get(t, ())])
        if not any(name.startswith('delta_') for ps in headline_plots.values() for name, _, _ in ps):
            blocks.append(('note', 'No \u0394 plot: no variant has a baseline other than itself with results.'))
    if refs:
        blocks += reference_blocks(res, refs)
    blocks += _problem_blocks(res, notes)
    blocks += _variant_blocks(res)
    return blocks


def _setup_blocks(res):
    runs = [r for r in res.runs if r.meta]
    items, differ, across = [], [], []
    for key, name in META_FIELDS:
        groups = {}
        for r in runs:
            if r.meta.get(key) not in (None, '', {}):
                groups.setdefault(meta_text(r.meta[key]), []).append(r)
        by_task = len(res.tasks) > 1 and all(
            len({text for text, rs in groups.items() if any(res.task_of[r.variant] == t for r in rs)}) <= 1
            for t in res.tasks
        )
        if len(groups) > 1 and by_task:
            across.append(name)
            items.append(
                f'{name}: '
                + '; '.join(
                    f'{text} ({", ".join(dict.fromkeys(task_title(res.task_of[r.variant]) for r in rs))} runs)'
                    for text, rs in groups.items()
                )
            )
        elif len(groups) > 1:
            differ.append(name)
            items.append(
                f'{name}: differs between runs: '
                + '; '.join(f'{text} ({", ".join(r.name for r in rs)})' for text, rs in groups.items())
            )
        elif groups:
            ((text, rs),) = groups.items()
            gap = len(runs) - len(rs)
            items.append(f'{name}: {text}' + (f' (not recorded in {gap} run(s))' if gap else ''))
        else:
            items.append(f'{name}: not recorded')
    walls = [w for w in (number(r.meta.get('wall_s')) for r in runs) if w is not None]
    if walls:
        items.append(
            f'wall time per run: {wall(min(walls))} to {wall(max(walls))} '
            f'(total {wall(sum(walls))} over {len(walls)} runs; each run in the Runs table)'
        )
    items.append(
        'task: '
        + (
            '; '.join(f'{task_title(t)} ({", ".join(res.variants_of(t))})' for t in res.tasks)
            if len(res.tasks) > 1
            else ', '.join(res.recorded_tasks) or 'not recorded'
        )
    )
    count = Counter(r.state for r in res.runs)
    items.append(
        f'runs: {count["done"]} done, {count["failed"]} failed, {count["missing"]} missing, '
        f'{count["unreadable"]} unreadable, of {len(res.runs)} expected '
        f'({len(res.variants)} variants x {len(res.grid["seeds"])} seeds)'
    )
    blocks = [('h', 2, 'Scale and setup')]
    if len(res.tasks) > 1:
        also = f' The tasks also differ in: {", ".join(across)}.' if across else ''
        blocks.append(
            (
                'note',
                f'This grid mixes tasks ({", ".join(map(task_title, res.tasks))}): each table lists '
                f'the variants of one task, and each variant is compared with its own baseline.{also}',
            )
        )
    crossed = [f'{v} (vs. {b})' for v, b in res.baseline.items() if res.task_of[v] != res.task_of[b]]
    if crossed:
        differ.append(f'task of the baseline: {", ".join(crossed)}')
    if differ:
        blocks.append(('note', f'Runs differ in: {"; ".join(differ)}. Compare them with care.'))
    return blocks + [('list', items)]


def _log_blocks(res, work_dir):
    """Where the training logs are: TensorBoard (every grid run, harness/engine/tracking.py), W&B / MLflow if the
    grid adds them, and each run's own log."""
    import os.path as osp

    items = [
        f'each run: {osp.join(work_dir, "<run>", "run.log")} (commands, training and evaluation output), '
        f"mmengine's scalars in {osp.join(work_dir, '<run>', '<timestamp>', 'vis_data')}"
    ]
    board = osp.join(work_dir, 'tensorboard')
    if osp.isdir(board):
        items.insert(
            0,
            f'TensorBoard: tensorboard --logdir {board} (one curve per run; the same tags in every run, '
            'so the variants overlay)',
        )
    for extra in res.grid.get('vis_backends') or []:
        name = extra if isinstance(extra, str) else extra.get('type', '')
        if 'wandb' in name.lower():
            items.append(f'Weights & Biases: project {res.grid["name"]}, one run per grid run, grouped by variant')
        elif 'mlflow' in name.lower():
            items.append(f'MLflow: experiment {res.grid["name"]}, one run per grid run')
    return [('h', 2, 'Logs'), ('list', items)]


def _caption(res, keys, what):
    """`what`, then the units of `keys`, then what "n/a (model has no ...)" means if a cell says it."""
    units = [
        'COCO AP x100, one decimal'
        if is_ap(k)
        else 'mmseg metrics in percent'
        if k in SEG_MAIN
        else 'other keys in their own units'
        for k in keys
    ]
    text = f'{what} {"; ".join(dict.fromkeys(units))}.' if units else what
    nouns = sorted({res.missing_noun(v, k) for v in res.variants for k in keys} - {''})
    if nouns:
        text += (
            f' n/a (model has no {" / ".join(nouns)}): the model does not predict them (e.g. SOLO predicts '
            'masks only), so mmdet reports no such AP.'
        )
    return text


def _headline_table(res, task, variants):
    keys = res.headline_of[task]
    header = ['Variant', 'vs.', 'runs with results']
    for key in keys:
        header += [label(key), f'\u0394 {label(key)}']
    rows = []
    for v in variants:
        runs = res.of(v)
        row = [v, res.baseline[v], f'{sum(r.state == "done" for r in runs)}/{len(runs)}']
        flags = []
        for key in keys:
            stat = res.stat(v, key)
            row += [cell(stat), delta_cell(res, v, key)]
            flags += [f for f in stat.flags if f not in flags]
        for state in ('failed', 'missing', 'unreadable', 'unknown'):
            seeds = [r.seed for r in runs if r.state == state]
            if seeds:
                flags.append(f'{state}: seed {seeds_text(seeds)}')
        rows.append(row + ['; '.join(flags)])
    caption = _caption(
        res,
        keys,
        'Headline metrics: mean \u00b1 std over seeds, with n when fewer than all seeds '
        'gave a value; \u0394 vs. the variant in "vs.", same units.',
    )
    return ('table', caption, header + ['notes'], rows)


def _runs_table(res, task, variants):
    keys = res.headline_of[task]
    rows = []
    for r in (r for v in variants for r in res.of(v)):
        cells = []
        for key in keys:
            value = res.value(r, key)
            text = '' if value is None else ('n/a' if is_ap(key) and value == -1 else fmt(key, value))
            if text and r.no_detections and key in res.zero_keys[r.variant]:
                text += ' (no detections)'
            if not text and r.state == 'done' and res.missing_noun(r.variant, key):
                text = f'n/a (no {res.missing_noun(r.variant, key)})'
            cells.append(text)
        note = r.error or ('no detections (empty metrics)' if r.no_detections else '')
        patch = patch_text(r.patch) or ('' if r.state == 'missing' else 'no patch_report.json')
        rows.append([r.name, r.state, *cells, patch, wall(r.meta.get('wall_s')), _loop_share(r), note])
    return (
        'table',
        _caption(
            res,
            keys,
            'Every expected run, with the headline metrics of its task, and its '
            'effective padding as its patch_report.json records it (mode, converted '
            'layers, input canvas, CoordConv, SOLO coordinates). Training loop: the '
            "share of the run's wall time spent in training iterations (data loading "
            'and compute; the phases are under timing in its results.json).',
        ),
        ['Run', 'Status', *map(label, keys), 'Padding (patch_report.json)', 'Wall time', 'Training loop', 'Note'],
        rows,
    )


def _loop_share(run):
    share = number(run.timing.get('train_loop_share'))
    return '' if share is None else f'{share * 100:.0f}%'


def _problem_blocks(res, notes):
    blocks = [('h', 2, 'Failed, missing and unreadable runs')]
    failed = [[r.name, r.error, r.iteration or 'not recorded'] for r in res.runs if r.state == 'failed']
    missing = [[r.name, r.error] for r in res.runs if r.state == 'missing']
    unreadable = [[r.name, r.error] for r in res.runs if r.state == 'unreadable']
    if failed:
        blocks.append(
            ('table', 'Failed runs (status "failed" in results.json).', ['Run', 'Reason', 'Iteration'], failed)
        )
    if missing:
        blocks.append(('table', 'Missing runs: no results.json.', ['Run', 'Why'], missing))
    if unreadable:
        blocks.append(('table', 'Unreadable runs: results.json is not valid.', ['Run', 'File and error'], unreadable))
    probes = failed_probes(res)
    if probes:
        blocks.append(
            (
                'table',
                'Runs whose position probe failed: the run itself finished and its other metrics '
                'stand; it has no probe/* values.',
                ['Run', 'Probe error'],
                probes,
            )
        )
    notes = [f'{r.name}: {r.error}' for r in res.runs if r.state == 'done' and r.error] + notes
    if notes:
        blocks.append(('list', notes))
    if not (failed or missing or unreadable or probes or notes):
        blocks.append(('p', f'None: all {len(res.runs)} expected runs finished and were read.'))
    return blocks


def _variant_blocks(res):
    rows = []
    for v in res.grid['variants']:
        pad, cc = v.get('padding'), v.get('coordconv')
        if isinstance(pad, dict):  # as the grid asks for it: a rule only when it names one
            pad = PaddingSpec.parse(pad, f'grid.json variant {v["name"]}: padding').describe(rule=False)
        if isinstance(cc, dict):
            cc = ', '.join(map(str, cc.get('sites') or [])) + (' (with r)' if cc.get('with_r') else '')
        opts = v.get('cfg_options')
        rows.append(
            [
                v['name'],
                v['baseline'],
                task_title(res.task_of[v['name']]),
                str(v.get('base', '')),
                str(pad or 'unchanged'),
                str(cc or 'none'),
                str(v.get('solo_coords', '')),
                json.dumps(opts, sort_keys=True) if opts else '',
                str(v.get('description') or ''),
            ]
        )
    return [
        ('h', 2, 'Variants'),
        (
            'table',
            'The variants as grid.json defines them; the task is the one their runs record.',
            [
                'Variant',
                'vs.',
                'Task',
                'Base config',
                'Padding',
                'CoordConv',
                'SOLO coords',
                'cfg_options',
                'Description',
            ],
            rows,
        ),
    ]
