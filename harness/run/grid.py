"""Ablation grids: a base config, a baseline and the variants to compare, times seeds, as runs.

A grid is read and checked from its YAML file by `grid_schema.load_grid`, saved resolved next to its
runs as grid.json and read back by `grid_json`; this module holds only what a grid *is*.
"""
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, one_line

PACKAGE_SCOPES = ('mmdet::', 'mmseg::')  # bases kept as strings; mmengine resolves them in the package
RESOLVED_FORMAT = 'posharness.grid/1'


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


@dataclass(frozen=True)
class Run:
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
    probe: bool = False  # run the position read-out probe on every trained backbone

    def variant(self, name):
        """The variant called `name` (KeyError if none)."""
        return {v.name: v for v in self.variants}[name]

    def runs(self, only=None):
        """Variants × seeds in file order; `only` (a glob or list of globs) keeps runs whose run name
        or variant name matches."""
        runs = [Run(self.name, v, s, f'{v.name}_seed{s}') for v in self.variants for s in self.seeds]
        if only is None:
            return runs
        globs = [only] if isinstance(only, str) else list(only)
        kept = [r for r in runs if any(fnmatch.fnmatchcase(n, g) for g in globs for n in (r.name, r.variant.name))]
        if not kept:
            raise ConfigError(f'{self.path}: only: {", ".join(map(repr, globs))} matches no run; expected a glob '
                              f'over variant names ({", ".join(v.name for v in self.variants)}) '
                              f'or run names ({", ".join(r.name for r in runs)})')
        return kept

    @classmethod
    def from_dict(cls, d, source='<resolved grid>'):
        """Rebuild a grid written by `dump_resolved` (no file checks: bases may live elsewhere)."""
        try:
            if d.get('format') != RESOLVED_FORMAT:
                raise ConfigError(f'{source}: format: got {_show(d.get("format"))}; expected {RESOLVED_FORMAT!r}')
            variants = [Variant(**{**v, 'base': _base_from_str(v['base'])}) for v in d['variants']]
            return cls(d['name'], Path(d['path']), d['description'], list(d['seeds']), list(d['metrics']),
                       dict(d['references']), variants, d['baseline'], d.get('border', False), d.get('probe', False))
        except (KeyError, TypeError, AttributeError) as e:
            raise ConfigError(f'{source}: malformed resolved grid ({type(e).__name__}: {e}); '
                              f'expected the output of dump_resolved') from None


def _show(value, limit=60):
    text = one_line(repr(value))
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _base_from_str(base):
    return base if base.startswith(PACKAGE_SCOPES) else Path(base)
