"""The comparison report of one ablation grid: CSVs, plots, report.md and a self-contained report.html.

A grid of padding / CoordConv variants x seeds only says something as a comparison of each variant
with its own baseline, with the seed spread and every failure in sight. This module reads
`work_dirs/<grid>/grid.json` and each `<variant>_seed<k>/results.json` as plain JSON (no training
code is imported) and writes, to `reports/<grid name>/` by default:

- `results.csv`: one row per expected run (status, error, every metric, in results.json units);
- `summary.csv`: one row per variant x metric of its task: n, mean, std, delta vs. the variant's baseline, and
  for the headline metrics the paired delta with its 95% interval over seeds and images (`intervals`), the
  columns that rebuild it (level, se_seeds, se_images, df), its p value and the family's verdict (`family`);
- `<metric>.png` / `delta_<metric>.png` per headline metric (each seed a dot, mean bar, std bar), and
  `border_<metric>.png` / `delta_border_<metric>.png` per border-distance metric (one line per variant);
- `report.md` and `report.html`: the same document; the HTML embeds its CSS and plots and escapes
  every string that came from the inputs.

Rules: every number shown comes from the results files, except those labelled "published (not
ours)", which come from grid.json `references` and `harness.report.references`. A grid may mix tasks; each
table lists the variants of one task (`task` in their results.json) and the headline defaults to
COCO bbox + segm AP and Cityscapes mIoU (grid.json `metrics` overrides it). COCO AP (mmdet: [0, 1])
is shown x100 with one decimal, as papers print it; mmseg values are already percent. std is the
sample standard deviation (n - 1) over the seeds that produced a value, and "(n=k/N)" marks a mean
over fewer than all N seeds; delta is mean(variant) - mean(baseline). A run folder without
results.json is *missing*, a results.json that does not parse is *unreadable*, and in a COCO grid a
done run with empty metrics predicted nothing (mmdet's CocoMetric returns {}) and counts as AP 0,
flagged "(no detections)", for the kinds its model predicts (a SOLO model has no boxes: its bbox AP
is "n/a"); in other grids empty metrics are listed as a problem. mmdet's AP = -1 ("no objects of
that size") is left out of means and shown as n/a. Every file is written atomically.

The work is split by concern: `results` (reading), `stats` (tasks, headline, statistics), `format`
(metric keys, units, cells), `document` and `tables` (the document as blocks), `plots` (PNGs),
`references` (published numbers). This module renders the blocks to Markdown / HTML and writes the files.

Rendering: a document is a list of blocks, rendered once per format so that both say the same:
('h', level, text) ('p', text) ('note', text) ('list', [text]) ('table', caption, header, rows)
('img', file name, alt text, png bytes). Every text is plain and may come from the inputs (variant
names, error messages, grid descriptions): the Markdown escapes its syntax characters, the HTML
escapes everything with `html.escape`, embeds its CSS and plots (data: URLs) and loads nothing else.
"""

import base64
import csv
import html
import io
import re
from pathlib import Path

from ..jsonio import write_atomic
from ..paths import REPO_ROOT
from .document import document
from .family import judged_distinguishable, verdict
from .format import safe_name
from .plots import make_plots
from .references import from_grid
from .stats import read_results

_CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:76rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.45}table{border-collapse:collapse;margin:.3rem 0 0;font-size:.9rem}
figure.table figcaption{font-style:italic;font-size:.9rem;color:#1b1b1b}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f2f2f2}
tr:nth-child(even) td{background:#fafafa}img{max-width:100%;height:auto;border:1px solid #eee}
h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}h3{margin-bottom:.3rem}
.scroll{overflow-x:auto}figure{margin:.5rem 0 1.5rem}figcaption{color:#555;font-size:.85rem}
.note{color:#555;font-style:italic}code{background:#f2f2f2;padding:0 .2rem}"""


def md_escape(text):
    text = ' '.join(str(text).split()).replace('\\', '\\\\')
    return re.sub(r'([`*\[\]<>|#])', r'\\\1', text)


def render_markdown(blocks):
    md = md_escape
    out = []
    for block in blocks:
        kind = block[0]
        if kind == 'h':
            out.append('#' * block[1] + ' ' + md(block[2]))
        elif kind == 'p':
            out.append(md(block[1]))
        elif kind == 'note':
            out.append(f'*{md(block[1])}*')
        elif kind == 'list':
            out += [f'- {md(item)}' for item in block[1]]
        elif kind == 'table':
            _, caption, header, rows = block
            out += [f'*{md(caption)}*', '', '| ' + ' | '.join(map(md, header)) + ' |', '|' + '---|' * len(header)]
            out += ['| ' + ' | '.join(md(c) or ' ' for c in row) + ' |' for row in rows]
        elif kind == 'img':
            out.append(f'![{md(block[2])}]({block[1]})')
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
            # the caption sits above the table, not in <caption>: that one is only as wide as its table
            body.append(
                f'<figure class="table"><figcaption>{e(caption)}</figcaption><div class="scroll"><table>'
                '<thead><tr>'
                + ''.join(f'<th>{e(h)}</th>' for h in header)
                + '</tr></thead><tbody>'
                + ''.join('<tr>' + ''.join(f'<td>{e(str(c))}</td>' for c in row) + '</tr>' for row in rows)
                + '</tbody></table></div></figure>'
            )
        elif kind == 'img':
            data = base64.b64encode(block[3]).decode('ascii')
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{e(block[2])}">'
                f'<figcaption>{e(block[2])} ({e(block[1])})</figcaption></figure>'
            )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)}</title>'
        f'<style>{_CSS}</style></head><body>\n' + '\n'.join(body) + '\n</body></html>\n'
    )


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
        rows.append(
            [
                r.name,
                r.variant,
                r.seed,
                r.state,
                r.error,
                r.iteration,
                'yes' if r.no_detections else '',
                r.task,
                r.meta.get('wall_s', ''),
                *values,
            ]
        )
    return _csv(header, rows)


def _summary_csv(res):
    # every interval is rebuilt from its own row: paired_delta ± t((1 + level) / 2, df) · sqrt(se_seeds² +
    # se_images²) (df inf: the normal quantile; a blank se counts 0); p_holm and verdict are the family's
    header = [
        'variant',
        'baseline',
        'task',
        'metric',
        'state',
        'n',
        'n_runs',
        'mean',
        'std',
        'delta',
        'flags',
        'paired_delta',
        'ci_low',
        'ci_high',
        'level',
        'se_seeds',
        'se_images',
        'df',
        'p',
        'p_holm',
        'family_size',
        'distinguishable',
        'verdict',
        'method',
    ]
    rows = []
    fam = res.family
    for v in res.variants:
        task = res.task_of[v]
        for key in res.keys_of[task]:
            s = res.stat(v, key)
            d = res.delta(v, key)
            # the headline's differences carry their 95% interval (findings); other metrics: mean - mean only
            iv = res.interval(v, key) if key in res.headline_of[task] and not res.missing_kind(v, key) else None
            row = [
                v,
                res.baseline[v],
                task,
                key,
                s.state,
                len(s.values),
                s.n_runs,
                _num(s.mean),
                _num(s.std),
                _num(d),
                '; '.join(s.flags),
            ]
            if iv is None:
                rows.append(row + [''] * 13)
                continue
            judged = judged_distinguishable(res, v, key)
            in_family = (v, key) in fam.adjusted
            rows.append(
                row
                + [
                    _num(iv.delta),
                    _num(iv.lo),
                    _num(iv.hi),
                    _num(iv.level),
                    _num(iv.se_seeds),
                    _num(iv.se_images),
                    _num(iv.df),
                    _num(iv.p),
                    _num(fam.adjusted.get((v, key))),
                    fam.size if in_family else '',
                    '' if judged is None else str(judged).lower(),
                    verdict(res, v, key),
                    iv.method,
                ]
            )
    return _csv(header, rows)


def _num(value):
    return '' if value is None else repr(float(value))


def default_out_dir(grid_name: str) -> Path:
    """`reports/<grid name>/` in the repository that holds this package."""
    return REPO_ROOT / 'reports' / safe_name(grid_name)


def write_report_files(work_dir: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Write the report of the grid in `work_dir`; return every path written (report.md first).

    `out_dir` defaults to `reports/<grid name>/` in the repository (the folder above `harness/`).
    Raises HarnessError (ConfigError) naming the file when grid.json is missing or malformed.
    """
    work_dir = Path(work_dir)
    res, notes = read_results(work_dir)
    grid = res.grid
    refs = from_grid(grid['references'], grid['path'])
    out = Path(out_dir) if out_dir is not None else default_out_dir(grid['name'])
    out.mkdir(parents=True, exist_ok=True)
    plots = make_plots(res)
    blocks = document(res, work_dir, plots, refs, notes)
    files = [
        ('report.md', render_markdown(blocks).encode('utf-8')),
        ('report.html', render_html(blocks, f'{grid["name"]}: ablation report').encode('utf-8')),
        ('results.csv', _results_csv(res).encode('utf-8')),
        ('summary.csv', _summary_csv(res).encode('utf-8')),
    ]
    files += [(name, data) for group in plots.values() for name, _, data in group]
    for name, data in files:
        write_atomic(out / name, data)
    return [out / name for name, _ in files]


def write_report(work_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Write the report of the grid in `work_dir` (see `write_report_files`); return the output folder."""
    return write_report_files(work_dir, out_dir)[0].parent
