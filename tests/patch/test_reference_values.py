"""`none` (every resample rule) and `partial` on single layers, value by value against references written
out here from F.conv2d / F.max_pool2d / F.avg_pool2d and F.interpolate / F.pad (issue 9, section 5)."""

import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from harness import ConfigError, convert_padding
from harness.patch import pad_amounts, patch_model
from harness.patch.border_layers import PARTIAL_CACHE_SIZE
from harness.patch.modes import DEFAULT_RESAMPLE, NONE_RESAMPLE

LAYERS = {
    'conv3s1': lambda: nn.Conv2d(3, 4, 3, padding=1),
    'conv3s2': lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1),
    'conv7s2': lambda: nn.Conv2d(3, 4, 7, stride=2, padding=3),
    'conv3d2': lambda: nn.Conv2d(3, 4, 3, padding=2, dilation=2),
    'conv4same': lambda: nn.Conv2d(3, 4, 4, padding='same'),  # l, r, t, b = 1, 2, 1, 2
    'conv5x3': lambda: nn.Conv2d(3, 4, (5, 3), stride=(2, 1), padding=(2, 0), dilation=(2, 1), bias=False),
    'maxpool': lambda: nn.MaxPool2d(3, stride=2, padding=1),
    'avgpool': lambda: nn.AvgPool2d(3, stride=1, padding=1),
}


def _valid(layer, x):
    """The stock layer with padding 0, written out with the functional ops."""
    if isinstance(layer, nn.Conv2d):
        return F.conv2d(x, layer.weight, layer.bias, layer.stride, 0, layer.dilation)
    if isinstance(layer, nn.MaxPool2d):
        return F.max_pool2d(x, layer.kernel_size, layer.stride, 0, layer.dilation, layer.ceil_mode)
    return F.avg_pool2d(x, layer.kernel_size, layer.stride, 0, layer.ceil_mode)


def _none_reference(layer, x, rule):
    size = layer(x).shape[-2:]  # what the stock (zero-padded) layer gives
    l, r, t, b = pad_amounts(layer)
    if rule == 'input':
        h, w = x.shape[-2:]
        y = _valid(layer, F.interpolate(x, size=(h + t + b, w + l + r), mode='bilinear', align_corners=False))
        assert y.shape[-2:] == size
        return y
    y = _valid(layer, x)
    if rule == 'replicate':  # missing rows / columns split in proportion to the padding, top / left rounded down
        dh, dw = size[0] - y.shape[-2], size[1] - y.shape[-1]
        top, left = dh * t // max(t + b, 1), dw * l // max(l + r, 1)
        return F.pad(y, (left, dw - left, top, dh - top), mode='replicate')
    return F.interpolate(y, size=size, mode='bilinear', align_corners=rule == 'output-corners')


@pytest.mark.parametrize('rule', NONE_RESAMPLE)
@pytest.mark.parametrize('layer', list(LAYERS))
@pytest.mark.parametrize('h,w', [(25, 30), (24, 31)])
def test_none_equals_valid_layer_plus_its_resample_rule(layer, rule, h, w):
    torch.manual_seed(0)
    stock = LAYERS[layer]()
    patched, report = convert_padding(copy.deepcopy(stock), 'none', resample=rule)
    assert report[0]['resample'] == rule
    x = torch.randn(2, 3, h, w)
    with torch.no_grad():
        out, ref = patched(x), _none_reference(stock, x, rule)
    assert out.shape == stock(x).shape
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)


def test_none_rules_differ_and_replicate_keeps_the_valid_interior():
    torch.manual_seed(0)
    stock = nn.Conv2d(3, 4, 3, padding=1)
    x = torch.randn(1, 3, 20, 22)
    outs = {rule: convert_padding(copy.deepcopy(stock), 'none', resample=rule)[0](x) for rule in NONE_RESAMPLE}
    for a in NONE_RESAMPLE:  # four different rules, four different outputs
        for b in NONE_RESAMPLE:
            assert a == b or not torch.allclose(outs[a], outs[b]), (a, b)
    valid = F.conv2d(x, stock.weight, stock.bias)
    torch.testing.assert_close(outs['replicate'][..., 1:-1, 1:-1], valid)  # stride 1, padding 1: shifted back by 1
    torch.testing.assert_close(outs['replicate'][..., 0, 1:-1], valid[..., 0, :])


def test_default_rule_and_bad_rules():
    assert convert_padding(nn.Conv2d(1, 1, 3, padding=1), 'none')[1][0]['resample'] == DEFAULT_RESAMPLE
    assert 'resample' not in convert_padding(nn.Conv2d(1, 1, 3, padding=1), 'reflect')[1][0]
    with pytest.raises(ConfigError, match=r"^padding.resample: unknown resample rule 'bicubic'; expected one of input"):
        convert_padding(nn.Conv2d(1, 1, 3, padding=1), 'none', resample='bicubic')
    with pytest.raises(
        ConfigError,
        match=r"^model.padding.resample: got 'input' with mode 'reflect'; expected resample "
        r'only with mode none',
    ):
        patch_model(nn.Conv2d(1, 1, 3, padding=1), padding=dict(mode='reflect', resample='input'))
    model, report = patch_model(
        nn.Sequential(nn.Conv2d(1, 1, 3, padding=1)), padding=dict(mode='valid', resample='replicate')
    )
    assert report['padding']['resample'] == 'replicate' and report['padding']['layers'][0]['resample'] == 'replicate'
    assert model[0].border_resample == 'replicate'


PARTIAL = {
    'stride2': lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1),
    'stride2-k7': lambda: nn.Conv2d(3, 4, 7, stride=2, padding=3),
    'dilation2': lambda: nn.Conv2d(3, 4, 3, padding=2, dilation=2),
    'asymmetric-same': lambda: nn.Conv2d(3, 4, 4, padding='same'),  # l, r, t, b = 1, 2, 1, 2
    'asymmetric-hw': lambda: nn.Conv2d(3, 4, (5, 3), stride=2, padding=(1, 2), dilation=(2, 1)),
    'all-padding-windows': lambda: nn.Conv2d(3, 4, 3, padding=4),  # corner windows see no pixel
    'no-bias': lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1, dilation=2, bias=False),
}


@pytest.mark.parametrize('layer', list(PARTIAL))
@pytest.mark.parametrize('h,w', [(13, 16), (16, 11)])
def test_partial_equals_its_formula(layer, h, w):
    """(zero-padded conv - b) * window size / real pixels in the window + b, the count taken from a conv
    of ones over the zero-padded all-ones image (the 2-D formula of Liu et al. 2018)."""
    torch.manual_seed(0)
    stock = PARTIAL[layer]()
    patched, _ = convert_padding(copy.deepcopy(stock), 'partial')
    x = torch.randn(2, 3, h, w)
    kh, kw = stock.kernel_size
    count = F.conv2d(
        F.pad(torch.ones(1, 1, h, w), pad_amounts(stock)),
        torch.ones(1, 1, kh, kw),
        stride=stock.stride,
        dilation=stock.dilation,
    )
    b = stock.bias.view(1, -1, 1, 1) if stock.bias is not None else 0
    with torch.no_grad():
        expected = torch.where(count > 0, (stock(x) - b) * kh * kw / count.clamp(min=1) + b, stock(x))
        out = patched(x)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)
    ratio = patched._partial_ratio(x)
    torch.testing.assert_close(ratio[count[0, 0] > 0], (kh * kw / count[0, 0])[count[0, 0] > 0])


def test_partial_cache_stays_bounded_and_right_after_eviction():
    torch.manual_seed(0)
    stock = nn.Conv2d(2, 3, 3, stride=2, padding=1)
    patched, _ = convert_padding(copy.deepcopy(stock), 'partial')
    first = torch.randn(1, 2, 9, 10)
    expected = patched(first)
    for n in range(11, 11 + 3 * PARTIAL_CACHE_SIZE):
        patched(torch.randn(1, 2, n, n + 1))
    assert len(patched._partial_cache) == PARTIAL_CACHE_SIZE
    assert (0, 9, first.device) not in patched._partial_cache  # evicted, then rebuilt the same
    torch.testing.assert_close(patched(first), expected)
