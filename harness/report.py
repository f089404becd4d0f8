"""The comparison report of one ablation grid: CSVs, plots, report.md and a self-contained report.html.

A grid of padding / CoordConv variants x seeds only says something as a comparison of each variant
with its own baseline, with the seed spread and every failure in sight. This module reads
`work_dirs/<grid>/grid.json` and each `<variant>_seed<k>/results.json` as plain JSON (no training
code is imported) and writes, to `reports/<grid name>/` by default:

- `results.csv`: one row per expected run (status, error, every metric, in results.json units);
- `summary.csv`: one row per variant x metric: n, mean, std, delta vs. the variant's baseline;
- `<metric>.png` / `delta_<metric>.png` per headline metric (each seed a dot, mean bar, std bar);
- `report.md` and `report.html`: the same document; the HTML embeds its CSS and plots and escapes
  every string that came from the inputs.

Rules: every number shown comes from the results files, except those labelled "published (not
ours)", which come from grid.json `references` and `harness.references`. COCO AP (mmdet: [0, 1]) is
shown x100 with one decimal, as papers print it; mmseg values are already percent. std is the sample
standard deviation (n - 1) over the seeds that produced a value; delta is mean(variant) -
mean(baseline). A run folder without results.json is *missing*, a results.json that does not parse
is *unreadable*, and in a COCO grid a done run with empty metrics predicted nothing (mmdet's
CocoMetric returns {}) and counts as AP 0, flagged "(no detections)"; in other grids empty metrics are
listed as a problem. mmdet's AP = -1 ("no objects of that size") is left out of means and shown as
n/a. Every file is written atomically.
"""
import base64
import csv
import html
import io
import json
import math
import os
import re
import statistics
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, HarnessError
from .references import Reference, lookup

COCO_SUFFIXES = (('mAP', 'AP'), ('mAP_50', 'AP50'), ('mAP_75', 'AP75'),
                 ('mAP_s', 'APs'), ('mAP_m', 'APm'), ('mAP_l', 'APl'))
SEG_MAIN = ('mIoU', 'mAcc', 'aAcc')
SEG_PER_CLASS = (('IoU.', 'per-class IoU'), ('Acc.', 'per-class accuracy'))
META_FIELDS = (('commit', 'commit'), ('versions', 'versions'), ('hardware', 'hardware'), ('gpus', 'GPUs'),
               ('iterations', 'iterations'), ('train_images', 'train images'), ('val_images', 'val images'),
               ('batch_size', 'batch size'), ('image_size', 'image size'))
_RUN_DIR = re.compile(r'^(?P<variant>.+)_seed(?P<seed>-?\d+)$')
_ITER = re.compile(r'\biter(?:ation)?s?\s*[#:=]?\s*(\d+)', re.IGNORECASE)
_MINUS = '\u2212'
_CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:72rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.45}table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}
caption{caption-side:top;text-align:left;font-style:italic;padding-bottom:.3rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f2f2f2}
tr:nth-child(even) td{background:#fafafa}img{max-width:100%;height:auto;border:1px solid #eee}
.note{color:#555;font-style:italic}code{background:#f2f2f2;padding:0 .2rem}"""


@dataclass
class Run:
    """One expected run, as found on disk."""
    name: str
    variant: str
    seed: int
    state: str  # done | failed | missing | unreadable | unknown
    path: Path
    error: str = ''  # failure reason, or why the run is missing / unreadable
    iteration: str = ''  # where a failed run stopped, when known
    task: str = ''
    metrics: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    no_detections: bool = False


@dataclass
class Stat:
    """One metric of one variant over its seeds (values in results.json units)."""
    key: str
    values: list  # (seed, value) of the runs that produced a usable value
    n_runs: int  # expected runs of the variant
    state: str  # ok | failed | missing | unreadable | unknown | n/a (AP = -1) | non-finite | not reported
    flags: list = field(default_factory=list)

    @property
    def mean(self):
        return statistics.fmean(v for _, v in self.values) if self.values else None

    @property
    def std(self):
        return statistics.stdev(v for _, v in self.values) if len(self.values) > 1 else None


# ---------------------------------------------------------------------------------------------- input

def load_grid(work_dir):
    """Read `<work_dir>/grid.json` as plain JSON; raise HarnessError / ConfigError naming the file."""
    work_dir = Path(work_dir)
    if not work_dir.is_dir():
        raise HarnessError(f'{work_dir}: no such work directory; expected work_dirs/<grid>/')
    path = work_dir / 'grid.json'
    if not path.is_file():
        raise HarnessError(f'{path}: not found; expected the grid.json that tools/grid.py writes')
    try:
        grid = json.loads(path.read_text(encoding='utf-8'))
    except (ValueError, OSError) as e:
        raise ConfigError(f'{path}: cannot read ({_one_line(e)}); expected a JSON object') from None
    if not isinstance(grid, dict):
        raise ConfigError(f'{path}: top level is {type(grid).__name__}; expected a JSON object')
    name = grid.get('name')
    variants = grid.get('variants')
    if not isinstance(name, str) or not name:
        raise ConfigError(f'{path}: name: got {name!r}; expected a non-empty string')
    if not isinstance(variants, list) or not variants or not all(
            isinstance(v, dict) and isinstance(v.get('name'), str) for v in variants):
        raise ConfigError(f'{path}: variants: expected a non-empty list of objects with a "name"')
    seeds = grid.get('seeds', [0])
    if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ConfigError(f'{path}: seeds: got {seeds!r}; expected a list of integers')
    names = [v['name'] for v in variants]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f'{path}: variants: name {", ".join(map(repr, twice))} given twice; expected unique names')
    grid_baseline = grid.get('baseline') or names[0]
    for v in variants:
        v['baseline'] = v.get('baseline') or grid_baseline
        if v['baseline'] not in names:
            raise ConfigError(f'{path}: variants.{v["name"]}.baseline: {v["baseline"]!r} is not a variant; '
                              f'expected one of {", ".join(names)}')
    for key, kind, what in (('metrics', list, 'a list of metric keys'),
                            ('references', dict, 'an object {variant: {metric: value, source: ...}}')):
        value = grid.get(key) or kind()
        if not isinstance(value, kind):
            raise ConfigError(f'{path}: {key}: got {value!r}; expected {what}')
        grid[key] = value
    if not all(isinstance(m, str) for m in grid['metrics']):
        raise ConfigError(f'{path}: metrics: got {grid["metrics"]!r}; expected a list of metric keys')
    grid['seeds'] = seeds
    grid['path'] = path
    return grid


def load_runs(work_dir, grid):
    """Every expected run (variants x seeds, grid order) and notes on run folders outside the grid."""
    work_dir = Path(work_dir)
    found = {}
    for d in sorted(p for p in work_dir.iterdir() if p.is_dir()):
        m = _RUN_DIR.match(d.name)
        if m:
            found[(m['variant'], int(m['seed']))] = d
    runs = []
    for v in grid['variants']:
        for seed in grid['seeds']:
            folder = found.pop((v['name'], seed), work_dir / f'{v["name"]}_seed{seed}')
            runs.append(_read_run(folder, v['name'], seed))
    notes = [f'{d.name}: variant or seed not in grid.json; not included' for d in found.values()]
    for r in runs:
        if r.state == 'unknown':
            notes.append(f'{r.name}: {r.error}; not included')
    return runs, notes


def _read_run(folder, variant, seed):
    path = folder / 'results.json'
    run = Run(folder.name, variant, seed, 'missing', path)
    if not folder.is_dir():
        run.error = 'not started (no run folder)'
        return run
    if not path.is_file():
        run.error = 'run folder has no results.json (interrupted, or still running)'
        return run
    try:
        raw = json.loads(path.read_text(encoding='utf-8'))
        if not isinstance(raw, dict):
            raise ValueError(f'top level is {type(raw).__name__}, expected an object')
        if not isinstance(raw.get('metrics') or {}, dict):
            raise ValueError('"metrics" is not an object')
    except (ValueError, OSError) as e:
        run.state, run.error = 'unreadable', f'{path}: {_one_line(e)}'
        return run
    run.metrics = raw.get('metrics') or {}
    run.meta = raw['meta'] if isinstance(raw.get('meta'), dict) else {}
    run.task = str(raw.get('task') or '')
    status = raw.get('status')
    if status == 'done':
        run.state, run.no_detections = 'done', not run.metrics
    elif status == 'failed':
        run.state, run.error = 'failed', _one_line(raw.get('error') or 'no reason recorded')
        run.iteration = _failed_iteration(raw, run.error)
    else:
        run.state, run.error = 'unknown', f'unknown status {status!r} in {path.name}'
    return run


def _failed_iteration(raw, error):
    """Where a failed run stopped: an `iteration` field if the runner wrote one, else the error text."""
    meta = raw.get('meta') if isinstance(raw.get('meta'), dict) else {}
    for value in (raw.get('iteration'), meta.get('iteration')):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    m = _ITER.search(error)
    return m.group(1) if m else ''


# ---------------------------------------------------------------------------------------- statistics

def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class _Results:
    """Runs of a grid with the choices the report makes about them (task, headline metrics, zero-fill)."""

    def __init__(self, grid, runs):
        self.grid, self.runs = grid, runs
        self.variants = [v['name'] for v in grid['variants']]
        self.baseline = {v['name']: v['baseline'] for v in grid['variants']}
        tasks = Counter(r.task for r in runs if r.task)
        self.task = tasks.most_common(1)[0][0] if tasks else ''
        self.tasks = sorted(tasks)
        for r in runs:  # only mmdet's CocoMetric says "nothing predicted" with {}; elsewhere it is a bug
            if r.no_detections and (r.task or self.task) not in ('coco', ''):
                r.no_detections, r.error = False, 'done, but results.json has no metrics'
        keys = {}
        for r in runs:
            if r.state == 'done':
                keys.update((k, None) for k, v in r.metrics.items() if _number(v) is not None)
        coco = [k for k in keys if k.startswith('coco/')]
        self.headline = list(self.grid['metrics']) or self._default_headline(keys)
        # An empty metrics dict means "predicted nothing": AP 0 for every COCO key the grid reports.
        self.zero_keys = set(coco) | {k for k in self.headline if k.startswith('coco/')}
        if self.task == 'coco' and not self.zero_keys:
            self.zero_keys = {'coco/bbox_mAP', 'coco/segm_mAP'}
        self.keys = list(dict.fromkeys([*self.headline, *keys, *sorted(self.zero_keys)]))

    def _default_headline(self, keys):
        if self.task == 'coco' or any(k.startswith('coco/') for k in keys):
            both = ['coco/bbox_mAP', 'coco/segm_mAP']
            return [k for k in both if k in keys] or both
        if self.task == 'cityscapes' or 'mIoU' in keys:
            return ['mIoU']
        return sorted(keys)[:1]

    def of(self, variant):
        return [r for r in self.runs if r.variant == variant]

    def value(self, run, key):
        """The value the report uses for `run` and `key`: 0 for a no-detections run, else the number."""
        if run.state != 'done':
            return None
        if run.no_detections and key in self.zero_keys:
            return 0.0
        return _number(run.metrics.get(key))

    def stat(self, variant, key):
        runs = self.of(variant)
        values, flags, na, bad = [], [], [], []
        for r in runs:
            v = self.value(r, key)
            if v is None:
                if r.state == 'done' and not r.metrics and not r.no_detections:
                    flags.append(f'no metrics: seed {r.seed}')
                continue
            if key.startswith('coco/') and v == -1:
                na.append(r.seed)
            elif not math.isfinite(v):
                bad.append(r.seed)
            else:
                values.append((r.seed, v))
                if r.no_detections and key in self.zero_keys:
                    flags.append(f'no detections: seed {r.seed}')
        if na:
            flags.append(f'AP = -1 (no such objects): seed {_seeds(na)}')
        if bad:
            flags.append(f'non-finite value: seed {_seeds(bad)}')
        states = {r.state for r in runs}
        if values:
            state = 'ok'
        elif na and not bad:
            state = 'n/a'  # mmdet's AP = -1: no objects of that size
        elif bad:
            state = 'non-finite'
        elif 'done' in states:
            state = 'not reported'
        else:
            state = next((s for s in ('failed', 'unreadable', 'unknown') if s in states), 'missing')
        return Stat(key, values, len(runs), state, flags)

    def delta(self, variant, key):
        """mean(variant) - mean(its baseline), or None."""
        base = self.baseline[variant]
        if base == variant:
            return None
        a, b = self.stat(variant, key), self.stat(base, key)
        return a.mean - b.mean if a.values and b.values else None


def _seeds(seeds):
    return ', '.join(str(s) for s in seeds)


# ---------------------------------------------------------------------------------------- formatting

def _scale(key):
    return 100.0 if key.startswith('coco/') else 1.0


def _decimals(key):
    if key.startswith('coco/'):
        return 1
    if key in SEG_MAIN or key.startswith(tuple(p for p, _ in SEG_PER_CLASS)):
        return 2
    return None


def _fmt(key, value, scaled=False):
    """A value in results.json units (or already in display units when `scaled`) as text."""
    v = value if scaled else value * _scale(key)
    d = _decimals(key)
    return (f'{v:.{d}f}' if d is not None else f'{v:.4g}').replace('-', _MINUS)


def _signed(key, delta, scaled=False):
    """A difference with an explicit sign: +0.8, \u22121.2, \u00b10.0."""
    text = _fmt(key, abs(delta), scaled)
    if not any(c in '123456789' for c in text.split('e')[0]):
        return '\u00b1' + text
    return ('+' if delta > 0 else _MINUS) + text


def _label(key):
    if key.startswith('coco/'):
        kind, _, suffix = key[5:].partition('_')
        name = dict(COCO_SUFFIXES).get(suffix, suffix)
        return f'{kind} {name} (x100)'
    return key


def _cell(stat):
    if stat.state != 'ok':
        return stat.state
    text = _fmt(stat.key, stat.mean)
    if stat.std is not None:
        text += f' \u00b1 {_fmt(stat.key, stat.std)}'
    if len(stat.values) != stat.n_runs or stat.n_runs == 1:
        text += f' (n={len(stat.values)}/{stat.n_runs})'
    return text


def _delta_cell(res, variant, key):
    if res.baseline[variant] == variant:
        return 'baseline'
    d = res.delta(variant, key)
    if d is not None:
        return _signed(key, d)
    base = res.stat(res.baseline[variant], key)
    return f'\u2014 (baseline {base.state})' if base.state != 'ok' else '\u2014'


def _one_line(x):
    return ' '.join(str(x).split())


def _wall(seconds):
    s = _number(seconds)
    if s is None:
        return ''
    if s < 60:
        return f'{s:.1f} s'
    h, rest = divmod(int(round(s)), 3600)
    return f'{h}h {rest // 60:02d}m {rest % 60:02d}s' if h else f'{rest // 60}m {rest % 60:02d}s'


def _meta_text(value):
    if isinstance(value, dict):
        return ', '.join(f'{k} {v}' for k, v in value.items())
    return str(value)


def _safe_name(name):
    return re.sub(r'[^A-Za-z0-9._-]+', '_', name).strip('._') or 'metric'


# ------------------------------------------------------------------------------------------ document
# A document is a list of blocks, rendered once to Markdown and once to HTML, so both say the same.
# ('h', level, text) ('p', text) ('note', text) ('list', [text]) ('table', caption, header, rows)
# ('img', file name, alt text, png bytes). Every text is plain; the renderers escape it.

def _document(res, work_dir, plots, refs, notes):
    grid = res.grid
    blocks = [('h', 1, f'{grid["name"]}: ablation report')]
    if grid.get('description'):
        blocks.append(('p', str(grid['description'])))
    blocks.append(('note', f'Every number below is read from the results.json files under {work_dir}, '
                           'except those labelled "published (not ours)". COCO AP is shown x100 with one '
                           'decimal (mmdet reports it in [0, 1]); mmseg values are percent. std is the sample '
                           'standard deviation (n\u22121) over the seeds that gave a value; '
                           '\u0394 = mean(variant) \u2212 mean(its baseline).'))
    blocks += _setup_blocks(res)
    blocks += _headline_blocks(res)
    blocks += _detail_blocks(res)
    if plots:
        blocks.append(('h', 2, 'Plots'))
        blocks += [('img', name, alt, data) for name, alt, data in plots]
        if not any(name.startswith('delta_') for name, _, _ in plots):
            blocks.append(('note', 'No \u0394 plot: no variant has a baseline other than itself with results.'))
    if refs:
        blocks += _reference_blocks(res, refs)
    blocks += _problem_blocks(res, notes)
    blocks += _variant_blocks(res)
    return blocks


def _setup_blocks(res):
    runs = [r for r in res.runs if r.meta]
    items, differ = [], []
    for key, label in META_FIELDS:
        groups = {}
        for r in runs:
            if r.meta.get(key) not in (None, '', {}):
                groups.setdefault(_meta_text(r.meta[key]), []).append(r.name)
        if len(groups) > 1:
            differ.append(label)
            items.append(f'{label}: differs between runs: '
                         + '; '.join(f'{text} ({", ".join(names)})' for text, names in groups.items()))
        elif groups:
            (text, names), = groups.items()
            gap = len(runs) - len(names)
            items.append(f'{label}: {text}' + (f' (not recorded in {gap} run(s))' if gap else ''))
        else:
            items.append(f'{label}: not recorded')
    walls = [w for w in (_number(r.meta.get('wall_s')) for r in runs) if w is not None]
    if walls:
        items.append(f'wall time per run: {_wall(min(walls))} to {_wall(max(walls))} '
                     f'(total {_wall(sum(walls))} over {len(walls)} runs; each run in the Runs table)')
    if len(res.tasks) > 1:
        differ.append('task')
    items.append(f'task: {", ".join(res.tasks) or "not recorded"}')
    count = Counter(r.state for r in res.runs)
    items.append(f'runs: {count["done"]} done, {count["failed"]} failed, {count["missing"]} missing, '
                 f'{count["unreadable"]} unreadable, of {len(res.runs)} expected '
                 f'({len(res.variants)} variants x {len(res.grid["seeds"])} seeds)')
    blocks = [('h', 2, 'Scale and setup')]
    if differ:
        blocks.append(('note', f'Runs differ in: {", ".join(differ)}. Compare them with care.'))
    return blocks + [('list', items)]


def _headline_blocks(res):
    header = ['Variant', 'vs.', 'runs with results']
    for key in res.headline:
        header += [_label(key), f'\u0394 {_label(key)}']
    rows = []
    for v in res.variants:
        runs = res.of(v)
        row = [v, res.baseline[v], f'{sum(r.state == "done" for r in runs)}/{len(runs)}']
        flags = []
        for key in res.headline:
            stat = res.stat(v, key)
            row += [_cell(stat), _delta_cell(res, v, key)]
            flags += [f for f in stat.flags if f not in flags]
        for state in ('failed', 'missing', 'unreadable', 'unknown'):
            seeds = [r.seed for r in runs if r.state == state]
            if seeds:
                flags.append(f'{state}: seed {_seeds(seeds)}')
        rows.append(row + ['; '.join(flags)])
    caption = ('Headline metrics: mean \u00b1 std over seeds, with n when fewer than all seeds gave a value; '
               '\u0394 vs. the variant in "vs.", same units. COCO AP x100, one decimal.')
    blocks = [('h', 2, 'Headline'), ('table', caption, header + ['notes'], rows)]
    if not res.headline:
        blocks.insert(1, ('note', 'No headline metric: grid.json names none and no run has metrics yet.'))
    run_header = ['Run', 'Status'] + [_label(k) for k in res.headline] + ['Wall time', 'Note']
    run_rows = []
    for r in res.runs:
        cells = []
        for key in res.headline:
            value = res.value(r, key)
            text = '' if value is None else ('n/a' if key.startswith('coco/') and value == -1
                                             else _fmt(key, value))
            if text and r.no_detections and key in res.zero_keys:
                text += ' (no detections)'
            cells.append(text)
        note = r.error or ('no detections (empty metrics)' if r.no_detections else '')
        run_rows.append([r.name, r.state, *cells, _wall(r.meta.get('wall_s')), note])
    blocks += [('h', 2, 'Runs'), ('table', 'Every expected run; values as in results.json (COCO AP x100).',
                                  run_header, run_rows)]
    return blocks


def _variant_table(res, keys, caption, first='Variant', names=None):
    """Rows = variants, columns = `keys`: 'mean \u00b1 std (\u0394)'."""
    header = [first] + [names[k] if names else _label(k) for k in keys]
    rows = [[v] + [_with_delta(res, v, k) for k in keys] for v in res.variants]
    return ('table', caption, header, rows)


def _with_delta(res, variant, key):
    text = _cell(res.stat(variant, key))
    d = res.delta(variant, key)
    return text + (f' ({_signed(key, d)})' if d is not None else '')


def _detail_blocks(res):
    blocks, shown = [], set(res.headline)
    suffix_note = ' Cells: mean \u00b1 std (\u0394 vs. baseline); n/a = no objects of that size (AP = \u22121).'
    for kind, title in (('bbox', 'Box AP'), ('segm', 'Mask AP')):
        keys = [f'coco/{kind}_{s}' for s, _ in COCO_SUFFIXES]
        if any(k in res.keys for k in keys):
            names = {f'coco/{kind}_{s}': n for s, n in COCO_SUFFIXES}
            blocks += [('h', 2, f'COCO {title}'),
                       _variant_table(res, keys, f'COCO {kind} AP, x100 as papers print it (mmdet reports '
                                                 f'[0, 1]), one decimal.{suffix_note}', names=names)]
            shown.update(keys)
    main = [k for k in SEG_MAIN if k in res.keys]
    if main:
        blocks += [('h', 2, 'Segmentation'), _variant_table(res, main, 'mmseg metrics in percent. Cells: '
                                                                       'mean \u00b1 std (\u0394 vs. baseline).')]
        shown.update(main)
    for prefix, title in SEG_PER_CLASS:
        keys = [k for k in res.keys if k.startswith(prefix)]
        if keys:
            rows = [[k[len(prefix):]] + [_with_delta(res, v, k) for v in res.variants] for k in keys]
            blocks += [('h', 2, title[0].upper() + title[1:]),
                       ('table', f'{title} in percent, one row per class. Cells: mean \u00b1 std '
                                 '(\u0394 vs. baseline).', ['Class'] + res.variants, rows)]
            shown.update(keys)
    other = [k for k in res.keys if k not in shown]
    if other:
        rows = [[k] + [_with_delta(res, v, k) for v in res.variants] for k in other]
        blocks += [('h', 2, 'Other metrics'),
                   ('table', 'Other numeric keys in results.json, in their own units. Cells: mean \u00b1 std '
                             '(\u0394 vs. baseline).', ['Metric'] + res.variants, rows)]
    return blocks


def _references(res):
    """(variant, Reference-like) pairs from grid.json `references`; ConfigError on an unknown key."""
    out, path = [], res.grid['path']
    for variant, entry in res.grid['references'].items():
        if isinstance(entry, (str, list)):
            keys = entry
        elif isinstance(entry, dict):
            keys = entry.get('ref', [])
        else:
            raise ConfigError(f'{path}: references.{variant}: got {entry!r}; expected '
                              '{metric: value, source: ...} or {ref: <key in harness/references.py>}')
        for key in [keys] if isinstance(keys, str) else keys:
            out += [(variant, r) for r in lookup(key, where=f'{path}: references.{variant}.ref')]
        for metric, value in (entry.items() if isinstance(entry, dict) else ()):
            if metric in ('ref', 'source'):
                continue
            if _number(value) is None:
                raise ConfigError(f'{path}: references.{variant}.{metric}: got {value!r}; expected a number '
                                  '(percent, as published)')
            source = entry.get('source') or 'grid.json gives no source'
            out.append((variant, Reference('grid.json', '', '', '', metric, float(value), str(source))))
    return out


def _reference_blocks(res, refs):
    rows = []
    for variant, ref in refs:
        what = ', '.join(x for x in (ref.model, ref.schedule, ref.dataset) if x) or '(grid.json)'
        if ref.kind == 'delta':
            published = f'\u0394 {_signed(ref.metric, ref.value, scaled=True)} vs. {ref.compared_to}'
            ours = _delta_cell(res, variant, ref.metric) if variant in res.baseline else 'not in grid'
            ours = f'\u0394 {ours}' if ours.startswith(('+', '\u2212', '\u00b1')) else ours
        else:
            published = _fmt(ref.metric, ref.value, scaled=True)
            ours = _cell(res.stat(variant, ref.metric)) if variant in res.baseline else 'not in grid'
        rows.append([variant, what, _label(ref.metric), published, ours, ref.source])
    caption = ('Published (not ours): numbers as their sources print them (percent). "Ours" is this grid '
               '(mean \u00b1 std, or \u0394 vs. baseline), trained at the scale under "Scale and setup", '
               'usually far smaller than the published schedule.')
    return [('h', 2, 'Published numbers (not ours)'),
            ('table', caption, ['Variant', 'Published model', 'Metric', 'Published (not ours)', 'Ours', 'Source'],
             rows)]


def _problem_blocks(res, notes):
    blocks = [('h', 2, 'Failed, missing and unreadable runs')]
    failed = [[r.name, r.error, r.iteration or 'not recorded'] for r in res.runs if r.state == 'failed']
    missing = [[r.name, r.error] for r in res.runs if r.state == 'missing']
    unreadable = [[r.name, r.error] for r in res.runs if r.state == 'unreadable']
    if failed:
        blocks.append(('table', 'Failed runs (status "failed" in results.json).', ['Run', 'Reason', 'Iteration'],
                       failed))
    if missing:
        blocks.append(('table', 'Missing runs: no results.json.', ['Run', 'Why'], missing))
    if unreadable:
        blocks.append(('table', 'Unreadable runs: results.json is not valid.', ['Run', 'File and error'],
                       unreadable))
    notes = [f'{r.name}: {r.error}' for r in res.runs if r.state == 'done' and r.error] + notes
    if notes:
        blocks.append(('list', notes))
    if not (failed or missing or unreadable or notes):
        blocks.append(('p', f'None: all {len(res.runs)} expected runs finished and were read.'))
    return blocks


def _variant_blocks(res):
    rows = []
    for v in res.grid['variants']:
        pad, cc = v.get('padding'), v.get('coordconv')
        if isinstance(pad, dict):
            scope = pad.get('scope')
            pad = f'{pad.get("mode")} ({", ".join(map(str, scope)) if isinstance(scope, list) else scope})'
        if isinstance(cc, dict):
            cc = ', '.join(map(str, cc.get('sites') or [])) + (' (with r)' if cc.get('with_r') else '')
        opts = v.get('cfg_options')
        rows.append([v['name'], v['baseline'], str(v.get('base', '')), str(pad or 'unchanged'), str(cc or 'none'),
                     str(v.get('solo_coords', '')), json.dumps(opts, sort_keys=True) if opts else '',
                     str(v.get('description') or '')])
    return [('h', 2, 'Variants'),
            ('table', 'The variants as grid.json defines them.',
             ['Variant', 'vs.', 'Base config', 'Padding', 'CoordConv', 'SOLO coords', 'cfg_options', 'Description'],
             rows)]


# ----------------------------------------------------------------------------------------- renderers

def _md(text):
    text = ' '.join(str(text).split()).replace('\\', '\\\\')
    return re.sub(r'([`*\[\]<>|#])', r'\\\1', text)


def render_markdown(blocks):
    out = []
    for block in blocks:
        kind = block[0]
        if kind == 'h':
            out.append('#' * block[1] + ' ' + _md(block[2]))
        elif kind == 'p':
            out.append(_md(block[1]))
        elif kind == 'note':
            out.append(f'*{_md(block[1])}*')
        elif kind == 'list':
            out += [f'- {_md(item)}' for item in block[1]]
        elif kind == 'table':
            _, caption, header, rows = block
            out += [f'*{_md(caption)}*', '', '| ' + ' | '.join(map(_md, header)) + ' |',
                    '|' + '---|' * len(header)]
            out += ['| ' + ' | '.join(_md(c) or ' ' for c in row) + ' |' for row in rows]
        elif kind == 'img':
            out.append(f'![{_md(block[2])}]({block[1]})')
        out.append('')
    return '\n'.join(out)


def render_html(blocks, title):
    e = html.escape
    body = []
    for block in blocks:
        kind = block[0]
        if kind == 'h':
            body.append(f'<h{block[1]}>{e(block[2])}</h{block[1]}>')
        elif kind == 'p':
            body.append(f'<p>{e(block[1])}</p>')
        elif kind == 'note':
            body.append(f'<p class="note">{e(block[1])}</p>')
        elif kind == 'list':
            body.append('<ul>' + ''.join(f'<li>{e(item)}</li>' for item in block[1]) + '</ul>')
        elif kind == 'table':
            _, caption, header, rows = block
            body.append(f'<table><caption>{e(caption)}</caption><thead><tr>'
                        + ''.join(f'<th>{e(h)}</th>' for h in header) + '</tr></thead><tbody>'
                        + ''.join('<tr>' + ''.join(f'<td>{e(str(c))}</td>' for c in row) + '</tr>' for row in rows)
                        + '</tbody></table>')
        elif kind == 'img':
            data = base64.b64encode(block[3]).decode('ascii')
            body.append(f'<figure><img src="data:image/png;base64,{data}" alt="{e(block[2])}">'
                        f'<figcaption>{e(block[1])}</figcaption></figure>')
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)}</title>'
            f'<style>{_CSS}</style></head><body>\n' + '\n'.join(body) + '\n</body></html>\n')


# --------------------------------------------------------------------------------------------- plots

def _mpl(text):
    return str(text).replace('$', r'\$')  # matplotlib would read $...$ as mathtext


def _offsets(n):
    return [0.0] if n < 2 else [-0.15 + 0.3 * i / (n - 1) for i in range(n)]


def _new_axes(n):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(max(4.5, 1.0 * n + 2.0), 3.8), dpi=110)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _png(fig, ax, labels, title, ylabel):
    ax.set_xticks(range(len(labels)), [_mpl(x) for x in labels], rotation=30, ha='right', fontsize=8)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylabel(_mpl(ylabel))
    ax.set_title(_mpl(title), fontsize=8)
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png')
    return buf.getvalue()


def _spread_plot(res, key):
    fig, ax = _new_axes(len(res.variants))
    k = _scale(key)
    for i, v in enumerate(res.variants):
        stat = res.stat(v, key)
        if stat.state != 'ok':
            ax.text(i, 0.5, stat.state, transform=ax.get_xaxis_transform(), ha='center', color='#b00000')
            continue
        ax.hlines(stat.mean * k, i - 0.3, i + 0.3, color='C0', linewidth=2.5, zorder=2)
        if stat.std is not None:
            ax.errorbar(i, stat.mean * k, yerr=stat.std * k, color='k', capsize=4, zorder=3)
        ax.scatter([i + o for o in _offsets(len(stat.values))], [x * k for _, x in stat.values],
                   s=20, color='C1', edgecolors='k', linewidths=0.5, zorder=4)
    return _png(fig, ax, res.variants, f'{res.grid["name"]}: {_label(key)} per variant\n'
                                       'dots: seeds, bar: mean, line: \u00b11 std', _label(key))


def _delta_plot(res, key):
    pairs = [v for v in res.variants if res.baseline[v] != v]
    if not pairs:
        return None
    fig, ax = _new_axes(len(pairs))
    k = _scale(key)
    for i, v in enumerate(pairs):
        stat, base = res.stat(v, key), res.stat(res.baseline[v], key)
        if stat.state != 'ok' or base.state != 'ok':
            why = stat.state if stat.state != 'ok' else f'baseline {base.state}'
            ax.text(i, 0.5, why, transform=ax.get_xaxis_transform(), ha='center', color='#b00000')
            continue
        d = (stat.mean - base.mean) * k
        ax.bar(i, d, width=0.6, color='C2' if d >= 0 else 'C3', alpha=0.5, zorder=2)
        if stat.std is not None:
            ax.errorbar(i, d, yerr=stat.std * k, color='k', capsize=4, zorder=3)
        ax.scatter([i + o for o in _offsets(len(stat.values))], [(x - base.mean) * k for _, x in stat.values],
                   s=20, color='C1', edgecolors='k', linewidths=0.5, zorder=4)
    ax.axhline(0, color='k', linewidth=0.8)
    labels = [f'{v}\nvs. {res.baseline[v]}' for v in pairs]
    return _png(fig, ax, labels, f'{res.grid["name"]}: \u0394 {_label(key)} vs. baseline\n'
                                 'bar: \u0394 of means, dots: seeds \u2212 baseline mean, line: \u00b11 std',
                f'\u0394 {_label(key)}')


def _plots(res):
    out, used = [], set()
    for key in res.headline:
        stem = _safe_name(key)
        while stem in used:
            stem += '_'
        used.add(stem)
        out.append((f'{stem}.png', f'{key} per variant, one dot per seed', _spread_plot(res, key)))
        delta = _delta_plot(res, key)
        if delta is not None:
            out.append((f'delta_{stem}.png', f'{key}: difference to each variant\'s baseline', delta))
    return out


# ---------------------------------------------------------------------------------------------- CSVs

def _csv(header, rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _results_csv(res):
    all_keys = list(dict.fromkeys([*res.keys, *(k for r in res.runs for k in r.metrics)]))
    header = ['run', 'variant', 'seed', 'status', 'error', 'iteration', 'no_detections', 'task', 'wall_s', *all_keys]
    rows = []
    for r in res.runs:
        values = []
        for key in all_keys:
            v = res.value(r, key)
            values.append(repr(v) if v is not None else ('' if r.state != 'done' else r.metrics.get(key, '')))
        rows.append([r.name, r.variant, r.seed, r.state, r.error, r.iteration, 'yes' if r.no_detections else '',
                     r.task, r.meta.get('wall_s', ''), *values])
    return _csv(header, rows)


def _summary_csv(res):
    header = ['variant', 'baseline', 'metric', 'state', 'n', 'n_runs', 'mean', 'std', 'delta', 'flags']
    rows = []
    for v in res.variants:
        for key in res.keys:
            s = res.stat(v, key)
            d = res.delta(v, key)
            rows.append([v, res.baseline[v], key, s.state, len(s.values), s.n_runs,
                         '' if s.mean is None else repr(s.mean), '' if s.std is None else repr(s.std),
                         '' if d is None else repr(d), '; '.join(s.flags)])
    return _csv(header, rows)


# --------------------------------------------------------------------------------------------- write

def _atomic_write(path, data):
    """Write bytes to `path` via a temporary file in the same folder and os.replace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def default_out_dir(grid_name):
    """`reports/<grid name>/` in the repository that holds this package."""
    return Path(__file__).parent.parent / 'reports' / _safe_name(grid_name)


def write_report_files(work_dir, out_dir=None):
    """Write the report of the grid in `work_dir`; return every path written (report.md first).

    `out_dir` defaults to `reports/<grid name>/` in the repository (the folder above `harness/`).
    Raises HarnessError (ConfigError) naming the file when grid.json is missing or malformed.
    """
    work_dir = Path(work_dir)
    grid = load_grid(work_dir)
    runs, notes = load_runs(work_dir, grid)
    res = _Results(grid, runs)
    refs = _references(res)
    out = Path(out_dir) if out_dir is not None else default_out_dir(grid['name'])
    out.mkdir(parents=True, exist_ok=True)
    plots = _plots(res)
    blocks = _document(res, work_dir, plots, refs, notes)
    files = [('report.md', render_markdown(blocks).encode('utf-8')),
             ('report.html', render_html(blocks, f'{grid["name"]}: ablation report').encode('utf-8')),
             ('results.csv', _results_csv(res).encode('utf-8')),
             ('summary.csv', _summary_csv(res).encode('utf-8'))] + [(name, data) for name, _, data in plots]
    for name, data in files:
        _atomic_write(out / name, data)
    return [out / name for name, _ in files]


def write_report(work_dir, out_dir=None):
    """Write the report of the grid in `work_dir` (see `write_report_files`); return the output folder."""
    return write_report_files(work_dir, out_dir)[0].parent
