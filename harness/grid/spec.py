"""Ablation grids: a base config, a baseline and the variants to compare, times seeds, as runs.

A grid is read and checked from its YAML file by `grid_schema.load_grid`, saved resolved next to its
runs as grid.json and read back by `grid_json`; this module holds only what a grid *is*.
"""

import copy
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, one_line

PACKAGE_SCOPES = ('mmdet::', 'mmseg::')  # bases kept as strings; mmengine resolves them in the package
RESOLVED_FORMAT = 'posharness.grid/1'
# The position probe's settings (`probe:` in a grid, the options of tools/probe_position.py): size None is
# the size the run trains at; images: 'val' (the config's own test / val images), 'synthetic' (the seed
# paper's black / white / noise images) or folders; one probe per seed, averaged; at most `max_images`
# natural images per source.
PROBE_DEFAULTS = dict(size=None, images=['val'], seeds=[0], max_images=32)


@dataclass(frozen=True)
class Variant:
    name: str
    base: Path | str  # absolute Path, or an 'mmdet::...' / 'mmseg::...' string
    baseline: str  # the variant this one is compared against (itself for a baseline)
    padding: dict | None = field(default=None, hash=False)  # {'mode': canonical, 'scope': str | list}
    coordconv: dict | None = field(default=None, hash=False)  # {'sites': [...], 'with_r': bool}
    solo_coords: bool = True
    cfg_options: dict = field(default_factory=dict, hash=False)  # grid-level, updated by the variant's
    description: str = ''
    # Where the backbone's weights come from (harness/run/pretrain.py): 'imagenet' (the base config's own
    # init_cfg), 'matched' (an mmpretrain classifier pretrained with this variant's backbone padding,
    # settings in `pretrain`) or 'scratch' (random init).
    init: str = 'imagenet'
    pretrain: dict | None = field(default=None, hash=False)  # {config, data_root, seed, cfg_options, cache_dir}


@dataclass(frozen=True)
class PlannedRun:
    """One run a grid plans: a variant at a seed, in `<work dir>/<grid>/<name>/` (what it leaves is read back
    as harness.report.finished_runs.FinishedRun)."""

    grid: str
    variant: Variant
    seed: int
    name: str


@dataclass
class Grid:
    name: str
    path: Path
    description: str
    seeds: list
    metrics: list
    references: dict
    variants: list
    baseline: str
    border: bool = False  # evaluate with the border-stratified metrics (harness/evaluation/)
    probe: dict | None = None  # PROBE_DEFAULTS-like settings: run the position probe on every trained backbone
    vis_backends: list = field(default_factory=list)  # 'wandb' / 'mlflow' / mmengine backend dicts (engine/tracking.py)
    # the comparisons judged as one family in the report: [{'variant': name, 'metric': key or None (all)}];
    # empty: every headline comparison (harness/report/family.py)
    primary: list = field(default_factory=list)

    def variant(self, name: str) -> Variant:
        """The variant called `name` (KeyError if none)."""
        return {v.name: v for v in self.variants}[name]

    def runs(self, only: str | list[str] | None = None) -> list[PlannedRun]:
        """Variants × seeds in file order; `only` (a glob or list of globs) keeps runs whose run name
        or variant name matches."""
        runs = [PlannedRun(self.name, v, s, f'{v.name}_seed{s}') for v in self.variants for s in self.seeds]
        if only is None:
            return runs
        globs = [only] if isinstance(only, str) else list(only)
        kept = [r for r in runs if any(fnmatch.fnmatchcase(n, g) for g in globs for n in (r.name, r.variant.name))]
        if not kept:
            raise ConfigError(
                f'{self.path}: only: {", ".join(map(repr, globs))} matches no run; expected a glob '
                f'over variant names ({", ".join(v.name for v in self.variants)}) '
                f'or run names ({", ".join(r.name for r in runs)})'
            )
        return kept

    @classmethod
    def from_dict(cls, d: dict, source: str = '<resolved grid>') -> 'Grid':
        """Rebuild a grid written by `dump_resolved` (no file checks: bases may live elsewhere)."""
        try:
            if d.get('format') != RESOLVED_FORMAT:
                raise ConfigError(f'{source}: format: got {_show(d.get("format"))}; expected {RESOLVED_FORMAT!r}')
            variants = [Variant(**{**v, 'base': _base_from_str(v['base'])}) for v in d['variants']]
            return cls(
                d['name'],
                Path(d['path']),
                d['description'],
                list(d['seeds']),
                list(d['metrics']),
                dict(d['references']),
                variants,
                d['baseline'],
                d.get('border', False),
                probe_settings(d.get('probe')),
                list(d.get('vis_backends', [])),
                list(d.get('primary', [])),
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise ConfigError(
                f'{source}: malformed resolved grid ({type(e).__name__}: {e}); expected the output of dump_resolved'
            ) from None


def probe_settings(value):
    """Probe settings from grid.json (what `dump_resolved` wrote): None when off, else a mapping whose missing
    keys take the defaults."""
    return None if value is None else {**copy.deepcopy(PROBE_DEFAULTS), **value}


def _show(value, limit=60):
    text = one_line(repr(value))
    return text if len(text) <= limit else text[: limit - 3] + '...'


def _base_from_str(base):
    return base if base.startswith(PACKAGE_SCOPES) else Path(base)
