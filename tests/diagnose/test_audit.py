"""The position-leak audit: leak scores per mode, uneven stride-2 padding ("Mind the Pad"), every shipped
config, and one-line CLI errors."""

import glob
import json
import os

import pytest
from tool_loader import load_tool

from harness.diagnose import audit, format_report, uneven_padding
from harness.paths import REPO_ROOT

ROOT = str(REPO_ROOT)
SMOKE = os.path.join(ROOT, 'configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py')
# Detector and segmenter configs. The ImageNet classifiers of configs/pretrain/ end in global pooling, and the
# leak score is defined on spatial feature maps; their backbones are the ones the downstream configs audit.
CONFIGS = sorted(
    p
    for p in glob.glob(os.path.join(ROOT, 'configs/*/*.py'))
    if '/_base_/' not in p and '/pretrain/' not in p and not os.path.basename(p).startswith('_')
)
STRIDED = [
    'backbone.conv1',
    'backbone.maxpool',
    'backbone.layer2.0.conv1',
    'backbone.layer3.0.conv1',
    'backbone.layer4.0.conv1',
]


def test_zero_padding_leaks_and_the_border_rules_do_not():
    result = audit(SMOKE, size=(96, 96))
    leak = {mode: max(levels.values()) for mode, levels in result['leak'].items()}
    assert set(leak) == {'zeros', 'none', 'reflect', 'replicate', 'circular', 'partial'} and not result['errors']
    assert len(result['levels']) == 4 + 5  # ResNet levels, then FPN levels
    assert min(result['leak']['zeros'].values()) > 0.05, result['leak']['zeros']
    for mode in ('none', 'reflect', 'replicate', 'circular'):
        assert leak[mode] < 1e-6, (mode, result['leak'][mode])
    # partial padding re-weights the border windows, which makes a constant image constant only for
    # uniform kernels: with random ones it leaks as much as zeros (docs/PROBE.md)
    assert leak['partial'] > 0.05


@pytest.mark.parametrize(
    'size,kernel,pad,seen,uneven',
    [
        (224, 7, 3, 2, True),
        (225, 7, 3, 3, False),  # ResNet stem 7x7/s2/p3: even inputs are uneven
        (224, 3, 1, 0, True),
        (225, 3, 1, 1, False),  # 3x3/s2/p1: the last window ignores the bottom padding
        (7, 3, 1, 1, False),
        (8, 3, 1, 0, True),
    ],
)
def test_uneven_padding_rule(size, kernel, pad, seen, uneven):
    assert uneven_padding(size, kernel, 2, 1, pad, pad) == (seen, uneven)
    assert (size + 2 * pad - kernel) % 2 == uneven  # Mind the Pad's rule
    assert uneven_padding(size, kernel, 1, 1, pad, pad) == (pad, False)  # stride 1 always reaches the end


def test_uneven_stride2_padding_is_flagged_where_it_occurs():
    # A side divisible by 32 is even at every stride-2 layer of a ResNet: all five are uneven. 32n + 1
    # stays odd down to the last stage: none is. 125x130: the stem is uneven in width only, and the
    # 32-high map of layer2 and below in height.
    flagged = {}
    for size in ((128, 128), (225, 225), (125, 130)):
        result = audit(SMOKE, modes=['zeros'], size=size)
        flagged[size] = {e['name']: e['uneven'] for e in result['layers'] if e['uneven']}
    assert list(flagged[(128, 128)]) == STRIDED
    assert flagged[(128, 128)]['backbone.conv1'] == {'h': [3, 2], 'w': [3, 2]}
    assert flagged[(225, 225)] == {}
    assert flagged[(125, 130)] == {
        'backbone.conv1': {'w': [3, 2]},
        'backbone.layer2.0.conv1': {'h': [1, 0]},
        'backbone.layer3.0.conv1': {'h': [1, 0]},
        'backbone.layer4.0.conv1': {'h': [1, 0]},
    }


def test_a_mode_that_cannot_run_is_reported_not_raised():
    result = audit(SMOKE, modes=['zeros', 'none'], size=(64, 64))  # layer4 sees 2x2: no valid 3x3 conv
    assert 'none' not in result['leak'] and result['errors']['none'].startswith('backbone.layer4.0.conv')
    assert 'error' in format_report(result)


def test_none_is_measured_once_per_resample_rule(capsys, one_line_errors):
    rules = ['input', 'output', 'output-corners', 'replicate']
    result = audit(SMOKE, modes=['zeros', 'none'], size=(96, 96), resample=rules)
    assert list(result['leak']) == ['zeros'] + [f'none:{r}' for r in rules] and not result['errors']
    for rule in rules:  # constant image, no invented border: constant features under every rule
        assert max(result['leak'][f'none:{rule}'].values()) < 1e-6, (rule, result['leak'][f'none:{rule}'])
    assert 'none:output-corners' in format_report(result)
    tool = _tool()
    cases = {
        'bad rule': ([SMOKE, '--padding', 'none', '--resample', 'cubic'], "--resample: unknown resample rule 'cubic'"),
        'no none': ([SMOKE, '--padding', 'zeros', '--resample', 'input'], 'mode none is not among --padding'),
    }
    one_line_errors(tool.main, cases, 'tools/audit_position.py', [SMOKE, '--resample', 'nope'], 'unknown resample rule')


@pytest.mark.parametrize('config', CONFIGS, ids=[os.path.relpath(p, os.path.join(ROOT, 'configs')) for p in CONFIGS])
def test_audit_runs_on_every_shipped_config(config):
    from mmengine import Config

    seg = Config.fromfile(config).default_scope == 'mmseg'
    # ConvNeXt's 7x7 depthwise convs pad 3: circular padding needs a last stage (stride 32) of >= 3x3
    side = 128 if 'convnext' in config else 64
    result = audit(config, modes=['zeros', 'circular'], size=(64, 128) if seg else (side, side))
    assert result['layers'] and all(e['in_size'] for e in result['layers'] if e['name'].startswith('backbone.'))
    assert result['levels'] and set(result['leak']) == {'zeros', 'circular'}
    assert max(result['leak']['zeros'].values()) > 0.01
    assert max(result['leak']['circular'].values()) < 1e-6
    assert len(result['levels']) == (4 if seg else 9)  # backbone stages (+ 5 FPN levels for detectors)


def _tool():
    return load_tool('audit_position')


def test_cli_writes_json_and_bad_input_is_one_line(tmp_path, capsys, one_line_errors):
    tool = _tool()
    out = tmp_path / 'audit.json'
    tool.main([SMOKE, '--size', '64', '64', '--padding', 'zeros', 'reflect', '--out', str(out)])
    stdout = capsys.readouterr().out
    assert 'leak score' in stdout and 'uneven  backbone.conv1' in stdout
    result = json.loads(out.read_text())
    assert set(result['leak']) == {'zeros', 'reflect'} and result['size'] == [64, 64]
    assert result['uneven'] == STRIDED and result['hardware']

    (tmp_path / 'bad.pth').write_text('not a checkpoint')
    cases = {
        'unknown mode': ([SMOKE, '--padding', 'zeros', 'mirror'], "--padding: unknown padding mode 'mirror'"),
        'bad checkpoint': ([SMOKE, '--checkpoint', str(tmp_path / 'bad.pth')], 'not a readable torch checkpoint'),
        'bad size': ([SMOKE, '--size', '0', '64'], 'expected two positive sides'),
    }
    one_line_errors(
        tool.main, cases, 'tools/audit_position.py', [str(tmp_path / 'nope.py')], 'nope.py: config file not found'
    )
