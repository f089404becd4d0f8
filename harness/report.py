"""The comparison report of one ablation grid: CSVs, plots, report.md and a self-contained report.html.

A grid of padding / CoordConv variants x seeds only says something as a comparison of each variant
with its own baseline, with the seed spread and every failure in sight. This module reads
`work_dirs/<grid>/grid.json` and each `<variant>_seed<k>/results.json` as plain JSON (no training
code is imported) and writes, to `reports/<grid name>/` by default:

- `results.csv`: one row per expected run (status, error, every metric, in results.json units);
- `summary.csv`: one row per variant x metric of its task: n, mean, std, delta vs. the variant's baseline;
- `<metric>.png` / `delta_<metric>.png` per headline metric (each seed a dot, mean bar, std bar), and
  `border_<metric>.png` / `delta_border_<metric>.png` per border-distance metric (one line per variant);
- `report.md` and `report.html`: the same document; the HTML embeds its CSS and plots and escapes
  every string that came from the inputs.

Rules: every number shown comes from the results files, except those labelled "published (not
ours)", which come from grid.json `references` and `harness.references`. A grid may mix tasks; each
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

The work is split by concern: `report_data` (reading), `report_stats` (tasks, headline, statistics),
`report_format` (metric keys, units, cells), `report_doc` and `report_metrics` (the document),
`report_plots` (PNGs), `report_render` (Markdown / HTML). This module writes the files.
"""
import csv
import io
import os
import tempfile
from pathlib import Path

from .references import from_grid
from .report_data import load_grid, load_runs
from .report_doc import document
from .report_format import safe_name, signed
from .report_plots import make_plots
from .report_render import md_escape, render_html, render_markdown
from .report_stats import Results

__all__ = ['write_report', 'write_report_files', 'default_out_dir', 'render_markdown', 'render_html']
_md, _signed = md_escape, signed  # the names the tests and older callers use


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
    header = ['variant', 'baseline', 'task', 'metric', 'state', 'n', 'n_runs', 'mean', 'std', 'delta', 'flags']
    rows = []
    for v in res.variants:
        task = res.task_of[v]
        for key in res.keys_of[task]:
            s = res.stat(v, key)
            d = res.delta(v, key)
            rows.append([v, res.baseline[v], task, key, s.state, len(s.values), s.n_runs,
                         '' if s.mean is None else repr(s.mean), '' if s.std is None else repr(s.std),
                         '' if d is None else repr(d), '; '.join(s.flags)])
    return _csv(header, rows)


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
    return Path(__file__).parent.parent / 'reports' / safe_name(grid_name)


def write_report_files(work_dir, out_dir=None):
    """Write the report of the grid in `work_dir`; return every path written (report.md first).

    `out_dir` defaults to `reports/<grid name>/` in the repository (the folder above `harness/`).
    Raises HarnessError (ConfigError) naming the file when grid.json is missing or malformed.
    """
    work_dir = Path(work_dir)
    grid = load_grid(work_dir)
    runs, notes = load_runs(work_dir, grid)
    res = Results(grid, runs)
    refs = from_grid(grid['references'], grid['path'])
    out = Path(out_dir) if out_dir is not None else default_out_dir(grid['name'])
    out.mkdir(parents=True, exist_ok=True)
    plots = make_plots(res)
    blocks = document(res, work_dir, plots, refs, notes)
    files = [('report.md', render_markdown(blocks).encode('utf-8')),
             ('report.html', render_html(blocks, f'{grid["name"]}: ablation report').encode('utf-8')),
             ('results.csv', _results_csv(res).encode('utf-8')),
             ('summary.csv', _summary_csv(res).encode('utf-8'))]
    files += [(name, data) for group in plots.values() for name, _, data in group]
    for name, data in files:
        _atomic_write(out / name, data)
    return [out / name for name, _ in files]


def write_report(work_dir, out_dir=None):
    """Write the report of the grid in `work_dir` (see `write_report_files`); return the output folder."""
    return write_report_files(work_dir, out_dir)[0].parent
