"""Beyond ResNets: SegFormer's MixVisionTransformer (mmseg) and ConvNeXt (mmpretrain, in mmdet's Mask R-CNN).

Neither has a positional embedding: the padding of their convs (overlapping patch embeddings, Mix-FFN's
3x3 and ConvNeXt's 7x7 depth-wise convs) is their only source of absolute position. So with circular
padding they are exactly equivariant to a circular shift by their total stride, and with a border-free
mode a constant image gives spatially constant features; zero padding breaks both (shown every time).
"""

import pytest
import torch
import torch.nn as nn

from harness import ConfigError
from harness.patch import SCOPE_PRESETS, BorderMixin
from harness.run.init_design import classifier_padding
from harness.testing import batch, build

MODES = ['zeros', 'none', 'reflect', 'replicate', 'circular', 'partial']
BORDER_FREE = ['none', 'reflect', 'replicate', 'circular']
# The padded convs of each test model, by what they are (not by the converter's own rule).
MIT_B0 = (
    [f'backbone.layers.{i}.0.projection' for i in range(4)]  # 7x7/s4, then 3x3/s2
    + [f'backbone.layers.{i}.1.{j}.ffn.layers.1' for i in range(4) for j in range(2)]
)  # Mix-FFN 3x3 dw
CONVNEXT = [f'backbone.stages.{i}.{j}.depthwise_conv' for i, n in enumerate([1, 1, 2, 1]) for j in range(n)]
MASK_RCNN_HEADS = (
    [f'neck.fpn_convs.{i}.conv' for i in range(4)]
    + ['rpn_head.rpn_conv']
    + [f'roi_head.mask_head.convs.{i}.conv' for i in range(4)]
)
PADDED = {'segformer_b0': MIT_B0, 'mask_rcnn_convnext': CONVNEXT + MASK_RCNN_HEADS}


def _features(model, x):
    """Every backbone level, then every neck level (detectors)."""
    feats = list(model.backbone(x))
    if getattr(model, 'with_neck', False):
        feats += list(model.neck(tuple(feats)))
    return feats


def _loss(losses):
    return sum(v.sum() if torch.is_tensor(v) else sum(x.sum() for x in v) for k, v in losses.items() if 'loss' in k)


@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('name', list(PADDED))
def test_every_padded_conv_is_converted_by_every_mode(name, mode):
    model = build(name, padding=dict(mode=mode, scope='all'))
    layers = model.harness_report['padding']['layers']
    assert sorted(e['name'] for e in layers) == sorted(PADDED[name])
    assert {e['action'] for e in layers} == {mode}
    converted = [n for n, m in model.named_modules() if isinstance(m, BorderMixin)]
    assert sorted(converted) == ([] if mode == 'zeros' else sorted(PADDED[name]))
    if name == 'segformer_b0':  # the stride-4 patch embedding: 7x7, padding 3 on every side
        stem = next(e for e in layers if e['name'] == 'backbone.layers.0.0.projection')
        assert (stem['kernel'], stem['stride'], stem['padding']) == ([7, 7], [4, 4], [3, 3, 3, 3])


@pytest.mark.parametrize('mode', MODES[1:])
@pytest.mark.parametrize('name', list(PADDED))
def test_every_mode_trains_predicts_and_keeps_the_feature_sizes(name, mode):
    """On odd image sizes (a batch canvas): finite loss and gradients, predictions, and every feature
    level (and SegFormer's logits) the size the stock model gives, `none`'s valid 7x7/s4 stem included."""
    h, w = (225, 250) if name == 'mask_rcnn_convnext' else (125, 130)  # ConvNeXt's stride-32 7x7 needs >= 7x7
    model, stock = build(name, padding=dict(mode=mode, scope='all')), build(name)
    data = batch(name, h, w)
    model.train()
    loss = _loss(model(**model.data_preprocessor(data, True), mode='loss'))
    loss.backward()
    assert torch.isfinite(loss)
    grads = [p.grad for p in model.backbone.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    model.eval(), stock.eval()
    with torch.no_grad():
        inputs = stock.data_preprocessor(data, False)['inputs']
        assert [f.shape for f in _features(model, inputs)] == [f.shape for f in _features(stock, inputs)]
        if name == 'segformer_b0':
            assert model(inputs, mode='tensor').shape == stock(inputs, mode='tensor').shape
        assert len(model(**model.data_preprocessor(data, False), mode='predict')) == 2


@pytest.mark.parametrize('name,size', [('segformer_b0', (128, 192)), ('mask_rcnn_convnext', (256, 320))])
def test_circular_backbone_is_exactly_equivariant_to_a_shift_by_its_total_stride(name, size):
    """Shift the input circularly by k * 32 pixels: every level of the circular backbone is the same
    features rolled by k * 32 / stride; the stock (zero-padded) backbone is not."""
    x = torch.randn(1, 3, *size)
    shift = (32, 64)  # k = 1 down, 2 across
    moved = torch.roll(x, shift, (-2, -1))
    for mode in ('circular', 'zeros'):
        backbone = build(name, padding=dict(mode=mode, scope='all')).backbone
        backbone.eval()  # mmpretrain's ConvNeXt.train() returns None: no chaining
        with torch.no_grad():
            base, shifted = list(backbone(x)), list(backbone(moved))
        assert len(base) == 4
        errors = []
        for f, g in zip(base, shifted):
            stride = size[0] // f.shape[-2]
            expected = torch.roll(f, (shift[0] // stride, shift[1] // stride), (-2, -1))
            if mode == 'circular':
                torch.testing.assert_close(g, expected, rtol=1e-4, atol=1e-4 * float(f.abs().amax()))
            errors.append(float((g - expected).abs().amax() / f.abs().amax()))
        if mode == 'zeros':  # zero padding writes the border into the features: shifting moves it
            assert max(errors) > 1e-2, errors


@pytest.mark.parametrize('mode', BORDER_FREE + ['zeros'])
@pytest.mark.parametrize('name', list(PADDED))
def test_constant_image_through_the_models_own_preprocessor_gives_constant_features(name, mode):
    """Two constant images of different sizes, batched by the model's own data preprocessor (canvas
    padding included): with a border-free mode every backbone and neck level is spatially constant in
    each image; with zeros it is not (the border, and the zero canvas, reach the features)."""
    sizes = [(225, 250), (240, 200)] if name == 'mask_rcnn_convnext' else [(100, 123), (115, 110)]  # one canvas
    model = build(name, padding=dict(mode=mode, scope='all')).eval()
    data = dict(
        inputs=[torch.full((3, h, w), 97, dtype=torch.uint8) for h, w in sizes],
        data_samples=[batch(name, h, w, n=1)['data_samples'][0] for h, w in sizes],
    )
    with torch.no_grad():  # the training path: mmseg's preprocessor pads mixed sizes only there
        inputs = model.data_preprocessor(data, True)['inputs']
        assert inputs.shape[-2:] != tuple(sizes[0])  # a canvas around each image
        feats = _features(model, inputs)
    spread = [float((f - f.mean((-2, -1), keepdim=True)).abs().amax() / (f.abs().amax() + 1e-12)) for f in feats]
    if mode == 'zeros':
        assert max(spread) > 0.05, spread
    else:
        assert max(spread) < 1e-4, spread


@pytest.mark.parametrize(
    'name,scope,expected',
    [
        ('segformer_b0', 'patch_embed', MIT_B0[:4]),
        ('segformer_b0', 'mixffn', MIT_B0[4:]),
        ('segformer_b0', ['patch_embed', 'mixffn'], MIT_B0),
        ('mask_rcnn_convnext', 'dwconv', CONVNEXT),
        ('mask_rcnn_convnext', ['dwconv', 'neck'], CONVNEXT + MASK_RCNN_HEADS[:4]),
    ],
)
def test_scope_presets_select_exactly_their_layers(name, scope, expected):
    model = build(name, padding=dict(mode='circular', scope=scope))
    layers = model.harness_report['padding']['layers']
    assert sorted(e['name'] for e in layers) == sorted(expected) and {e['action'] for e in layers} == {'circular'}
    assert sorted(n for n, m in model.named_modules() if isinstance(m, BorderMixin)) == sorted(expected)


def test_scope_presets_elsewhere_are_refused_and_keep_their_backbone_part_for_pretraining():
    with pytest.raises(
        ConfigError,
        match=r"padding.scope: 'dwconv' matches no padded layer of EncoderDecoder; "
        r'expected one of .*patch_embed, mixffn, dwconv',
    ):
        build('segformer_b0', padding=dict(mode='circular', scope='dwconv'))
    with pytest.raises(ConfigError, match=r"padding.scope: 'mixffn' matches no padded layer of MaskRCNN"):
        build('mask_rcnn_convnext', padding=dict(mode='none', scope='mixffn'))
    assert all(g.startswith('backbone.') for p in ('patch_embed', 'mixffn', 'dwconv') for g in SCOPE_PRESETS[p])
    # a matched pretraining pads the classifier's backbone like the variant's backbone part
    assert classifier_padding({'mode': 'circular', 'scope': ['mixffn', 'neck']}) == {
        'mode': 'circular',
        'scope': ['mixffn'],
    }
    assert classifier_padding({'mode': 'none', 'scope': 'dwconv'})['scope'] == ['dwconv']


@pytest.mark.parametrize(
    'name,conv',
    [('segformer_b0', 'backbone.layers.0.0.projection'), ('mask_rcnn_convnext', 'backbone.downsample_layers.0.0')],
)
def test_coordconv_stem_preset_reaches_both_and_starts_bit_identical(name, conv):
    model = build(name, padding=dict(mode='circular', scope='all'), coordconv=dict(sites=['backbone_stem'])).eval()
    assert [e['name'] for e in model.harness_report['coordconv']] == [conv]
    layer = model.get_submodule(conv)
    assert isinstance(layer, nn.Conv2d) and layer.coord_weight.shape[1] == 2 and not layer.coord_weight.any()
    plain = build(name, padding=dict(mode='circular', scope='all')).eval()
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        for a, b in zip(_features(model, x), _features(plain, x)):
            assert torch.equal(a, b)


SEGFORMER_SMOKE = 'configs/smoke/segformer_mit-b0_tiny-cityscapes.py'


def test_audit_and_probe_loading_take_the_scope_presets():
    """The audit's leak score by scope (random-init MiT-b0, constant images): circular on every padded conv
    leaves none, on the Mix-FFN convs alone some, zeros the most; the probe's backbone is patched on the
    preset alone, and a scope without a mode is refused."""
    from harness.diagnose import audit
    from harness.diagnose.loading import load_backbone
    from harness.paths import REPO_ROOT

    config = str(REPO_ROOT / SEGFORMER_SMOKE)
    leak = {
        scope: audit(config, modes=('zeros', 'circular'), size=(64, 128), scope=scope)['leak']
        for scope in ('all', 'mixffn')
    }
    zeros = leak['all']['zeros']
    assert min(zeros.values()) > 0.1 and max(leak['all']['circular'].values()) == 0
    assert all(0 < leak['mixffn']['circular'][lv] < zeros[lv] for lv in zeros), leak
    backbone, info = load_backbone(config, padding='circular', scope='mixffn')
    assert sorted(f'backbone.{n}' for n, m in backbone.named_modules() if isinstance(m, BorderMixin)) == MIT_B0[4:]
    assert info['padding'] == 'circular' and info['scope'] == 'mixffn'
    with pytest.raises(ConfigError, match=r'--scope mixffn: needs --padding; expected both or neither'):
        load_backbone(config, scope='mixffn')
