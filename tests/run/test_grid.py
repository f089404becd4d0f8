"""Grid files: a valid grid resolves to the runs we expect, and every malformed field is one ConfigError
line naming the file and the field.

Base configs are empty .py files in tmp_path (load_grid only checks they exist); no torch needed.
"""

import json
import re

import pytest

from harness.errors import ConfigError
from harness.grid import Grid, dump_resolved, load_grid, load_resolved
from harness.paths import REPO_ROOT

VALID = """\
name: coco_padding
description: padding ablation
base: configs/base.py
baseline: zeros
seeds: [0, 1]
metrics: [coco/bbox_mAP]
cfg_options: {train_cfg.max_iters: 20, model.backbone.depth: 50}
references: {zeros: {coco/bbox_mAP: 38.2, source: mmdet model zoo}}
variants:
  - name: zeros
  - name: none
    padding: {mode: none, scope: backbone}
  - name: zero-alias
    padding: {mode: zero}
  - name: coordconv-mask
    coordconv: {sites: [mask_head_first, 'roi_head.*']}
  - name: solo-nocoord
    base: configs/other.py
    solo_coords: false
    baseline: solo-coord
    cfg_options: {model.backbone.depth: 18}
  - name: solo-coord
    base: mmdet::solo/solo_r50_fpn_1x_coco.py
    padding: {mode: reflect, scope: [neck, 'backbone.layer1.*']}
"""


@pytest.fixture
def root(tmp_path):
    (tmp_path / 'configs').mkdir()
    for name in ('base.py', 'other.py'):
        (tmp_path / 'configs' / name).write_text('')
    return tmp_path


def _write(root, text, name='g.yaml'):
    path = root / name
    path.write_text(text)
    return path


def test_valid_grid_resolves(root):
    grid = load_grid(_write(root, VALID), root=root)
    assert grid.name == 'coco_padding' and grid.baseline == 'zeros' and grid.seeds == [0, 1]
    v = {x.name: x for x in grid.variants}
    assert list(v) == ['zeros', 'none', 'zero-alias', 'coordconv-mask', 'solo-nocoord', 'solo-coord']
    assert v['zeros'].base == (root / 'configs/base.py').resolve() and v['zeros'].base.is_absolute()
    assert v['solo-nocoord'].base == (root / 'configs/other.py').resolve()
    assert v['solo-coord'].base == 'mmdet::solo/solo_r50_fpn_1x_coco.py'
    # baselines: the grid's by default, the baseline's own is itself, per-variant overrides win
    assert v['zeros'].baseline == 'zeros' and v['none'].baseline == 'zeros'
    assert v['solo-nocoord'].baseline == 'solo-coord'
    # padding normalised: alias 'zero' -> 'zeros', default scope 'all', lists kept
    assert v['zeros'].padding is None
    assert v['none'].padding == {'mode': 'none', 'scope': 'backbone'}
    assert v['zero-alias'].padding == {'mode': 'zeros', 'scope': 'all'}
    assert v['solo-coord'].padding == {'mode': 'reflect', 'scope': ['neck', 'backbone.layer1.*']}
    assert v['coordconv-mask'].coordconv == {'sites': ['mask_head_first', 'roi_head.*'], 'with_r': False}
    assert v['solo-nocoord'].solo_coords is False and v['zeros'].solo_coords is True
    # cfg_options: variant keys override grid keys, the rest are inherited
    assert v['solo-nocoord'].cfg_options == {'train_cfg.max_iters': 20, 'model.backbone.depth': 18}
    assert v['none'].cfg_options == {'train_cfg.max_iters': 20, 'model.backbone.depth': 50}
    # runs: variants x seeds in file order
    assert [r.name for r in grid.runs()][:4] == ['zeros_seed0', 'zeros_seed1', 'none_seed0', 'none_seed1']
    assert len(grid.runs()) == 12
    run = grid.runs()[3]
    assert (run.grid, run.variant.name, run.seed) == ('coco_padding', 'none', 1)


def test_defaults(root):
    grid = load_grid(
        _write(root, 'base: configs/base.py\nbaseline: a\nvariants: [{name: a}]\n', 'my-grid.yaml'), root=root
    )
    assert (grid.name, grid.seeds, grid.metrics, grid.references, grid.description) == ('my-grid', [0], [], {}, '')
    assert [r.name for r in grid.runs()] == ['a_seed0']


def test_default_root_is_repository_root(tmp_path):
    repo = REPO_ROOT
    grid = load_grid(_write(tmp_path, 'base: setup.py\nbaseline: a\nvariants: [{name: a}]\n'))
    assert grid.variants[0].base == repo / 'setup.py'


@pytest.mark.parametrize(
    'only,expected',
    [
        ('none', ['none_seed0', 'none_seed1']),  # a variant name
        (
            '*_seed1',
            [
                'zeros_seed1',
                'none_seed1',
                'zero-alias_seed1',
                'coordconv-mask_seed1',
                'solo-nocoord_seed1',
                'solo-coord_seed1',
            ],
        ),  # run names
        ('solo-*', ['solo-nocoord_seed0', 'solo-nocoord_seed1', 'solo-coord_seed0', 'solo-coord_seed1']),
        ('zeros_seed0', ['zeros_seed0']),
        (['zeros', 'none_seed1'], ['zeros_seed0', 'zeros_seed1', 'none_seed1']),
    ],
)
def test_only_filters_runs(root, only, expected):
    assert [r.name for r in load_grid(_write(root, VALID), root=root).runs(only)] == expected


def test_only_matching_nothing_lists_names(root):
    grid = load_grid(_write(root, VALID), root=root)
    with pytest.raises(ConfigError, match=r"g\.yaml: only: 'nonez' matches no run; .*none.*zeros_seed0") as e:
        grid.runs('nonez')
    assert '\n' not in str(e.value)


def test_resolved_round_trip(root, tmp_path):
    grid = load_grid(_write(root, VALID), root=root)
    path = tmp_path / 'grid.json'
    path.write_text(json.dumps(dump_resolved(grid)))
    back = load_resolved(path)
    assert back == grid
    assert [r.name for r in back.runs()] == [r.name for r in grid.runs()]
    assert Grid.from_dict(json.loads(path.read_text())) == grid


def test_resolved_rejects_other_json(tmp_path):
    path = tmp_path / 'grid.json'
    path.write_text('{"name": "x"}')
    with pytest.raises(ConfigError, match=r'grid\.json: format'):
        load_resolved(path)


def test_python_tags_are_not_executed(root):
    target = root / 'pwned'
    text = f"base: !!python/object/apply:os.mkdir ['{target}']\nbaseline: a\nvariants: [{{name: a}}]\n"
    with pytest.raises(ConfigError, match=r'g\.yaml: line 1, column 7: .*python/object/apply'):
        load_grid(_write(root, text), root=root)
    assert not target.exists()


OK_HEAD = 'base: configs/base.py\nbaseline: a\n'
ERRORS = [  # (id, grid text (None: no file), expected field path, expected text)
    ('file-missing', None, 'grid file', 'not found'),
    ('yaml-syntax', 'variants: [a, b\nbaseline: a\n', r'line \d+, column \d+', 'YAML syntax error'),
    ('duplicate-yaml-key', OK_HEAD + 'baseline: b\nvariants: [{name: a}]\n', 'line 3, column 1', 'duplicate key'),
    ('top-level-list', '- a\n- b\n', 'top level', 'got list; expected a mapping'),
    ('empty-file', '', 'top level', 'an empty file'),
    (
        'unknown-top-key',
        OK_HEAD + 'seed: [1]\nvariants: [{name: a}]\n',
        'top level',
        r"unknown key 'seed' \(did you mean 'seeds'\?\); expected only keys name, description",
    ),
    (
        'unknown-variant-key',
        OK_HEAD + 'variants: [{name: a, paddin: {mode: none}}]\n',
        r'variants\[0\]',
        "unknown key 'paddin'",
    ),
    (
        'unknown-padding-key',
        OK_HEAD + 'variants: [{name: a, padding: {mode: none, scop: all}}]\n',
        r'variants\[0\]\.padding',
        "unknown key 'scop'",
    ),
    (
        'unknown-coordconv-key',
        OK_HEAD + 'variants: [{name: a, coordconv: {sites: [x], r: true}}]\n',
        r'variants\[0\]\.coordconv',
        "unknown key 'r'",
    ),
    ('missing-baseline', 'base: configs/base.py\nvariants: [{name: a}]\n', 'baseline', 'missing required key'),
    ('missing-variants', OK_HEAD, 'variants', 'missing required key'),
    (
        'missing-base',
        'baseline: a\nvariants: [{name: a, base: configs/base.py}, {name: b}]\n',
        r'variants\[1\]\.base',
        "missing required key; expected a 'base' here or at the top level",
    ),
    (
        'missing-variant-name',
        OK_HEAD + 'variants: [{name: a}, {padding: {mode: none}}]\n',
        r'variants\[1\]\.name',
        'missing required key',
    ),
    ('seeds-not-list', OK_HEAD + 'seeds: 0\nvariants: [{name: a}]\n', 'seeds', 'got 0; expected a non-empty list'),
    ('seeds-empty', OK_HEAD + 'seeds: []\nvariants: [{name: a}]\n', 'seeds', 'expected a non-empty list'),
    ('seed-str', OK_HEAD + 'seeds: [0, "1"]\nvariants: [{name: a}]\n', r'seeds\[1\]', "got '1'"),
    ('seed-bool', OK_HEAD + 'seeds: [0, true]\nvariants: [{name: a}]\n', r'seeds\[1\]', 'got True'),
    ('seed-float', OK_HEAD + 'seeds: [1.0]\nvariants: [{name: a}]\n', r'seeds\[0\]', 'got 1.0'),
    ('seed-negative', OK_HEAD + 'seeds: [0, -1]\nvariants: [{name: a}]\n', r'seeds\[1\]', 'got -1'),
    ('seed-duplicate', OK_HEAD + 'seeds: [0, 1, 0]\nvariants: [{name: a}]\n', r'seeds\[2\]', 'duplicate seed 0'),
    ('name-not-str', OK_HEAD + 'name: 3\nvariants: [{name: a}]\n', 'name', 'got 3'),
    ('description-not-str', OK_HEAD + 'description: [x]\nvariants: [{name: a}]\n', 'description', 'expected a string'),
    ('variants-empty', OK_HEAD + 'variants: []\n', 'variants', 'expected a non-empty list'),
    ('variants-mapping', OK_HEAD + 'variants: {a: {}}\n', 'variants', 'expected a non-empty list'),
    ('variant-not-mapping', OK_HEAD + 'variants: [a]\n', r'variants\[0\]', "got 'a'; expected a mapping"),
    (
        'variant-duplicate',
        OK_HEAD + 'variants: [{name: a}, {name: b}, {name: a}]\n',
        r'variants\[2\]\.name',
        "duplicate variant name 'a'",
    ),
    (
        'variant-name-chars',
        'base: configs/base.py\nbaseline: a\nvariants: [{name: a}, {name: "b/c"}]\n',
        r'variants\[1\]\.name',
        "got 'b/c'; expected a string of letters",
    ),
    ('variant-name-not-str', OK_HEAD + 'variants: [{name: a}, {name: 7}]\n', r'variants\[1\]\.name', 'got 7'),
    (
        'baseline-unknown',
        'base: configs/base.py\nbaseline: zero\nvariants: [{name: zeros}]\n',
        'baseline',
        "'zero' names no variant; expected one of zeros",
    ),
    (
        'variant-baseline-unknown',
        OK_HEAD + 'variants: [{name: a}, {name: b, baseline: c}]\n',
        r'variants\[1\]\.baseline',
        "'c' names no variant; expected one of a, b",
    ),
    (
        'base-file-missing',
        'base: configs/nope.py\nbaseline: a\nvariants: [{name: a}]\n',
        'base',
        r"config file 'configs/nope\.py' not found \(resolved to .*/configs/nope\.py\)",
    ),
    (
        'variant-base-file-missing',
        OK_HEAD + 'variants: [{name: a, base: nope.py}]\n',
        r'variants\[0\]\.base',
        r"config file 'nope\.py' not found \(resolved to .*nope\.py\)",
    ),
    ('base-not-str', 'base: [configs/base.py]\nbaseline: a\nvariants: [{name: a}]\n', 'base', 'got'),
    (
        'metrics-not-list',
        OK_HEAD + 'metrics: coco/bbox_mAP\nvariants: [{name: a}]\n',
        'metrics',
        'expected a list of strings',
    ),
    ('metrics-not-str', OK_HEAD + 'metrics: [coco/bbox_mAP, 3]\nvariants: [{name: a}]\n', r'metrics\[1\]', 'got 3'),
    (
        'padding-not-mapping',
        OK_HEAD + 'variants: [{name: a, padding: none}]\n',
        r'variants\[0\]\.padding',
        "got 'none'; expected a mapping",
    ),
    (
        'padding-mode-unknown',
        OK_HEAD + 'variants: [{name: a}, {name: b, padding: {mode: zero-ish}}]\n',
        r'variants\[1\]\.padding\.mode',
        "unknown padding mode 'zero-ish'; expected one of zeros, none",
    ),
    (
        'padding-mode-missing',
        OK_HEAD + 'variants: [{name: a, padding: {scope: all}}]\n',
        r'variants\[0\]\.padding\.mode',
        'missing required key',
    ),
    (
        'padding-mode-not-str',
        OK_HEAD + 'variants: [{name: a, padding: {mode: [none]}}]\n',
        r'variants\[0\]\.padding\.mode',
        r"got \['none'\]",
    ),
    (
        'padding-scope-unknown',
        OK_HEAD + 'variants: [{name: a, padding: {mode: none, scope: backbones}}]\n',
        r'variants\[0\]\.padding\.scope',
        "got 'backbones'; expected one of backbone, neck, head, all, patch_embed, mixffn, dwconv or a list",
    ),
    (
        'padding-scope-empty',
        OK_HEAD + 'variants: [{name: a, padding: {mode: none, scope: []}}]\n',
        r'variants\[0\]\.padding\.scope',
        'expected a non-empty list',
    ),
    (
        'padding-scope-item',
        OK_HEAD + 'variants: [{name: a, padding: {mode: none, scope: [neck, ""]}}]\n',
        r'variants\[0\]\.padding\.scope\[1\]',
        'expected a non-empty string',
    ),
    (
        'padding-resample-unknown',
        OK_HEAD + 'variants: [{name: a, padding: {mode: none, resample: cubic}}]\n',
        r'variants\[0\]\.padding\.resample',
        "unknown resample rule 'cubic'; expected one of input, output, output-corners, replicate",
    ),
    (
        'padding-resample-not-none',
        OK_HEAD + 'variants: [{name: a, padding: {mode: reflect, resample: input}}]\n',
        r'variants\[0\]\.padding\.resample',
        "got 'input' with mode 'reflect'; expected resample only with mode none",
    ),
    (
        'with-r-not-bool',
        OK_HEAD + 'variants: [{name: a, coordconv: {sites: [x], with_r: 1}}]\n',
        r'variants\[0\]\.coordconv\.with_r',
        'got 1; expected true or false',
    ),
    (
        'sites-empty',
        OK_HEAD + 'variants: [{name: a, coordconv: {sites: []}}]\n',
        r'variants\[0\]\.coordconv\.sites',
        'expected a non-empty list of strings',
    ),
    (
        'sites-str',
        OK_HEAD + 'variants: [{name: a, coordconv: {sites: mask_head_first}}]\n',
        r'variants\[0\]\.coordconv\.sites',
        'expected a non-empty list of strings',
    ),
    (
        'sites-missing',
        OK_HEAD + 'variants: [{name: a, coordconv: {with_r: true}}]\n',
        r'variants\[0\]\.coordconv\.sites',
        'missing required key',
    ),
    (
        'solo-coords-not-bool',
        OK_HEAD + 'variants: [{name: a, solo_coords: "no"}]\n',
        r'variants\[0\]\.solo_coords',
        "got 'no'; expected true or false",
    ),
    (
        'cfg-options-not-mapping',
        OK_HEAD + 'cfg_options: [a=1]\nvariants: [{name: a}]\n',
        'cfg_options',
        'expected a mapping of dotted keys',
    ),
    (
        'cfg-options-int-key',
        OK_HEAD + 'cfg_options: {1: 2}\nvariants: [{name: a}]\n',
        'cfg_options',
        'bad key 1; expected dotted string keys',
    ),
    (
        'cfg-options-empty-part',
        OK_HEAD + 'cfg_options: {a..b: 2}\nvariants: [{name: a}]\n',
        'cfg_options',
        "bad key 'a..b'",
    ),
    (
        'variant-cfg-options',
        OK_HEAD + 'variants: [{name: a, cfg_options: 3}]\n',
        r'variants\[0\]\.cfg_options',
        'got 3; expected a mapping',
    ),
    (
        'cfg-options-date',
        OK_HEAD + 'cfg_options: {a: 2024-01-01}\nvariants: [{name: a}]\n',
        r'cfg_options\.a',
        'got date',
    ),
    (
        'references-unknown-variant',
        OK_HEAD + 'references: {b: {x: 1}}\nvariants: [{name: a}]\n',
        r'references\.b',
        "'b' names no variant",
    ),
    (
        'references-not-mapping',
        OK_HEAD + 'references: {a: 38.2}\nvariants: [{name: a}]\n',
        r'references\.a',
        'got 38.2; expected a mapping',
    ),
    (
        'probe-not-bool-or-mapping',
        OK_HEAD + 'probe: yes please\nvariants: [{name: a}]\n',
        'probe',
        "got 'yes please'; expected true, false, or a mapping",
    ),
    (
        'probe-unknown-key',
        OK_HEAD + 'probe: {seed: [1]}\nvariants: [{name: a}]\n',
        'probe',
        r"unknown key 'seed' \(did you mean 'seeds'\?\); expected only keys size, images, seeds, max_images",
    ),
    (
        'probe-size-one-side',
        OK_HEAD + 'probe: {size: [96]}\nvariants: [{name: a}]\n',
        r'probe\.size',
        r'got \[96\]; expected \[height, width\] in pixels',
    ),
    (
        'probe-size-too-small',
        OK_HEAD + 'probe: {size: 4}\nvariants: [{name: a}]\n',
        r'probe\.size',
        r'got \[4, 4\]; expected .*at least 8',
    ),
    (
        'probe-images-unknown',
        OK_HEAD + 'probe: {images: vall}\nvariants: [{name: a}]\n',
        r'probe\.images',
        r"'vall' is neither val nor synthetic, and no such folder \(resolved to .*/vall\); expected val",
    ),
    (
        'probe-images-item',
        OK_HEAD + 'probe: {images: [synthetic, nowhere/]}\nvariants: [{name: a}]\n',
        r'probe\.images\[1\]',
        "'nowhere/' is neither",
    ),
    (
        'probe-images-empty',
        OK_HEAD + 'probe: {images: []}\nvariants: [{name: a}]\n',
        r'probe\.images',
        'expected a non-empty list of strings',
    ),
    (
        'probe-seeds-duplicate',
        OK_HEAD + 'probe: {seeds: [0, 0]}\nvariants: [{name: a}]\n',
        r'probe\.seeds\[1\]',
        'duplicate seed 0',
    ),
    (
        'probe-seeds-not-list',
        OK_HEAD + 'probe: {seeds: 1}\nvariants: [{name: a}]\n',
        r'probe\.seeds',
        'got 1; expected a non-empty list',
    ),
    (
        'probe-max-images',
        OK_HEAD + 'probe: {max_images: 1}\nvariants: [{name: a}]\n',
        r'probe\.max_images',
        'got 1; expected an integer of at least 2',
    ),
    (
        'primary-baseline',
        OK_HEAD + 'primary: [a]\nvariants: [{name: a}, {name: b}]\n',
        r'primary\[0\]\.variant',
        r"got 'a'; expected one of the compared variants \(b\)",
    ),
    (
        'primary-unknown-metric',
        OK_HEAD + 'metrics: [mIoU]\nprimary: [{variant: b, metric: aAcc}]\nvariants: [{name: a}, {name: b}]\n',
        r'primary\[0\]\.metric',
        r"got 'aAcc'; expected one of the grid's metrics \(mIoU\)",
    ),
    (
        'primary-twice',
        OK_HEAD + 'primary: [b, {variant: b}]\nvariants: [{name: a}, {name: b}]\n',
        r'primary\[1\]',
        'b \\(all metrics\\) listed twice; expected each comparison once',
    ),
    (
        'primary-unknown-key',
        OK_HEAD + 'primary: [{variant: b, metrics: mIoU}]\nvariants: [{name: a}, {name: b}]\n',
        r'primary\[0\]',
        r"unknown key 'metrics' \(did you mean 'metric'\?\)",
    ),
]


def test_primary_comparisons_resolve_and_round_trip(root, tmp_path):
    grid = load_grid(
        _write(
            root,
            VALID.replace(
                'metrics: [coco/bbox_mAP]\n',
                'metrics: [coco/bbox_mAP]\nprimary: [none, {variant: solo-nocoord, metric: coco/bbox_mAP}]\n',
            ),
        ),
        root=root,
    )
    assert grid.primary == [{'variant': 'none', 'metric': None}, {'variant': 'solo-nocoord', 'metric': 'coco/bbox_mAP'}]
    path = tmp_path / 'grid.json'
    path.write_text(json.dumps(dump_resolved(grid)))
    assert load_resolved(path).primary == grid.primary


def test_none_resample_is_kept(root):
    grid = load_grid(
        _write(root, OK_HEAD + 'variants: [{name: a}, {name: b, padding: {mode: valid, resample: input}}]\n'), root=root
    )
    assert {v.name: v.padding for v in grid.variants}['b'] == {'mode': 'none', 'scope': 'all', 'resample': 'input'}


@pytest.mark.parametrize('text,field,what', [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_are_one_line_and_name_file_and_field(root, text, field, what):
    path = root / 'g.yaml' if text is None else _write(root, text)
    with pytest.raises(ConfigError, match=rf'^{re.escape(str(path))}: {field}: .*{what}') as e:
        load_grid(path, root=root)
    assert '\n' not in str(e.value)


# --------------------------------------------------------------------------- probe settings


def test_probe_settings(root):
    """`probe: true` is the defaults (training size, own val images, seed 0); a mapping sets any of them;
    a folder is resolved like a base config; off is None."""
    from harness.grid.spec import PROBE_DEFAULTS

    assert PROBE_DEFAULTS == {'size': None, 'images': ['val'], 'seeds': [0], 'max_images': 32}

    def probe(text):
        return load_grid(_write(root, OK_HEAD + text + 'variants: [{name: a}]\n'), root=root).probe

    assert probe('') is None and probe('probe: false\n') is None
    assert probe('probe: true\n') == PROBE_DEFAULTS
    assert probe('probe: {size: 96}\n') == dict(PROBE_DEFAULTS, size=[96, 96])
    assert probe('probe: {size: trained, seeds: [2, 0]}\n') == dict(PROBE_DEFAULTS, seeds=[2, 0])
    assert probe('probe: {size: [64, 128], images: synthetic, max_images: 8}\n') == dict(
        PROBE_DEFAULTS, size=[64, 128], images=['synthetic'], max_images=8
    )
    assert probe('probe: {images: [val, synthetic, configs]}\n')['images'] == [
        'val',
        'synthetic',
        str(root / 'configs'),
    ]


def test_probe_settings_round_trip(root, tmp_path):
    grid = load_grid(
        _write(root, OK_HEAD + 'probe: {size: [64, 96], images: [configs], seeds: [0, 1]}\nvariants: [{name: a}]\n'),
        root=root,
    )
    path = tmp_path / 'grid.json'
    path.write_text(json.dumps(dump_resolved(grid)))
    assert json.loads(path.read_text())['probe'] == {
        'size': [64, 96],
        'images': [str(root / 'configs')],
        'seeds': [0, 1],
        'max_images': 32,
    }
    assert load_resolved(path) == grid
    old = dump_resolved(grid)
    del old['probe']
    assert Grid.from_dict(old).probe is None
