"""The grid's preflight forward pass (harness/run/preflight.py): one image of the training input size through
each variant's model on CPU, so that a layer too wide for its input fails before anything trains, named.

Each failing case is paired with a passing one that differs only in what the check is about (crop size,
scope), so the check is shown to tell them apart. The end-to-end refusal of a grid (exit 2, one line, no
run touched) is in tests/run/test_bad_input.py.
"""

import re

import pytest
from mmengine.config import Config

from harness.errors import ConfigError
from harness.paths import REPO_ROOT
from harness.run.config import check_model
from harness.run.preflight import forward_check

pytestmark = pytest.mark.usefixtures('repo_tiny_data')  # Mask R-CNN / SOLO train at the stored size of data/
DEEPLAB = str(REPO_ROOT / 'configs/smoke/deeplabv3_r18-d8_tiny-cityscapes.py')
MASK_RCNN = str(REPO_ROOT / 'configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py')
SOLO = str(REPO_ROOT / 'configs/smoke/solo_r18_fpn_tiny-coco.py')
NONE_DOES_NOT_FIT = (
    r'padding mode none needs a valid Conv2d, but its kernel extent (\d+)x(\d+) is larger than its '
    r'(\d+)x(\d+) input'
)


def _check(path, padding=None, **options):
    cfg = Config.fromfile(path)
    if padding is not None:
        cfg.model.padding = padding
    cfg.merge_from_dict(options)
    return forward_check('v_seed0', check_model('v_seed0', cfg), cfg)


def test_aspp_too_wide_for_a_small_crop_is_named():
    """DeepLabV3's ASPP branch with dilation 9 spans 19 rows; a 128x256 crop gives 16x32 features (D8)."""
    with pytest.raises(ConfigError) as e:
        _check(DEEPLAB, dict(mode='none', scope='all'))
    message = str(e.value)
    assert '\n' not in message and message.startswith(
        'v_seed0: one forward pass at the training input size 128x256 (the data_preprocessor size (crop)) on CPU: '
    )
    m = re.search(r'decode_head\.aspp_modules\.(\d)\.conv: ' + NONE_DOES_NOT_FIT, message)
    assert m and m.group(1) in '123' and int(m.group(2)) > int(m.group(4)) and m.group(4, 5) == ('16', '32'), message
    assert message.endswith('expected every patched layer to fit its input at the training size')
    # a 160-row crop gives 20 rows of features: every branch fits, the same model passes
    assert _check(DEEPLAB, dict(mode='none', scope='all'), **{'model.data_preprocessor.size': (160, 256)}) is None
    assert _check(DEEPLAB) is None  # and zeros padding fits anything


def test_auxiliary_heads_are_run_too():
    """mmseg's tensor mode runs the decode head only; the auxiliary FCN head's 3x3 conv on 2x2 features
    (a 16x16 crop) does not fit with padding none, and must be found all the same."""
    with pytest.raises(ConfigError, match=r'auxiliary_head\.convs\.0\.conv: ' + NONE_DOES_NOT_FIT):
        _check(DEEPLAB, dict(mode='none', scope=['auxiliary_head']), **{'model.data_preprocessor.size': (16, 16)})
    assert _check(DEEPLAB, dict(mode='none', scope=['auxiliary_head'])) is None


def test_detectors_at_their_stored_size():
    """The smoke grid's Mask R-CNN `none` variant (backbone + FPN) fits its 128x128 images; with scope all
    the RPN's 3x3 conv on the 2x2 stride-64 level does not (why the grid narrows the scope)."""
    assert _check(MASK_RCNN, dict(mode='none', scope=['backbone', 'neck'])) is None
    with pytest.raises(
        ConfigError,
        match=r'^v_seed0: one forward pass at the training input size 128x128 \(as stored.*'
        r'rpn_head\.rpn_conv: ' + NONE_DOES_NOT_FIT,
    ):
        _check(MASK_RCNN, dict(mode='none', scope='all'))
    assert _check(SOLO) is None and _check(SOLO, solo_coords=False) is None


def test_other_forward_failures_name_the_run():
    """A setting the model builds with but cannot run (FPN told its last input has 1024 channels; ResNet-18
    gives 512) is refused before training too, with the model's own error."""
    with pytest.raises(
        ConfigError,
        match=r'^v_seed0: one forward pass .* fails \(RuntimeError: .*1024.*; expected a '
        r'model that runs on one image of its training size$',
    ):
        _check(MASK_RCNN, **{'model.neck.in_channels': [64, 128, 256, 1024]})


def test_op_without_a_cpu_kernel_is_skipped_with_a_note(monkeypatch):
    """A model that may run on GPUs only (an mmcv op without a CPU kernel) is not refused on a CPU."""
    from mmdet.models.backbones import ResNet

    def no_cpu_kernel(self, x):
        raise RuntimeError('roi_pool_forward_impl: implementation for device cpu not found.')

    monkeypatch.setattr(ResNet, 'forward', no_cpu_kernel)
    note = _check(MASK_RCNN)
    assert note.startswith(
        'v_seed0: preflight forward pass skipped: an op has no CPU kernel (RuntimeError: roi_pool_forward_impl'
    )


def test_unknown_size_is_a_note_not_an_error():
    cfg = Config.fromfile(MASK_RCNN)
    cfg.train_dataloader.dataset.data_root = '/nonexistent/'
    note = forward_check('v_seed0', check_model('v_seed0', cfg), cfg)
    assert note.startswith('v_seed0: no preflight forward pass: cannot tell the training input size')
