"""On the real test models: scope `all` converts or reports every padded conv and pool (counted by a walk
written here, not by harness.patch.convert.classify), and a patched model starts from the same weights
as the stock one (mmengine's init_cfg matching must not skip a derived layer)."""

import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from harness.patch import BorderMixin
from harness.testing import DET_MODELS, SEG_MODELS, build

ALL_MODELS = DET_MODELS + SEG_MODELS
_PAD_LAYERS = (nn.ZeroPad2d, nn.ConstantPad2d, nn.ReflectionPad2d, nn.ReplicationPad2d)


def _pads(module):
    """True if the module invents border values by its `padding` (a transposed conv's padding crops)."""
    pad = getattr(module, 'padding', 0)
    if isinstance(pad, str):
        return pad == 'same'
    return any(v != 0 for v in (pad if isinstance(pad, (tuple, list)) else [pad]))


def padded_layers(model):
    """{name: kind} of every layer of `model` that pads: convs, pools, anything else with a kernel and a
    padding (e.g. deformable convs), standalone padding layers. mmcv's ConvModule only wraps its `.conv`."""
    found = {}
    for name, m in model.named_modules():
        if isinstance(m, (ConvModule, nn.ConvTranspose2d)):
            continue
        if isinstance(m, _PAD_LAYERS) and any(m.padding):
            found[name] = 'pad layer'
        elif isinstance(m, nn.Conv2d) and _pads(m):
            found[name] = 'conv'
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) and _pads(m):
            found[name] = 'pool'
        elif hasattr(m, 'kernel_size') and _pads(m):
            found[name] = 'other'
    return found


@pytest.mark.parametrize('name', ALL_MODELS)
def test_scope_all_converts_or_reports_every_padded_layer(name):
    expected = padded_layers(build(name))
    assert sum(kind in ('conv', 'pool') for kind in expected.values()) >= 20, expected  # the walk finds the ResNet
    model = build(name, padding=dict(mode='reflect', scope='all'))
    report = {e['name']: e for e in model.harness_report['padding']['layers']}
    assert set(report) == set(expected), set(report) ^ set(expected)
    converted = {n for n, e in report.items() if e['action'] == 'reflect'}
    skipped = {n for n, e in report.items() if e['action'] == 'skipped'}
    assert converted | skipped == set(expected)
    assert skipped == {n for n, kind in expected.items() if kind not in ('conv', 'pool')}
    for n in converted:
        layer = model.get_submodule(n)
        assert isinstance(layer, BorderMixin) and layer.border_mode == 'reflect', n
        assert layer.padding in (0, (0, 0)), n  # the parent runs unpadded: no zero sneaks back in


VARIANTS = {  # every model: reflect + CoordConv sites of its family; Mask R-CNN: every other mode as well
    'mask_rcnn_r18': ['backbone_stem', 'fpn_out', 'mask_head_first'],
    'solo_r18': ['backbone_stem', 'fpn_out'],
    'solov2_r18': ['backbone_stem', 'fpn_out'],
    'deeplabv3_r18': ['backbone_stem', 'decode_head_first'],
    'fcn_r18': ['backbone_stem', 'decode_head_first'],
}
CASES = [(name, 'reflect') for name in ALL_MODELS] + [
    ('mask_rcnn_r18', mode) for mode in ('none', 'replicate', 'circular', 'partial')
]


@pytest.mark.parametrize('name,mode', CASES)
def test_patched_models_start_from_the_stock_initial_weights(name, mode):
    """Same seed, same weights: every stock parameter, CoordConv + padding-patched layers included, gets
    the init its config gives it (e.g. ResNet's Kaiming, FPN's Xavier), and coordinate kernels start at 0."""
    stock = dict(build(name).named_parameters())
    model = build(name, padding=dict(mode=mode, scope='all'), coordconv=dict(sites=VARIANTS[name]))
    sites = [e['name'] for e in model.harness_report['coordconv']]
    assert any(isinstance(model.get_submodule(s), BorderMixin) for s in sites)  # CoordConv on a patched conv
    params = dict(model.named_parameters())
    assert set(params) - set(stock) == {f'{s}.coord_weight' for s in sites}
    differ = [k for k, v in stock.items() if not torch.equal(v, params[k])]
    assert not differ, differ
    assert all(not params[f'{s}.coord_weight'].any() for s in sites)
