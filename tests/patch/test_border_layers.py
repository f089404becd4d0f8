"""Padding modes on single layers, against hand-written references."""

import copy
import pickle

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from harness import PaddingError, convert_padding
from harness.patch import BorderMixin, pad_amounts, pad_circular


def _one(layer, mode):
    """Patch a single layer: the converter replaces the root itself and returns (new layer, report)."""
    return convert_padding(layer, mode)


@pytest.mark.parametrize('mode', ['reflect', 'replicate', 'circular'])
def test_fill_modes_match_pytorch_padding_mode(mode):
    torch.manual_seed(0)
    ref = nn.Conv2d(3, 4, 3, stride=2, padding=1, padding_mode=mode)
    stock = nn.Conv2d(3, 4, 3, stride=2, padding=1)
    stock.load_state_dict(ref.state_dict())
    patched, _ = _one(stock, mode)
    x = torch.randn(2, 3, 25, 30)
    torch.testing.assert_close(patched(x), ref(x))
    assert patched.weight is stock.weight and patched.bias is stock.bias
    assert isinstance(patched, nn.Conv2d) and isinstance(patched, BorderMixin)


def test_partial_constant_input_gives_constant_output_and_zero_padding_inside():
    conv = nn.Conv2d(2, 1, 3, padding=1, bias=False)
    nn.init.ones_(conv.weight)
    stock = copy.deepcopy(conv)
    patched, _ = _one(conv, 'partial')
    x = torch.ones(1, 2, 9, 11)
    out = patched(x)
    torch.testing.assert_close(out, torch.full_like(out, 18.0))  # borders included
    zero_out = stock(x)
    assert not torch.allclose(zero_out, torch.full_like(zero_out, 18.0))  # zeros darkens the border
    y = torch.randn(1, 2, 9, 11)
    torch.testing.assert_close(patched(y)[..., 1:-1, 1:-1], stock(y)[..., 1:-1, 1:-1])


def test_partial_reweights_around_bias_and_caches_ratio_per_size():
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 1, 3, padding=1)
    stock = copy.deepcopy(conv)
    patched, _ = _one(conv, 'partial')
    x = torch.randn(1, 1, 6, 7)
    b = stock.bias.view(1, -1, 1, 1)
    expected = (stock(x) - b) * 9 / F.conv2d(F.pad(torch.ones(1, 1, 6, 7), (1, 1, 1, 1)), torch.ones(1, 1, 3, 3)) + b
    torch.testing.assert_close(patched(x), expected)
    patched(torch.randn(1, 1, 8, 8))
    # 1-D ratios, one per (axis, length, device): rows 6 and 8, columns 7 and 8
    assert set(patched._partial_cache) == {(0, 6, x.device), (1, 7, x.device), (0, 8, x.device), (1, 8, x.device)}


@pytest.mark.parametrize('h,w', [(125, 130), (8, 9), (3, 3)])
@pytest.mark.parametrize(
    'layer',
    [
        lambda: nn.Conv2d(3, 5, 3, stride=2, padding=1),
        lambda: nn.Conv2d(3, 5, 7, stride=2, padding=3),
        lambda: nn.Conv2d(3, 5, 3, padding=2, dilation=2),
        lambda: nn.MaxPool2d(3, stride=2, padding=1),
        lambda: nn.AvgPool2d(3, stride=1, padding=1),
    ],
    ids=['conv3s2', 'conv7s2', 'conv3d2', 'maxpool', 'avgpool'],
)
def test_none_keeps_output_size_or_fails_clearly(layer, h, w):
    stock = layer()
    patched, _ = _one(copy.deepcopy(stock), 'none')
    x = torch.randn(1, 3, h, w)
    k = stock.kernel_size if isinstance(stock.kernel_size, int) else stock.kernel_size[0]
    d = getattr(stock, 'dilation', 1)
    d = d if isinstance(d, int) else d[0]
    if d * (k - 1) + 1 > min(h, w):
        with pytest.raises(PaddingError, match=r'^(Conv2d|MaxPool2d|AvgPool2d): padding mode none .* larger than its'):
            patched(x)
        return
    out = patched(x)
    assert out.shape == stock(x).shape


def test_none_on_constant_input_is_constant():
    conv = nn.Conv2d(1, 1, 3, stride=2, padding=1)
    patched, _ = _one(conv, 'none')
    out = patched(torch.full((1, 1, 25, 31), 3.0))
    assert out.std() < 1e-6


def test_pools_partial():
    maxpool, report = _one(nn.MaxPool2d(3, 2, 1), 'partial')
    assert type(maxpool) is nn.MaxPool2d and report[0]['action'] == 'unchanged'
    avg, report = _one(nn.AvgPool2d(3, 1, 1), 'partial')
    out = avg(torch.ones(1, 1, 5, 5))
    torch.testing.assert_close(out, torch.ones_like(out))


def test_root_layer_is_converted_and_returned_with_its_report():
    conv = nn.Conv2d(2, 3, 3, padding=1)
    new, report = convert_padding(conv, 'replicate')
    assert new is not conv and isinstance(new, BorderMixin) and new.weight is conv.weight
    assert [(e['name'], e['action']) for e in report] == [('', 'replicate')]
    x = torch.randn(1, 2, 7, 8)
    torch.testing.assert_close(new(x), F.conv2d(F.pad(x, (1, 1, 1, 1), mode='replicate'), conv.weight, conv.bias))
    same, report = convert_padding(nn.Conv2d(2, 3, 1), 'replicate')  # an unpadded root stays as it is
    assert type(same) is nn.Conv2d and report == []


def test_zeros_and_unpadded_layers_are_untouched():
    model = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Conv2d(3, 3, 1), nn.Conv2d(3, 3, 3))
    before = list(model)
    same, report = convert_padding(model, 'zeros')
    assert same is model and all(a is b for a, b in zip(before, model))
    assert [e['name'] for e in report] == ['0'] and report[0]['action'] == 'zeros'
    convert_padding(model, 'reflect')
    assert isinstance(model[0], BorderMixin) and model[1] is before[1] and model[2] is before[2]


@pytest.mark.parametrize('pad', [(1, 1, 1, 1), (0, 2, 3, 0), (4, 4, 4, 4), (0, 0, 1, 2), (7, 0, 0, 5)])
def test_pad_circular_equals_f_pad_forward_and_backward(pad):
    x = torch.randn(2, 3, 5, 7, requires_grad=True)
    ours, ref = pad_circular(x, pad), F.pad(x, pad, mode='circular')
    assert torch.equal(ours, ref)
    g = torch.randn_like(ref)
    assert torch.equal(torch.autograd.grad(ours, x, g)[0], torch.autograd.grad(ref, x, g)[0])


def test_same_string_padding_amounts():
    conv = nn.Conv2d(1, 1, 4, padding='same')
    assert pad_amounts(conv) == (1, 2, 1, 2)
    ref = nn.Conv2d(1, 1, 4, padding='same', padding_mode='circular')
    ref.load_state_dict(conv.state_dict())
    patched, _ = _one(conv, 'circular')
    x = torch.randn(1, 1, 9, 10)
    torch.testing.assert_close(patched(x), ref(x))


def test_reflect_too_large_for_input_names_the_layer():
    patched, _ = _one(nn.Conv2d(1, 1, 3, padding=6, dilation=6), 'reflect')
    with pytest.raises(PaddingError, match=r'^Conv2d: reflect padding .* does not fit its 4x4 input'):
        patched(torch.randn(1, 1, 4, 4))


def test_unsupported_layers_are_reported_as_skipped():
    class Deformish(nn.Module):  # the shape of mmcv's DeformConv2d: pads, but is no nn.Conv2d
        kernel_size, padding = (3, 3), (1, 1)

    model = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), Deformish(), nn.ZeroPad2d(1))
    _, report = convert_padding(model, 'circular')
    actions = {e['name']: (e['action'], e['reason']) for e in report}
    assert actions['0'][0] == 'circular'
    assert actions['1'][0] == 'skipped' and 'Deformish' in actions['1'][1]
    assert actions['2'][0] == 'skipped' and 'standalone' in actions['2'][1]


def test_patched_layers_deepcopy_and_pickle():
    from mmcv.cnn.bricks.wrappers import Conv2d as MMCVConv2d  # the same class name as torch's Conv2d

    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.MaxPool2d(3, 1, 1), MMCVConv2d(2, 2, 3, padding=1))
    convert_padding(model, 'partial')
    assert type(model[0]) is not type(model[2]) and type(model[0]).__name__ == type(model[2]).__name__
    x = torch.randn(1, 1, 6, 6)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        torch.testing.assert_close(clone(x), model(x))


@pytest.mark.parametrize('mode', ['zero-ish', 'valid-ish'])
def test_unknown_mode_is_a_clear_error(mode):
    with pytest.raises(ValueError, match=r'padding.mode: unknown padding mode .*; expected one of zeros, none'):
        convert_padding(nn.Conv2d(1, 1, 3, padding=1), mode)


def test_scope_matching_nothing_lists_closest_names():
    model = nn.Sequential()
    model.add_module('backbone', nn.Sequential(nn.Conv2d(1, 1, 3, padding=1)))
    with pytest.raises(
        ValueError, match=r"padding.scope: 'backbne' matches no padded layer.*closest names: backbone.0"
    ):
        convert_padding(model, 'none', ['backbne'])
