"""The patching core on real mmdet / mmseg models: identity, every mode, no leak, equivariance, CoordConv, SOLO."""

import pytest
import torch
from mmengine.registry import MODELS, init_default_scope

from harness import ConfigError, PaddingError, convert_padding
from harness.patch import BorderMixin
from harness.testing import DET_MODELS, SEG_MODELS, batch, build

ALL_MODELS = DET_MODELS + SEG_MODELS
NON_ZERO_MODES = ['none', 'reflect', 'replicate', 'circular', 'partial']


def _run(model, data, mode, seed=0):
    torch.manual_seed(seed)
    data = model.data_preprocessor(data, training=mode == 'loss')
    return model(**data, mode=mode)


def _loss(losses):
    return sum(v.sum() if torch.is_tensor(v) else sum(x.sum() for x in v) for k, v in losses.items() if 'loss' in k)


def _features(model, x):
    """Every backbone level, then every neck level (detectors)."""
    feats = list(model.backbone(x))
    if getattr(model, 'with_neck', False):
        feats += list(model.neck(tuple(feats)))
    return feats


def _equal_outputs(a, b):
    if torch.is_tensor(a):
        return torch.equal(a, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal_outputs(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal_outputs(a[k], b[k]) for k in a)
    if hasattr(a, 'pred_instances'):
        return all(torch.equal(x, y) for x, y in zip(a.pred_instances.values(), b.pred_instances.values()))
    if hasattr(a, 'pred_sem_seg'):
        return torch.equal(a.pred_sem_seg.data, b.pred_sem_seg.data) and torch.equal(
            a.seg_logits.data, b.seg_logits.data
        )
    raise TypeError(type(a))


@pytest.mark.parametrize('name', ALL_MODELS)
@pytest.mark.parametrize(
    'patch',
    [dict(padding=dict(mode='zeros', scope='all')), dict(coordconv=dict(sites=['backbone_stem']))],
    ids=['zeros', 'coordconv'],
)
def test_patch_is_bit_identical_to_stock(name, patch):
    stock, patched = build(name), build(name, **patch)
    assert type(stock) is type(patched)
    data = batch(name)
    for mode in ('tensor', 'predict', 'loss'):
        stock.train(mode == 'loss')
        patched.train(mode == 'loss')
        a, b = _run(stock, data, mode), _run(patched, data, mode)
        assert _equal_outputs(a, b), mode


@pytest.mark.parametrize('mode', NON_ZERO_MODES)
@pytest.mark.parametrize('name', ALL_MODELS)
def test_every_mode_trains_and_predicts(name, mode):
    # Detectors patched everywhere; segmentors in their backbone (ASPP's dilations exceed small inputs).
    scope = 'all' if name in DET_MODELS else 'backbone'
    h, w = (193, 194) if name in DET_MODELS else (125, 130)
    model = build(name, padding=dict(mode=mode, scope=scope))
    report = model.harness_report['padding']['layers']
    assert any(e['action'] == mode for e in report)
    data = batch(name, h, w)
    model.train()
    loss = _loss(_run(model, data, 'loss'))
    loss.backward()
    assert torch.isfinite(loss)
    grads = [p.grad for p in model.backbone.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    model.eval()
    with torch.no_grad():
        assert len(_run(model, data, 'predict')) == 2
        _run(model, data, 'tensor')


@pytest.mark.parametrize('name', ['mask_rcnn_r18', 'deeplabv3_r18'])
@pytest.mark.parametrize('mode', ['none', 'reflect', 'replicate', 'circular', 'zeros'])
def test_constant_image_gives_constant_features_only_without_zeros(name, mode):
    model = build(name, padding=dict(mode=mode, scope='all')).eval()
    with torch.no_grad():
        feats = _features(model, torch.full((1, 3, 125, 130), 0.7))
    spread = [((f - f.mean((-2, -1), keepdim=True)).abs().amax() / (f.abs().amax() + 1e-12)).item() for f in feats]
    if mode == 'zeros':
        assert max(spread) > 0.05, spread  # zero padding writes the border into the features
    else:
        assert max(spread) < 1e-4, spread


@pytest.mark.parametrize('name,stride', [('mask_rcnn_r18', 64), ('solov2_r18', 64), ('fcn_r18', 8)])
def test_circular_padding_makes_features_shift_equivariant(name, stride):
    circ = build(name, padding=dict(mode='circular', scope='all')).eval()
    stock = build(name).eval()
    x = torch.randn(1, 3, 128, 192)
    shift = (stride, 2 * stride)
    with torch.no_grad():
        for model, equivariant in ((circ, True), (stock, False)):
            base, moved = _features(model, x), _features(model, torch.roll(x, shift, (-2, -1)))
            errors = []
            for f, g in zip(base, moved):
                s = x.shape[-1] // f.shape[-1]
                expected = torch.roll(f, (shift[0] // s, shift[1] // s), (-2, -1))
                errors.append(((g - expected).abs().amax() / f.abs().amax()).item())
            assert (max(errors) < 1e-4) == equivariant, errors


def test_coordconv_mask_head_identity_gradients_and_checkpoints():
    stock = build('mask_rcnn_r18')
    model = build('mask_rcnn_r18', coordconv=dict(sites=['mask_head_first']))
    conv = model.roi_head.mask_head.convs[0].conv
    assert conv.coord_weight.shape == (64, 2, 3, 3) and not conv.coord_weight.any()
    data = batch('mask_rcnn_r18')
    stock.train(), model.train()
    l_stock, l_model = _run(stock, data, 'loss'), _run(model, data, 'loss')
    assert _equal_outputs(l_stock, l_model)
    _loss(l_model).backward()
    assert conv.coord_weight.grad is not None and conv.coord_weight.grad.abs().sum() > 0

    # stock (pretrained) weights load with only the coordinate kernel missing
    missing, unexpected = model.load_state_dict(stock.state_dict(), strict=False)
    assert missing == ['roi_head.mask_head.convs.0.conv.coord_weight'] and unexpected == []
    # a trained CoordConv state dict round-trips
    with torch.no_grad():
        conv.coord_weight.normal_()
    again = build('mask_rcnn_r18', seed=1, coordconv=dict(sites=['mask_head_first']))
    again.load_state_dict(model.state_dict())
    model.eval(), again.eval()
    assert _equal_outputs(_run(model, data, 'predict'), _run(again, data, 'predict'))
    assert not _equal_outputs(_run(model, data, 'predict'), _run(stock.eval(), data, 'predict'))


def test_coordconv_presets_and_with_r():
    model = build('mask_rcnn_r18', coordconv=dict(sites=['fpn_out', 'backbone.layer1.0.conv1'], with_r=True))
    names = [e['name'] for e in model.harness_report['coordconv']]
    assert names == [f'neck.fpn_convs.{i}.conv' for i in range(4)] + ['backbone.layer1.0.conv1']
    assert model.neck.fpn_convs[0].conv.coord_weight.shape[1] == 3


def test_coordconv_on_a_padding_patched_layer():
    model = build('mask_rcnn_r18', padding=dict(mode='reflect', scope='all'), coordconv=dict(sites=['fpn_out']))
    conv = model.neck.fpn_convs[0].conv
    assert isinstance(conv, BorderMixin) and hasattr(conv, 'coord_weight')
    model.eval()
    with torch.no_grad():
        _features(model, torch.randn(1, 3, 64, 64))


@pytest.mark.parametrize(
    'name,convs',
    [
        ('solo_r18', ['mask_head.mask_convs.0.conv']),
        ('solov2_r18', ['mask_head.kernel_convs.0.conv', 'mask_head.mask_feature_head.convs_all_levels.3.conv0.conv']),
    ],
)
def test_solo_without_coordinates(name, convs):
    with_coords, without = build(name), build(name, solo_coords=False)
    for path in convs:
        a, b = with_coords.get_submodule(path), without.get_submodule(path)
        assert (a.in_channels - b.in_channels, a.weight.shape[1] - b.weight.shape[1]) == (2, 2)
    assert [e['name'] for e in without.harness_report['solo_coords_removed']] == convs
    data = batch(name)
    without.train()
    opt = torch.optim.SGD(without.parameters(), lr=0.01)
    loss = _loss(_run(without, data, 'loss'))
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    # coordinates no longer reach the mask branch: the first conv's output ignores them
    conv = without.get_submodule(convs[0])
    x = torch.randn(1, conv.in_channels + 2, 8, 8)
    y = x.clone()
    y[:, -2:] = torch.randn(1, 2, 8, 8)
    torch.testing.assert_close(conv(x), conv(y))


def test_errors_are_clear():
    with pytest.raises(ConfigError, match=r"padding.mode: unknown padding mode 'mirror'; expected one of"):
        build('fcn_r18', padding=dict(mode='mirror'))
    with pytest.raises(
        ConfigError, match=r"coordconv.sites: 'roi_head.mask_head.conv.0' matches no conv.*closest names: roi_head"
    ):
        build('mask_rcnn_r18', coordconv=dict(sites=['roi_head.mask_head.conv.0']))
    with pytest.raises(ConfigError, match=r'solo_coords: false needs a SOLO-family head'):
        build('mask_rcnn_r18', solo_coords=False)
    model = build('deeplabv3_r18', padding=dict(mode='none', scope='all')).eval()
    with pytest.raises(
        PaddingError, match=r'^decode_head\.aspp_modules\.\d\.conv: padding mode none .* narrow the padding scope'
    ):
        with torch.no_grad():
            _run(model, batch('deeplabv3_r18'), 'tensor')


def test_deformable_convs_are_listed_as_skipped():
    init_default_scope('mmdet')
    backbone = MODELS.build(
        dict(
            type='ResNet',
            depth=50,
            init_cfg=None,
            stage_with_dcn=(False, False, True, True),
            dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False),
        )
    )
    _, report = convert_padding(backbone, 'circular')
    skipped = [e for e in report if e['action'] == 'skipped']
    assert len(skipped) == 9 and all(
        e['type'] == 'ModulatedDeformConv2dPack' and 'deformable' in e['reason'] for e in skipped
    )
    assert sum(e['action'] == 'circular' for e in report) == len(report) - 9
