"""The batch canvas follows the padding variant (harness/patch/canvas.py), end to end.

A mixed-size batch of constant images goes through each model's real `data_preprocessor` (mmdet's
`DetDataPreprocessor` pads to a multiple of 32 and the largest image, mmseg's `SegDataPreProcessor`
to the largest image) and its real backbone + neck: with every mode that removes the border signal
from the layers, every level is spatially constant; with zeros (the stock zero canvas) it is not.
"""

import copy

import numpy as np
import pytest
import torch

from harness.errors import ConfigError
from harness.patch.canvas import canvas_index, fill_canvas
from harness.patch.modes import INPUT_CANVAS
from harness.testing import build, constant_batch, feature_levels, spatial_std

SIZES = [(97, 123), (115, 83)]  # not divisible by 32; each image is padded at the bottom or the right
GREY = 100
# partial re-weights border windows but does not make non-uniform kernels constant (README): its
# canvas is checked below, its features are not expected to be constant
CONSTANT_MODES = ['none', 'reflect', 'replicate', 'circular']
_NP_MODE = dict(replicate='edge', reflect='reflect', circular='wrap')


@pytest.mark.parametrize('rule', ['replicate', 'reflect', 'circular'])
@pytest.mark.parametrize('hw', [(5, 7), (1, 4), (6, 1)])
def test_fill_matches_numpy_pad_at_any_canvas_size(rule, hw):
    """numpy.pad (edge / reflect / wrap, repeated for pads wider than the image) is the reference."""
    h, w = hw
    height, width = 3 * h + 2, 2 * w + 9  # wider than one reflection period
    img = torch.randn(2, h, w, dtype=torch.float64)
    canvas = torch.zeros(1, 2, height, width, dtype=torch.float64)
    canvas[0, :, :h, :w] = img
    fill_canvas(canvas, [(h, w)], rule)
    ref = np.pad(img.numpy(), ((0, 0), (0, height - h), (0, width - w)), mode=_NP_MODE[rule])
    np.testing.assert_array_equal(canvas[0].numpy(), ref)


def test_fill_equals_the_layers_rule_where_f_pad_applies():
    """The rule the layers use (F.pad reflect / replicate / circular) for pads smaller than the image."""
    img = torch.randn(1, 3, 9, 11)
    for rule in ('reflect', 'replicate', 'circular'):
        canvas = torch.nn.functional.pad(img, (0, 5, 0, 4))
        torch.testing.assert_close(
            fill_canvas(canvas, [(9, 11)], rule), torch.nn.functional.pad(img, (0, 5, 0, 4), mode=rule), rtol=0, atol=0
        )
    assert canvas_index(4, 8, 'replicate').tolist() == [0, 1, 2, 3, 3, 3, 3, 3]


def _det_batch(sizes, grey=GREY):
    return constant_batch('mmdet', sizes, grey)


def _seg_batch(sizes, grey=GREY):
    return constant_batch('mmseg', sizes, grey)


# (model, batch maker); training=True: mmseg stacks (and pads) a batch only in training mode
MODELS_UNDER_TEST = [
    ('mask_rcnn_r18', _det_batch),
    ('solo_r18', _det_batch),
    ('deeplabv3_r18', _seg_batch),
    ('fcn_r18', _seg_batch),
]


@pytest.mark.parametrize('name,make_batch', MODELS_UNDER_TEST, ids=[m[0] for m in MODELS_UNDER_TEST])
def test_constant_images_give_constant_features_for_every_non_zero_mode(name, make_batch):
    worst = {}
    for mode in ['zeros'] + CONSTANT_MODES + ['partial']:
        model = build(name, padding=dict(mode=mode, scope='all')).eval()
        assert model.harness_report['input']['canvas'] == INPUT_CANVAS[mode]
        with torch.no_grad():
            x = model.data_preprocessor(make_batch(SIZES), True)['inputs']
            assert tuple(x.shape[-2:]) != SIZES[0] and tuple(x.shape[-2:]) != SIZES[1]  # a real canvas
            canvas_std = spatial_std(x - x.mean() + 1)  # the input itself (normalised grey is ~0)
            worst[mode] = max(spatial_std(f) for _, f in feature_levels(model, x))
        if mode == 'zeros':
            assert canvas_std > 0.05, (name, canvas_std)
        else:  # every non-zero mode, partial included, gets a canvas without a zero strip
            assert canvas_std < 1e-6, (name, mode, canvas_std)
    for mode in CONSTANT_MODES:
        assert worst[mode] < 1e-4, (name, worst)
    assert worst['zeros'] > 100 * 1e-4, (name, worst)


@pytest.mark.parametrize('name,make_batch', [('solo_r18', _det_batch), ('fcn_r18', _seg_batch)])
def test_metainfo_and_ground_truth_stay_stock(name, make_batch):
    """Only the canvas outside each image changes: pad_shape / batch_input_shape / img_shape, gt masks
    (padded with 0) and seg maps (padded with ignore index 255) are the stock preprocessor's."""
    stock = build(name, padding=dict(mode='zeros'))
    canvas = build(name, padding=dict(mode='reflect'))
    assert type(stock.data_preprocessor).__name__ in ('DetDataPreprocessor', 'SegDataPreProcessor')
    assert type(canvas.data_preprocessor).__name__ == 'Canvas' + type(stock.data_preprocessor).__name__
    batch = make_batch(SIZES)
    for i, (h, w) in enumerate(SIZES):  # a non-constant image, so that the refill shows
        batch['inputs'][i] = torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
    a = stock.data_preprocessor(copy.deepcopy(batch), True)
    b = canvas.data_preprocessor(copy.deepcopy(batch), True)
    for i, (h, w) in enumerate(SIZES):
        sa, sb = a['data_samples'][i], b['data_samples'][i]
        assert sa.metainfo == sb.metainfo
        torch.testing.assert_close(a['inputs'][i, :, :h, :w], b['inputs'][i, :, :h, :w], rtol=0, atol=0)
        assert not torch.equal(a['inputs'][i], b['inputs'][i])
        if name == 'fcn_r18':
            assert torch.equal(sa.gt_sem_seg.data, sb.gt_sem_seg.data)
            assert (sb.gt_sem_seg.data[:, h:] == 255).all() and (sb.gt_sem_seg.data[:, :, w:] == 255).all()
        else:
            assert sb.metainfo['batch_input_shape'] == tuple(b['inputs'].shape[-2:])
            assert np.array_equal(sa.gt_instances.masks.masks, sb.gt_instances.masks.masks)
            assert sb.gt_instances.masks.masks.shape[-2:] == tuple(b['inputs'].shape[-2:])


def test_policy_recorded_and_overridable():
    model = build('mask_rcnn_r18', padding=dict(mode='none', scope='backbone'))
    assert model.harness_report['input'] == dict(canvas='replicate', preprocessor='CanvasDetDataPreprocessor')
    kept = build('mask_rcnn_r18', padding=dict(mode='none', canvas='zeros'))
    assert type(kept.data_preprocessor).__name__ == 'DetDataPreprocessor'
    assert kept.harness_report['input']['canvas'] == 'zeros'
    with pytest.raises(ConfigError, match=r'model.padding.canvas: got .edge.; expected one of'):
        build('mask_rcnn_r18', padding=dict(mode='none', canvas='edge'))


def test_a_padding_batch_augment_is_refused():
    from mmdet.models.data_preprocessors import BatchFixedSizePad, DetDataPreprocessor

    from harness.patch.canvas import follow_canvas

    pre = DetDataPreprocessor(pad_size_divisor=32)
    pre.batch_augments = torch.nn.ModuleList([BatchFixedSizePad((256, 256))])
    with pytest.raises(ConfigError, match='BatchFixedSizePad pads the canvas with zeros again'):
        follow_canvas(pre, 'reflect')


def test_classifier_preprocessor_refills_and_refuses_mixing_a_padded_canvas():
    """mmpretrain's ClsDataPreprocessor mixes labels inside its forward: its augments stay in place, and a
    mixed-size training batch they would blend on a padded canvas is refused."""
    from mmpretrain.models.utils.data_preprocessor import ClsDataPreprocessor
    from mmpretrain.structures import DataSample

    from harness.patch.canvas import follow_canvas

    def batch():
        return dict(
            inputs=[torch.full((3, h, w), GREY, dtype=torch.uint8) for h, w in SIZES],
            data_samples=[DataSample().set_gt_label(i) for i in range(len(SIZES))],
        )

    pre, policy = follow_canvas(ClsDataPreprocessor(pad_size_divisor=32, num_classes=4), 'reflect')
    assert policy == dict(canvas='reflect', preprocessor='CanvasClsDataPreprocessor')
    x = pre(batch(), True)['inputs']
    assert x.shape[-2:] == (128, 128) and float(x.std((-2, -1)).max()) == 0.0
    mixing = ClsDataPreprocessor(
        pad_size_divisor=32,
        num_classes=4,
        to_onehot=True,
        batch_augments=dict(augments=[dict(type='Mixup', alpha=0.2)]),
    )
    pre, _ = follow_canvas(mixing, 'reflect')
    assert tuple(pre(batch(), False)['inputs'].shape[-2:]) == (128, 128)  # no mixing outside training
    with pytest.raises(ConfigError, match=r'batch augments mixed images of sizes .* on a padded 128x128 canvas'):
        pre(batch(), True)
