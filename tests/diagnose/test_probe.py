"""The position read-out probe (PosENet, Islam et al. ICLR 2020): targets, the zeros-vs-circular claim,
the raw-pixel control, trained run dirs as input, and one-line CLI errors."""

import json
import os

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from tool_loader import load_tool

from harness import convert_padding
from harness.diagnose import STRIPES, TARGETS, load_backbone, make_targets, probe_backbone, synthetic_inputs
from harness.patch import BorderMixin
from harness.paths import REPO_ROOT

ROOT = str(REPO_ROOT)
SMOKE = os.path.join(ROOT, 'configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py')
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def _tool():
    return load_tool('probe_position')


def test_targets_shapes_and_ranges():
    maps = make_targets(48, 64)
    assert list(maps) == list(TARGETS)
    for t, m in maps.items():
        assert m.shape == (48, 64) and m.min() >= 0 and m.max() <= 1, t
    h, v, g = maps['H'], maps['V'], maps['G']
    assert torch.equal(h[:, 0], torch.zeros(48)) and torch.equal(h[:, -1], torch.ones(48))
    assert (h == h[:1]).all() and (v == v[:, :1]).all() and v[0, 0] == 0 and v[-1, 0] == 1
    assert (g.max() - 1).abs() < 0.01 and g[24, 32] > 0.99 and g[0, 0] < 0.01

    # stripes: STRIPES 0 -> 1 ramps, down the image (HS) and across it (VS)
    def drops(line):
        return int((line[1:] < line[:-1]).sum())

    assert drops(maps['HS'][:, 0]) == STRIPES - 1 and (maps['HS'] == maps['HS'][:, :1]).all()
    assert drops(maps['VS'][0]) == STRIPES - 1 and maps['VS'].max() > 0.9
    small = make_targets(96, 96, out_size=(10, 12))
    assert all(m.shape == (10, 12) and 0 <= m.min() and m.max() <= 1 for m in small.values())
    assert small['H'][0, 0] < 0.1 and small['H'][0, -1] > 0.9


def _resnet18(mode, seed=0):
    init_default_scope('mmdet')
    torch.manual_seed(seed)
    backbone = MODELS.build(dict(type='ResNet', depth=18, init_cfg=None))
    backbone.init_weights()
    if mode != 'zeros':
        convert_padding(backbone, mode)
    backbone.eval()
    return backbone


@pytest.fixture(scope='module')
def zeros_and_circular():
    """One random-init ResNet-18 (same weights) probed with zero and with circular padding."""
    train, test = synthetic_inputs((96, 96), seed=0, n_noise_train=12, n_noise_test=6, greys=(32, 96, 160, 224))
    return {
        mode: probe_backbone(_resnet18(mode), train, test, MEAN, STD, iters=100, seed=0)
        for mode in ('zeros', 'circular')
    }


def test_zero_padding_encodes_position_and_circular_does_not(zeros_and_circular):
    zeros, circular = zeros_and_circular['zeros'], zeros_and_circular['circular']
    assert zeros['metrics']['probe/H_spc'] > circular['metrics']['probe/H_spc'] + 0.2, (zeros, circular)
    # the paper's strongest case: a constant image. Zero padding draws the ramps, circular cannot
    # (constant features give a constant prediction). Seeds 0-2 gave 0.89-0.95 for zeros here.
    for kind in ('black', 'white'):
        for target in ('H', 'V'):
            assert zeros['by_input'][kind][f'probe/{target}_spc'] > 0.5, (kind, target)
            assert circular['by_input'][kind][f'probe/{target}_spc'] == 0.0, (kind, target)


def test_raw_pixel_read_out_finds_no_position(zeros_and_circular):
    raw = zeros_and_circular['zeros']['raw_pixels']
    assert set(raw) == {f'probe/{t}_{m}' for t in TARGETS for m in ('spc', 'mae')}
    assert abs(raw['probe/H_spc']) < 0.2 and abs(raw['probe/V_spc']) < 0.2
    for kind, m in zeros_and_circular['zeros']['raw_by_input'].items():
        assert abs(m['probe/H_spc']) < 0.2, kind


@pytest.fixture
def run_dir(tmp_path):
    """A fake trained run: resolved config (circular padding, HarnessModel), a checkpoint, last_checkpoint."""
    cfg = Config.fromfile(SMOKE)
    cfg.model.padding = dict(mode='circular', scope='all')
    cfg.dump(str(tmp_path / 'config.py'))
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        model.backbone.conv1.weight.normal_(generator=torch.Generator().manual_seed(5))
    ckpt = tmp_path / 'iter_3.pth'
    # as training saves it: PatchReportHook puts the patch report in every checkpoint's meta
    torch.save({'state_dict': model.state_dict(), 'meta': {'harness_patch': model.harness_report}}, ckpt)
    (tmp_path / 'last_checkpoint').write_text(str(ckpt))
    return tmp_path, model.backbone.conv1.weight.detach().clone()


def test_run_dir_gives_the_trained_backbone_with_its_padding(run_dir, tmp_path, repo_tiny_data):
    path, conv1 = run_dir
    backbone, info = load_backbone(str(path))
    assert info['padding'] == 'circular' and info['checkpoint'] == str(path / 'iter_3.pth')
    assert isinstance(backbone.conv1, BorderMixin) and backbone.conv1.border_mode == 'circular'
    assert torch.equal(backbone.conv1.weight, conv1) and not backbone.training
    assert not any(p.requires_grad for p in backbone.parameters())
    # the CLI on the run dir: the fixed key names the report reads, written atomically
    out = tmp_path / 'probe.json'
    _tool().main([str(path), '--iters', '5', '--size', '64', '64', '--out', str(out)])
    result = json.loads(out.read_text())
    keys = {f'probe/{t}_{m}' for t in TARGETS for m in ('spc', 'mae')}
    assert set(result['metrics']) == keys and set(result['raw_pixels']) == keys
    assert result['padding'] == 'circular' and result['checkpoint'] == str(path / 'iter_3.pth')
    assert (result['iters'], result['seed'], result['inputs']['size']) == (5, 0, [64, 64])
    assert not [f for f in os.listdir(tmp_path) if '.tmp' in f]


def test_cli_bad_input_is_one_line(tmp_path, one_line_errors):
    no_ckpt = tmp_path / 'run'
    no_ckpt.mkdir()
    Config.fromfile(SMOKE).dump(str(no_ckpt / 'config.py'))
    cases = {
        'run dir without checkpoint': (
            [str(no_ckpt)],
            'run dir has no last_checkpoint (no checkpoint was saved); pass --checkpoint PTH',
        ),
        'unknown padding mode': ([SMOKE, '--padding', 'mirror'], "--padding: unknown padding mode 'mirror'"),
        'missing checkpoint': ([SMOKE, '--checkpoint', str(tmp_path / 'no.pth')], 'no.pth: file not found'),
    }
    tool = _tool()
    one_line_errors(
        tool.main,
        cases,
        'tools/probe_position.py',
        [str(tmp_path / 'nope.py')],
        'nope.py: not found; expected a config file or a run dir',
    )


# ------------------------------------------------------------------ what the probe looks at: sources, size, seeds


def _folder(path, n, size=(40, 60)):
    from PIL import Image

    path.mkdir(parents=True)
    for i in range(n):
        Image.new('RGB', (size[1], size[0]), (10 * i, 0, 0)).save(path / f'{i:02d}.png')
    return path


def test_probe_inputs_sources_sizes_and_caps(tmp_path):
    from harness.diagnose.probe_inputs import probe_inputs, probe_size, val_folder
    from harness.errors import ConfigError, DatasetError

    val = _folder(tmp_path / 'val' / 'city', 10)
    train = _folder(tmp_path / 'train', 1, size=(24, 48))
    cfg = Config(
        dict(
            train_dataloader=dict(
                dataset=dict(data_root=str(tmp_path), data_prefix=dict(img_path='train'), pipeline=[])
            ),
            test_dataloader=dict(dataset=dict(data_root=str(tmp_path), data_prefix=dict(img_path='val'))),
        )
    )
    assert val_folder(cfg) == os.path.join(str(tmp_path), 'val')
    assert probe_size(cfg) == (
        (24, 48),
        f'the training input size: as stored (no resize in the training pipeline; {train / "00.png"})',
    )
    assert probe_size(cfg, [16, 32]) == ((16, 32), 'set')
    # val: natural images only, at the probe size, at most max_images of them, split 3:1
    tr, te, used = probe_inputs(['val'], cfg, (16, 32), seed=0, max_images=8)
    assert (len(tr), len(te)) == (6, 2) and all(k == 'natural' and im.shape == (3, 16, 32) for k, im in tr + te)
    assert used == [dict(source='val', folder=os.path.join(str(tmp_path), 'val'), train=6, test=2)]
    # another seed draws other images; synthetic: the paper's images; sources add up in order
    other = probe_inputs(['val'], cfg, (16, 32), seed=1, max_images=8)[0]
    assert sorted(int(im[0, 0, 0]) for _, im in tr) != sorted(int(im[0, 0, 0]) for _, im in other)
    tr, te, used = probe_inputs(['synthetic', str(val)], cfg, (16, 32), seed=0)
    assert [u['train'] for u in used] == [30, 8] and [u['test'] for u in used] == [10, 2]
    assert {k for k, _ in te[:10]} == {'black', 'white', 'noise'} and {k for k, _ in te[10:]} == {'natural'}
    with pytest.raises(
        DatasetError,
        match=r"^probe images val: the config's evaluation images .*nowhere: folder not "
        r'found; expected a folder',
    ):
        probe_inputs(
            ['val'], Config(dict(test_dataloader=dict(dataset=dict(data_root=str(tmp_path / 'nowhere'))))), (16, 32), 0
        )
    with pytest.raises(
        ConfigError,
        match=r'^probe size: cannot tell the size the config trains at \(the config has no '
        r'train_dataloader\.dataset\); expected a size',
    ):
        probe_size(Config(dict()))


def test_cli_defaults_to_the_training_size_and_own_val_images(run_dir, tmp_path, repo_tiny_data):
    """The smoke Mask R-CNN trains on data/tiny_coco's 128x128 images as stored and is evaluated on its
    16 val images: with no --size / --images the probe uses exactly those (12 read-out train, 4 test)."""
    path, _ = run_dir
    out = _tool().main([str(path), '--iters', '3'])
    assert out['inputs']['size'] == [128, 128] and out['inputs']['size_from'].startswith(
        'the training input size: as stored'
    )
    assert out['inputs']['images'] == [dict(source='val', folder='data/tiny_coco/val2017', train=12, test=4)]
    assert out['inputs']['train'] == {'natural': 12} and out['inputs']['test'] == {'natural': 4}
    assert (out['seed'], out['seeds']) == (0, [0]) and out['readout']['feature_grid'] == [16, 16]


def test_cli_seeds_are_averaged_and_each_is_reproducible(run_dir):
    """--seeds 0 1: metrics are the mean of the two probes, and each equals a separate --seed run."""
    path, _ = run_dir
    tool = _tool()
    args = [str(path), '--iters', '5', '--size', '64', '64', '--images', 'synthetic']
    both = tool.main(args + ['--seeds', '0', '1'])
    single = {s: tool.main(args + ['--seed', str(s)]) for s in (0, 1)}
    assert [p['seed'] for p in both['per_seed']] == [0, 1] and both['seed'] is None and both['seeds'] == [0, 1]
    for p in both['per_seed']:
        assert p['metrics'] == single[p['seed']]['metrics'] and p['raw_pixels'] == single[p['seed']]['raw_pixels']
    assert single[0]['metrics'] != single[1]['metrics']
    for key, value in both['metrics'].items():
        assert value == pytest.approx((single[0]['metrics'][key] + single[1]['metrics'][key]) / 2, abs=1e-12), key


def test_read_out_too_large_for_memory_is_refused_in_one_line(monkeypatch):
    """The read-out unfolds its features once: n x c x k^2 x oh x ow floats. At a real training size (e.g.
    ResNet-50 at 800x1333: 3840 channels on 100x167) that is tens of GiB, so the probe says so instead of
    being killed for memory."""
    import harness.diagnose.probe as probe_module
    from harness.errors import ConfigError

    x = torch.zeros(4, 10, 12, 12)
    need = 4 * 10 * 9 * 10 * 10 * 4  # bytes: 4 images, 10 channels, 3x3 windows, 10x10 outputs, float32
    monkeypatch.setattr(probe_module, '_available_memory', lambda: need - 1)
    with pytest.raises(
        ConfigError,
        match=r'^the read-out needs 0\.0 GiB for 4 images of 10 channels on a \(12, 12\) '
        r'feature grid, .*; expected a smaller probe size',
    ):
        probe_module.probe_features(x, x, ['noise'] * 4, (96, 96), iters=1)
    monkeypatch.setattr(probe_module, '_available_memory', lambda: need)
    assert set(probe_module.probe_features(x, x, ['noise'] * 4, (96, 96), iters=1)['metrics']) == {
        f'probe/{t}_{m}' for t in TARGETS for m in ('spc', 'mae')
    }


def test_read_out_equals_a_padding_free_conv2d_trained_the_same_way():
    """The read-out is a matmul over unfolded rows for speed; it must train and predict as the PosENet read-out
    it stands for: an nn.Conv2d (k x k, no padding, same seeded init) + sigmoid + MSE + Adam. With one batch of
    every image, each step sees the same data in both, so the predictions (here their MAE per target) agree."""
    import harness.diagnose.probe as probe_module

    g = torch.Generator().manual_seed(3)
    train, test = torch.randn(5, 7, 12, 16, generator=g), torch.randn(3, 7, 12, 16, generator=g)
    got = probe_module.probe_features(train, test, ['noise'] * 3, (48, 64), iters=6, lr=0.05, batch_size=5, seed=1)

    mu, sd = train.mean((0, 2, 3), keepdim=True), train.std((0, 2, 3), keepdim=True)
    torch.manual_seed(1)
    conv = torch.nn.Conv2d(7, len(TARGETS), 3, padding=0)
    torch.nn.init.xavier_uniform_(conv.weight)
    torch.nn.init.zeros_(conv.bias)
    goal = torch.stack([make_targets(48, 64, (10, 14))[t] for t in TARGETS])[None]
    opt = torch.optim.Adam(conv.parameters(), lr=0.05)
    for _ in range(6):
        opt.zero_grad()
        torch.nn.functional.mse_loss(torch.sigmoid(conv((train - mu) / sd)), goal.expand(5, -1, -1, -1)).backward()
        opt.step()
    with torch.no_grad():
        mae = (torch.sigmoid(conv((test - mu) / sd)) - goal).abs().mean((0, 2, 3))
    assert got['out_size'] == [10, 14]
    for i, t in enumerate(TARGETS):
        assert got['metrics'][f'probe/{t}_mae'] == pytest.approx(float(mae[i]), abs=1e-5), t
