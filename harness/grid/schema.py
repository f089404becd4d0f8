"""Reading a grid file: YAML that is data, never code, checked field by field before anything runs.

The file is read with a `SafeLoader` (python tags are refused) that also refuses a key given twice,
and every field is checked here, once, so the training and report tools can trust what they get.
Each problem is one `ConfigError` line, `<file>: <field path>: <what is wrong>; expected <what>`, in
the spirit of nanoGPT's "overrides that fail loudly on unknown keys".
"""

import copy
import difflib
import re
from pathlib import Path

import yaml

from ..errors import ConfigError, one_line
from ..patch.spec import KEYS as PADDING_KEYS
from ..patch.spec import PaddingSpec
from ..paths import REPO_ROOT
from .pretrain_settings import PretrainFields
from .probe_settings import ProbeFields
from .spec import PACKAGE_SCOPES, Grid, Variant, _show

GRID_KEYS = (
    'name',
    'description',
    'base',
    'baseline',
    'seeds',
    'metrics',
    'primary',
    'cfg_options',
    'references',
    'variants',
    'border',
    'probe',
    'init',
    'pretrain',
    'vis_backends',
)
VARIANT_KEYS = ('name', 'base', 'baseline', 'padding', 'coordconv', 'solo_coords', 'cfg_options', 'description', 'init')
COORDCONV_KEYS = ('sites', 'with_r')
_NAME_RE = re.compile(r'[A-Za-z0-9._-]+')
_PLAIN = (str, int, float, bool, type(None))


def load_grid(path: str | Path, root: str | Path | None = None) -> Grid:
    """Read, check and resolve a grid file; relative `base` paths are taken from `root` (repo root)."""
    return _Parser(Path(path), Path(root) if root is not None else REPO_ROOT).parse()


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping key given twice (PyYAML would silently keep the last value)."""


class _StrictLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that also refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != 'tag:yaml.org,2002:merge':
                if key_node.value in seen:
                    raise _DuplicateKeyError(None, None, f'duplicate key {key_node.value!r}', key_node.start_mark)
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


class _Parser(ProbeFields, PretrainFields):
    """Checks one grid file; `fail(where, what, expected)` is the only way an error leaves."""

    def __init__(self, path, root):
        self.path, self.root = path, root

    def fail(self, where, what, expected):
        raise ConfigError(one_line(f'{self.path}: {where}: {what}; expected {expected}'))

    def parse(self):
        data = self._read()
        self._keys(data, 'top level', GRID_KEYS)
        name = data.get('name', self.path.stem)
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            self.fail('name', f'got {_show(name)}', 'a string of letters, digits, ".", "_", "-" (default: file stem)')
        seeds = self._seeds(data.get('seeds', [0]))
        metrics = self._str_list(data.get('metrics', []), 'metrics', allow_empty=True)
        grid_opts = self._cfg_options(data.get('cfg_options', {}), 'cfg_options')
        grid_base = self._base(data['base'], 'base') if 'base' in data else None
        for key in ('baseline', 'variants'):
            if key not in data:
                self.fail(key, 'missing required key', f'a top-level {key!r}')
        raw = data['variants']
        if not isinstance(raw, list) or not raw:
            self.fail('variants', f'got {_show(raw)}', 'a non-empty list of variant mappings')
        parsed = [self._variant(v, f'variants[{i}]', grid_base, grid_opts) for i, v in enumerate(raw)]
        names = [p['name'] for p in parsed]
        for i, n in enumerate(names):
            if n in names[:i]:
                self.fail(f'variants[{i}].name', f'duplicate variant name {n!r}', 'unique variant names')
        baseline = self._variant_ref(data['baseline'], 'baseline', names)
        variants = []
        for i, p in enumerate(parsed):
            own = p.pop('baseline', None)
            ref = self._variant_ref(own, f'variants[{i}].baseline', names) if own is not None else baseline
            variants.append(Variant(baseline=ref, **p))
        variants = self._with_init(data, raw, variants)  # init / pretrain: grid_pretrain.py
        references = self._references(data.get('references', {}), names)
        primary = self._primary(data.get('primary', []), variants, metrics)
        description = self._text(data.get('description', ''), 'description')
        border, probe = self._bool(data.get('border', False), 'border'), self._probe(data.get('probe', False))
        return Grid(
            name,
            self.path.resolve(),
            description,
            seeds,
            metrics,
            references,
            variants,
            baseline,
            border,
            probe,
            self._vis_backends(data.get('vis_backends', [])),
            primary,
        )

    def _read(self):
        if not self.path.is_file():
            self.fail('grid file', f'not found (resolved to {self.path.resolve()})', 'an existing YAML file')
        try:
            data = yaml.load(self.path.read_text(encoding='utf-8'), Loader=_StrictLoader)
        except UnicodeDecodeError as e:
            self.fail('grid file', f'not UTF-8 text ({e.reason} at byte {e.start})', 'a UTF-8 YAML file')
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            where = f'line {mark.line + 1}, column {mark.column + 1}' if mark else 'YAML'
            problem = e.problem or e.context or 'invalid YAML'
            if isinstance(e, _DuplicateKeyError):
                self.fail(where, problem, 'each key once per mapping')
            if isinstance(e, yaml.constructor.ConstructorError):
                self.fail(where, problem, 'plain YAML data (python and other custom tags are not allowed)')
            self.fail(where, f'YAML syntax error: {problem}', 'valid YAML')
        except yaml.YAMLError as e:
            self.fail('grid file', f'YAML error: {e}', 'valid YAML')
        if not isinstance(data, dict):
            self.fail(
                'top level',
                f'got {"an empty file" if data is None else type(data).__name__}',
                f'a mapping with keys {", ".join(GRID_KEYS)}',
            )
        return data

    def _keys(self, d, where, allowed):
        for key in d:
            if key not in allowed:
                near = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f' (did you mean {near[0]!r}?)' if near else ''
                self.fail(where, f'unknown key {_show(key)}{hint}', f'only keys {", ".join(allowed)}')

    def _mapping(self, value, where, what):
        if not isinstance(value, dict):
            self.fail(where, f'got {_show(value)}', what)
        return value

    def _text(self, value, where):
        if not isinstance(value, str):
            self.fail(where, f'got {_show(value)}', 'a string')
        return value

    def _bool(self, value, where):
        if not isinstance(value, bool):
            self.fail(where, f'got {_show(value)}', 'true or false')
        return value

    def _str_list(self, value, where, allow_empty):
        if not isinstance(value, list) or not (value or allow_empty):
            self.fail(where, f'got {_show(value)}', f'a {"" if allow_empty else "non-empty "}list of strings')
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                self.fail(f'{where}[{i}]', f'got {_show(item)}', 'a non-empty string')
        return list(value)

    def _seeds(self, value, where='seeds'):
        if not isinstance(value, list) or not value:
            self.fail(where, f'got {_show(value)}', 'a non-empty list of distinct non-negative integers')
        for i, s in enumerate(value):
            if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                self.fail(f'{where}[{i}]', f'got {_show(s)}', 'a non-negative integer')
            if s in value[:i]:
                self.fail(f'{where}[{i}]', f'duplicate seed {s}', 'distinct seeds')
        return list(value)

    def _plain(self, value, where):
        """Refuse YAML values that JSON cannot hold (dates, sets, binary), so grid.json round-trips."""
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    self.fail(where, f'non-string key {_show(k)}', 'string keys')
                self._plain(v, f'{where}.{k}')
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self._plain(v, f'{where}[{i}]')
        elif not isinstance(value, _PLAIN):
            self.fail(
                where,
                f'got {type(value).__name__} {_show(value)}',
                'plain data (string, number, bool, null, list, mapping)',
            )

    def _cfg_options(self, value, where):
        self._mapping(value, where, 'a mapping of dotted keys to values, e.g. {train_cfg.max_iters: 20}')
        for key in value:
            if not isinstance(key, str) or not all(key.split('.')):
                self.fail(where, f'bad key {_show(key)}', 'dotted string keys like train_cfg.max_iters')
        self._plain(value, where)
        return copy.deepcopy(value)

    def _base(self, value, where):
        if not isinstance(value, str) or not value:
            self.fail(where, f'got {_show(value)}', 'a config path or an mmdet::/mmseg:: config name')
        if value.startswith(PACKAGE_SCOPES):
            return value
        resolved = (self.root / value).resolve()
        if not resolved.is_file():
            self.fail(
                where,
                f'config file {value!r} not found (resolved to {resolved})',
                f'an existing file (relative paths are taken from {self.root})',
            )
        return resolved

    def _variant_ref(self, value, where, names):
        if not isinstance(value, str) or value not in names:
            self.fail(where, f'{_show(value)} names no variant', f'one of {", ".join(names)}')
        return value

    def _variant(self, raw, where, grid_base, grid_opts):
        self._mapping(raw, where, f'a mapping with keys {", ".join(VARIANT_KEYS)}')
        self._keys(raw, where, VARIANT_KEYS)
        if 'name' not in raw:
            self.fail(f'{where}.name', 'missing required key', 'a variant name')
        name = raw['name']
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            self.fail(f'{where}.name', f'got {_show(name)}', 'a string of letters, digits, ".", "_", "-"')
        if 'base' in raw:
            base = self._base(raw['base'], f'{where}.base')
        elif grid_base is None:
            self.fail(f'{where}.base', 'missing required key', "a 'base' here or at the top level")
        else:
            base = grid_base
        out = {
            'name': name,
            'base': base,
            'padding': self._padding(raw['padding'], f'{where}.padding') if 'padding' in raw else None,
            'coordconv': self._coordconv(raw['coordconv'], f'{where}.coordconv') if 'coordconv' in raw else None,
            'solo_coords': self._bool(raw.get('solo_coords', True), f'{where}.solo_coords'),
            'cfg_options': {**grid_opts, **self._cfg_options(raw.get('cfg_options', {}), f'{where}.cfg_options')},
            'description': self._text(raw.get('description', ''), f'{where}.description'),
        }
        if 'baseline' in raw:
            out['baseline'] = raw['baseline']  # checked once every variant name is known
        return out

    def _padding(self, raw, where):
        self._mapping(raw, where, 'a mapping like {mode: none, scope: backbone}')
        self._keys(raw, where, PADDING_KEYS)
        if 'mode' not in raw:
            self.fail(f'{where}.mode', 'missing required key', 'a padding mode')
        if not isinstance(raw['mode'], str):
            self.fail(f'{where}.mode', f'got {_show(raw["mode"])}', 'a padding mode name')
        try:  # the setting itself: harness/patch/spec.py, as every other reader of one
            return PaddingSpec.parse(raw, f'{where}', presets_only=True).as_config()
        except ConfigError as e:
            raise ConfigError(one_line(f'{self.path}: {e}')) from None

    def _vis_backends(self, value):
        """Extra experiment trackers (TensorBoard is always on): 'wandb', 'mlflow', or mmengine backend mappings."""
        from ..engine.tracking import SHORT_NAMES

        expected = (
            f'a list of {", ".join(SHORT_NAMES)} or mappings like {{type: WandbVisBackend, init_kwargs: {{...}}}}'
        )
        if not isinstance(value, list):
            self.fail('vis_backends', f'got {_show(value)}', expected)
        for i, item in enumerate(value):
            if isinstance(item, dict) and isinstance(item.get('type'), str):
                self._plain(item, f'vis_backends[{i}]')
            elif item not in SHORT_NAMES:
                self.fail(f'vis_backends[{i}]', f'got {_show(item)}', expected)
        return list(value)

    def _coordconv(self, raw, where):
        self._mapping(raw, where, 'a mapping like {sites: [mask_head_first], with_r: false}')
        self._keys(raw, where, COORDCONV_KEYS)
        if 'sites' not in raw:
            self.fail(f'{where}.sites', 'missing required key', 'a list of site presets or module-name globs')
        return {
            'sites': self._str_list(raw['sites'], f'{where}.sites', allow_empty=False),
            'with_r': self._bool(raw.get('with_r', False), f'{where}.with_r'),
        }

    def _primary(self, value, variants, metrics):
        """The comparisons the report judges as one family (harness/report/family.py): [{variant, metric}],
        metric None for every headline metric of the variant. Each names a variant compared with another."""
        expected = (
            'a list of variant names or {variant: NAME, metric: KEY} mappings, each variant one that has '
            'a baseline other than itself'
        )
        if not isinstance(value, list):
            self.fail('primary', f'got {_show(value)}', expected)
        compared = [v.name for v in variants if v.baseline != v.name]
        out = []
        for i, entry in enumerate(value):
            where = f'primary[{i}]'
            if isinstance(entry, str):
                entry = {'variant': entry}
            self._mapping(entry, where, expected)
            self._keys(entry, where, ('variant', 'metric'))
            name, metric = entry.get('variant'), entry.get('metric')
            if name not in compared:
                self.fail(
                    f'{where}.variant',
                    f'got {_show(name)}',
                    f'one of the compared variants ({", ".join(compared) or "none: every variant is a baseline"})',
                )
            if metric is not None and (not isinstance(metric, str) or (metrics and metric not in metrics)):
                self.fail(
                    f'{where}.metric',
                    f'got {_show(metric)}',
                    f"one of the grid's metrics ({', '.join(metrics)})" if metrics else 'a metric key string',
                )
            if {'variant': name, 'metric': metric} in out:
                self.fail(where, f'{name} {metric or "(all metrics)"} listed twice', 'each comparison once')
            out.append({'variant': name, 'metric': metric})
        return out

    def _references(self, value, names):
        self._mapping(value, 'references', 'a mapping of variant name to {metric: value, source: ...}')
        for key, ref in value.items():
            self._variant_ref(key, f'references.{key}', names)
            self._mapping(ref, f'references.{key}', 'a mapping like {coco/bbox_mAP: 38.2, source: ...}')
            self._plain(ref, f'references.{key}')
        return copy.deepcopy(value)
