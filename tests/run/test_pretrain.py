"""Backbone initialisation designs (grid `init: imagenet | matched | scratch`) and the matched-pretraining
stage: grid keys, classifier padding, key-for-key loading per mode, the padding-mismatch refusal, the
scratch checks, and the smoke grid pretrain -> detection with its cache (harness/run/pretrain.py)."""

import json
import subprocess
import sys

import pytest
import torch
import yaml
from mmengine.runner.checkpoint import _load_checkpoint_with_prefix

from harness.configs import read_config
from harness.errors import ConfigError
from harness.grid.schema import load_grid
from harness.patch import PADDING_MODES
from harness.patch.provenance import META_KEY
from harness.paths import REPO_ROOT as REPO
from harness.report.write import write_report
from harness.run.config import check_model
from harness.run.init_design import (
    apply_init,
    check_scratch_backbone,
    classifier_config,
    classifier_padding,
    content_key,
)

TINY = str(REPO / 'configs/pretrain/resnet18-w16_1xb16_tiny-quadrants.py')
SMOKE_GRID = REPO / 'configs/ablations/pretrain_smoke.yaml'
# the smoke Mask R-CNN at the classifier's quarter width, as configs/ablations/pretrain_smoke.yaml sets it
WIDTHS = {
    'model.backbone.stem_channels': 16,
    'model.backbone.base_channels': 16,
    'model.neck.in_channels': [16, 32, 64, 128],
}


def _spec(**kw):
    return {'config': TINY, 'seed': 0, 'cfg_options': {}, **kw}


def _save_classifier(tmp_path, padding, cfg_options=None):
    """Build the tiny classifier with `padding` and save it as a harness checkpoint would be saved."""
    cfg = classifier_config(_spec(cfg_options=cfg_options or {}), classifier_padding(padding))
    model = check_model('classifier', cfg)
    path = tmp_path / f'classifier-{padding["mode"]}.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {META_KEY: model.harness_report}}, path)
    return model, path


def _downstream(base, padding, checkpoint, options):
    cfg = read_config(str(REPO / base))
    cfg.merge_from_dict(options)
    cfg.model.padding = padding
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(checkpoint), prefix='backbone.')
    return check_model('downstream', cfg)


@pytest.mark.parametrize(
    'padding, expected',
    [
        (None, {'mode': 'zeros', 'scope': 'backbone'}),
        ({'mode': 'circular', 'scope': 'all'}, {'mode': 'circular', 'scope': 'backbone'}),
        ({'mode': 'reflect', 'scope': ['backbone', 'neck']}, {'mode': 'reflect', 'scope': 'backbone'}),
        ({'mode': 'none', 'scope': 'neck', 'resample': 'input'}, {'mode': 'zeros', 'scope': 'backbone'}),
        (
            {'mode': 'none', 'scope': ['neck.*', 'backbone.layer4.*'], 'resample': 'input'},
            {'mode': 'none', 'scope': ['backbone.layer4.*'], 'resample': 'input'},
        ),
    ],
)
def test_classifier_padding_is_the_backbone_part_of_the_variant(padding, expected):
    assert classifier_padding(padding) == expected


def test_cache_key_follows_content_not_names():
    a = classifier_config(_spec(), classifier_padding({'mode': 'circular', 'scope': 'all'}))
    b = classifier_config(_spec(), classifier_padding({'mode': 'circular', 'scope': 'backbone'}))
    c = classifier_config(_spec(seed=1), classifier_padding({'mode': 'circular', 'scope': 'all'}))
    d = classifier_config(_spec(), classifier_padding({'mode': 'reflect', 'scope': 'all'}))
    e = classifier_config(_spec(cfg_options={'train_cfg.max_iters': 5}), classifier_padding(None))
    assert content_key(a) == content_key(b)  # same backbone patch: one pretraining
    assert len({content_key(x) for x in (a, c, d, e)}) == 4


@pytest.mark.parametrize('mode', PADDING_MODES)
def test_matched_backbone_loads_key_for_key_into_mask_rcnn(tmp_path, mode):
    classifier, path = _save_classifier(tmp_path, {'mode': mode, 'scope': 'all'})
    model = _downstream('configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py', dict(mode=mode, scope='all'), path, WIDTHS)
    loaded = _load_checkpoint_with_prefix('backbone.', str(path))
    assert set(loaded) == set(model.backbone.state_dict())  # no missing, no unexpected backbone key
    model.init_weights()  # mmengine's PretrainedInit, as the Runner runs it
    theirs = classifier.backbone.state_dict()
    for name, value in model.backbone.state_dict().items():
        assert torch.equal(value, theirs[name]), name


@pytest.mark.parametrize('mode', ['zeros', 'circular'])
def test_mmseg_resnetv1c_classifier_loads_key_for_key_into_fcn(tmp_path, mode):
    options = {
        'model.backbone': dict(
            _delete_=True,
            type='mmseg.ResNetV1c',
            depth=18,
            out_indices=(3,),
            stem_channels=16,
            base_channels=16,
            norm_cfg=dict(type='BN'),
        )
    }
    classifier, path = _save_classifier(tmp_path, {'mode': mode, 'scope': 'backbone'}, options)
    model = _downstream(
        'configs/smoke/fcn_r18-d8_tiny-cityscapes.py',
        dict(mode=mode, scope='backbone'),
        path,
        {
            'model.backbone.stem_channels': 16,
            'model.backbone.base_channels': 16,
            'model.decode_head.in_channels': 128,
            'model.auxiliary_head.in_channels': 64,
        },
    )
    assert set(_load_checkpoint_with_prefix('backbone.', str(path))) == set(model.backbone.state_dict())
    model.init_weights()
    theirs = classifier.backbone.state_dict()
    assert all(torch.equal(v, theirs[k]) for k, v in model.backbone.state_dict().items())


def test_backbone_pretrained_with_other_padding_is_refused(tmp_path):
    _, zeros = _save_classifier(tmp_path, {'mode': 'zeros', 'scope': 'all'})
    with pytest.raises(ConfigError, match=r'pretrained with padding zeros .*pads its backbone with circular on'):
        _downstream('configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py', dict(mode='circular', scope='all'), zeros, WIDTHS)
    _, circular = _save_classifier(tmp_path, {'mode': 'circular', 'scope': 'all'})
    with pytest.raises(ConfigError, match='pretrained with padding circular on 18 backbone layers'):
        _downstream('configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py', dict(mode='reflect', scope='all'), circular, WIDTHS)
    # the stem conv, its max-pool and 16 3x3 convs) through the CLI: one `error:` line, exit 2
    options = [f'{k}={json.dumps(v).replace(" ", "")}' for k, v in WIDTHS.items()]
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / 'tools/train.py'),
            str(REPO / 'configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py'),
            '--work-dir',
            str(tmp_path / 'wd'),
            '--no-data-check',
            '--cfg-options',
            *options,
            'model.padding.mode=circular',
            'model.backbone.init_cfg._delete_=True',  # base: None
            'model.backbone.init_cfg.type=Pretrained',
            f'model.backbone.init_cfg.checkpoint={zeros}',
            'model.backbone.init_cfg.prefix=backbone.',
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.startswith('error: ') and proc.stderr.count('\n') == 1, proc.stderr
    assert 'pretrained with padding zeros' in proc.stderr and str(zeros) in proc.stderr


def test_scratch_removes_pretrained_weights_and_refuses_frozen_random_layers():
    class V:  # the fields of a grid Variant that apply_init reads
        name, init = 'v', 'scratch'

    cfg = apply_init(read_config(str(REPO / 'configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py')), V())
    assert cfg.model.backbone.init_cfg is None and 'Pretrained' not in cfg.pretty_text
    seg = apply_init(read_config(str(REPO / 'configs/deeplabv3/deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024.py')), V())
    assert seg.model.pretrained is None and seg.model.backbone.init_cfg is None
    smoke = check_model('smoke', read_config(str(REPO / 'configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py')))
    with pytest.raises(ConfigError, match='norm_eval=True'):  # mmdet's ImageNet fine-tuning defaults
        check_scratch_backbone('smoke', smoke.backbone)
    smoke.backbone.norm_eval = False
    with pytest.raises(ConfigError, match='frozen_stages=1'):
        check_scratch_backbone('smoke', smoke.backbone)
    scratch = check_model(
        'scratch', read_config(str(REPO / 'configs/scratch/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py'))
    )
    check_scratch_backbone('scratch', scratch.backbone)  # GroupNorm, nothing frozen: mmdet's recipe passes


def _grid(tmp_path, data, **changes):
    path = tmp_path / f'{changes.get("name", "g")}.yaml'
    path.write_text(yaml.safe_dump({**data, **changes}))
    return path


@pytest.mark.parametrize(
    'change, message',
    [
        ({'init': 'imagenet1k'}, 'init: got'),
        ({'pretrain': None}, 'pretrain: got None'),
        ({'pretrain': {'data_root': 'x'}}, 'pretrain.config: missing required key'),
        ({'pretrain': {'config': 'nope.py'}}, "pretrain.config: config file 'nope.py' not found"),
        ({'pretrain': {'config': TINY, 'epochs': 3}}, 'pretrain: unknown key'),
        ({'init': 'scratch'}, 'pretrain: given, but no variant has init matched'),
    ],
)
def test_bad_init_and_pretrain_keys_are_one_line_errors(tmp_path, change, message):
    data = yaml.safe_load(SMOKE_GRID.read_text())
    with pytest.raises(ConfigError, match=message):
        load_grid(_grid(tmp_path, data, **change))
    data.pop('pretrain')
    with pytest.raises(ConfigError, match='pretrain: missing required key'):
        load_grid(_grid(tmp_path, data))


def _quadrant_classifier(mode, data_root, work_dir):
    """Train the shipped tiny quadrant config (R-18 at quarter width, random init, 160 iterations) with
    `mode` on every padded layer, max-pool included, in a real mmengine Runner."""
    from mmengine.runner import Runner

    cfg = classifier_config(_spec(data_root=str(data_root)), {'mode': mode, 'scope': 'all'})
    cfg.work_dir = str(work_dir)
    runner = Runner.from_cfg(cfg)
    runner.train()
    top1 = runner.test()['accuracy/top1']
    n = len(runner.test_dataloader.dataset)
    return runner.model.eval(), round(top1 * n / 100), n


def test_quadrant_check_zeros_learns_position_circular_stays_at_chance(repo_tiny_data, tmp_path, capsys):
    """Kayhan & van Gemert's test (CVPR 2020): which quadrant holds an identical object. With zero padding
    the border tells; with circular padding everywhere (pools included), global average pooling and a
    64-px input (half of it a multiple of the total stride 32) a half-image shift maps each class onto
    another and changes no logit, so the classifier cannot beat chance (1/4). Pinned: 95% Wilson
    intervals over the test images."""
    from scipy.stats import binomtest

    data_root = repo_tiny_data / 'tiny_quadrants'
    found = {}
    for mode in ('zeros', 'circular'):
        model, k, n = _quadrant_classifier(mode, data_root, tmp_path / mode)
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method='wilson')
        found[mode] = (k / n, ci.low, ci.high, n)
        x = torch.randn(8, 3, 64, 64)
        with torch.no_grad():
            logits, shifted = (model(t, mode='tensor') for t in (x, torch.roll(x, (32, 32), dims=(2, 3))))
        found[mode] += (float((logits - shifted).abs().max()),)
    with capsys.disabled():
        for mode, (acc, low, high, n, shift) in found.items():
            print(
                f'\nquadrant check {mode}: top-1 {acc:.3f} (95% Wilson {low:.3f}-{high:.3f}, n={n}), '
                f'max logit change under a half-image circular shift {shift:.2e}'
            )
    acc, low, high, n, shift = found['zeros']
    assert low > 0.25 and shift > 1e-3  # position learned, from the border
    acc, low, high, n, shift = found['circular']
    assert low <= 0.25 <= high and shift < 1e-4  # exactly blind to the half shift: at chance


def test_pretrain_smoke_grid_trains_once_caches_and_reports(repo_tiny_data, tmp_path):
    """configs/ablations/pretrain_smoke.yaml at a few iterations: one classifier per backbone padding is
    trained, each downstream run starts from its own, the report says how; a second grid with the same
    pretraining trains no classifier."""
    from harness.launch.runner import GridRunner

    data = yaml.safe_load(SMOKE_GRID.read_text())
    data['base'] = str(REPO / data['base'])
    data['pretrain'].update(
        config=str(REPO / data['pretrain']['config']),
        cache_dir=str(tmp_path / 'cache'),
        data_root=str(repo_tiny_data / 'tiny_quadrants'),
        cfg_options={'train_cfg.max_iters': 4, 'default_hooks.checkpoint.interval': 4},
    )
    data['cfg_options'].update({'train_cfg.max_iters': 4, 'default_hooks.checkpoint.interval': 4})
    lines = []
    GridRunner(_grid(tmp_path, data), tmp_path / 'wd', log=lines.append).run()
    write_report(tmp_path / 'wd' / 'pretrain_smoke', tmp_path / 'report')  # what the CLI does after the runs
    entries = sorted((tmp_path / 'cache').iterdir())
    assert [e.name.split('_')[-2] for e in entries] == ['circular', 'zeros']
    records = {e.name: json.loads((e / 'pretrain.json').read_text()) for e in entries}
    for name, rec in records.items():
        assert rec['status'] == 'done' and rec['iterations'] == 4 and 0 <= rec['top1'] <= 100, rec
        meta = torch.load(rec['checkpoint'], weights_only=False)['meta']
        assert (
            meta[META_KEY]['padding']['mode'] == name.split('_')[-2] and meta['harness_pretrain']['top1'] == rec['top1']
        )
    report = (tmp_path / 'report' / 'report.md').read_text()
    assert 'Backbone initialisation' in report
    for variant, design in (('zeros', 'matched'), ('circular', 'matched'), ('circular-scratch', 'scratch')):
        result = json.loads((tmp_path / 'wd' / 'pretrain_smoke' / f'{variant}_seed0' / 'results.json').read_text())
        assert result['status'] == 'done' and result['meta']['init']['design'] == design, result
        if design == 'matched':
            rec = next(r for n, r in records.items() if n.split('_')[-2] == variant)
            assert result['meta']['init']['checkpoint'] == rec['checkpoint']
            assert result['meta']['init']['pretrain']['top1'] == rec['top1']
            assert f'{rec["top1"]:.1f}%' in report
        else:
            assert result['meta']['init']['checkpoint'] is None and result['meta']['init']['pretrain'] is None
    before = {e.name: (e / 'backbone.pth').stat().st_mtime_ns for e in entries}
    lines.clear()
    again = dict(data, name='pretrain_smoke_again', variants=[data['variants'][1]], baseline='circular')
    GridRunner(_grid(tmp_path, again, name='again'), tmp_path / 'wd', log=lines.append).run()
    assert not any('pretraining for' in line for line in lines), lines
    assert any('cached (done' in line for line in lines), lines
    assert before == {e.name: (e / 'backbone.pth').stat().st_mtime_ns for e in entries}
