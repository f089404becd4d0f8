"""grid.json: the resolved grid saved beside its runs, and the one place that reads it back.

The runner writes it (`dump_resolved`) before the first run starts; the report reads it back with
`read_grid_json` on any machine that has the work directory (half-finished or copied: base configs
may live elsewhere, so nothing is re-checked against files), and `load_resolved` turns it into a `Grid`.
"""

import copy
import json
from pathlib import Path

from ..errors import ConfigError, HarnessError, one_line
from .spec import RESOLVED_FORMAT, Grid

GRID_JSON = 'grid.json'


def dump_resolved(grid: Grid) -> dict:
    """The resolved grid as a JSON-serialisable dict (saved as grid.json next to the runs)."""
    variants = [
        {
            'name': v.name,
            'base': str(v.base),
            'baseline': v.baseline,
            'padding': copy.deepcopy(v.padding),
            'coordconv': copy.deepcopy(v.coordconv),
            'solo_coords': v.solo_coords,
            'cfg_options': copy.deepcopy(v.cfg_options),
            'description': v.description,
            'init': v.init,
            'pretrain': copy.deepcopy(v.pretrain),
        }
        for v in grid.variants
    ]
    return {
        'format': RESOLVED_FORMAT,
        'name': grid.name,
        'path': str(grid.path),
        'description': grid.description,
        'baseline': grid.baseline,
        'seeds': list(grid.seeds),
        'metrics': list(grid.metrics),
        'primary': copy.deepcopy(grid.primary),
        'references': copy.deepcopy(grid.references),
        'variants': variants,
        'border': grid.border,
        'probe': grid.probe,
        'vis_backends': copy.deepcopy(grid.vis_backends),
        'runs': [r.name for r in grid.runs()],
    }


def read_grid_json(work_dir: str | Path) -> dict:
    """Read `<work_dir>/grid.json` as plain JSON; raise HarnessError / ConfigError naming the file."""
    work_dir = Path(work_dir)
    if not work_dir.is_dir():
        raise HarnessError(f'{work_dir}: no such work directory; expected work_dirs/<grid>/')
    path = work_dir / GRID_JSON
    if not path.is_file():
        raise HarnessError(f'{path}: not found; expected the grid.json that tools/run_ablation.py writes')
    grid = _read_object(path)
    name = grid.get('name')
    variants = grid.get('variants')
    if not isinstance(name, str) or not name:
        raise ConfigError(f'{path}: name: got {name!r}; expected a non-empty string')
    if (
        not isinstance(variants, list)
        or not variants
        or not all(isinstance(v, dict) and isinstance(v.get('name'), str) for v in variants)
    ):
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
            raise ConfigError(
                f'{path}: variants.{v["name"]}.baseline: {v["baseline"]!r} is not a variant; '
                f'expected one of {", ".join(names)}'
            )
    for key, kind, what in (
        ('metrics', list, 'a list of metric keys'),
        ('primary', list, 'a list of {"variant": name, "metric": key or null}'),
        ('references', dict, 'an object {variant: {metric: value, source: ...}}'),
    ):
        value = grid.get(key) or kind()
        if not isinstance(value, kind):
            raise ConfigError(f'{path}: {key}: got {value!r}; expected {what}')
        grid[key] = value
    if not all(isinstance(m, str) for m in grid['metrics']):
        raise ConfigError(f'{path}: metrics: got {grid["metrics"]!r}; expected a list of metric keys')
    if not all(
        isinstance(p, dict) and p.get('variant') in names and (p.get('metric') is None or isinstance(p['metric'], str))
        for p in grid['primary']
    ):
        raise ConfigError(
            f'{path}: primary: got {grid["primary"]!r}; expected a list of {{"variant": name, '
            '"metric": key or null}} naming variants of the grid'
        )
    grid['seeds'] = seeds
    grid['path'] = path
    return grid


def _read_object(path):
    try:
        obj = json.loads(Path(path).read_text(encoding='utf-8'))
    except (ValueError, OSError) as e:
        raise ConfigError(f'{path}: cannot read ({one_line(e)}); expected a JSON object') from None
    if not isinstance(obj, dict):
        raise ConfigError(f'{path}: top level is {type(obj).__name__}; expected a JSON object')
    return obj


def load_resolved(path: str | Path) -> Grid:
    """The `Grid` of a grid.json written by `dump_resolved`."""
    return Grid.from_dict(_read_object(path), source=str(path))
