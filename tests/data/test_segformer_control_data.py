"""The segmentation positive control's data (`make_tiny_cityscapes(..., halves=True)`,
configs/control/segformer_mit-b0_position-control.py): only a cue from the image border separates `sky`
(above the middle) from `road` (below it).

It is only a control if a network that sees the image as a torus has nothing to go on: one texture
over the whole image, no seam at the midline or where the image wraps, labels split exactly at H/2,
and nothing in the pipeline (vertical flips, crops, a batch canvas) adds a cue or relabels the halves.
"""

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from harness.data import check_cityscapes, make_tiny_cityscapes
from harness.data.tiny import read_stamp
from harness.data.tiny_cityscapes import CONTROL_PARAMS, CONTROL_ROOT, ensure_control_data
from harness.errors import ConfigError
from harness.paths import REPO_ROOT

CONFIG = REPO_ROOT / 'configs/control/segformer_mit-b0_position-control.py'
SKY, ROAD = 10, 0  # train ids


@pytest.fixture(scope='module')
def halves(tmp_path_factory):
    return make_tiny_cityscapes(
        tmp_path_factory.mktemp('data') / 'halves', n_train=16, n_val=4, size=(64, 128), halves=True
    )


def _pairs(tiny, split='train'):
    for label in sorted((tiny.root / tiny.ann_files[split]).rglob('*_gtFine_labelTrainIds.png')):
        image = str(label).replace('gtFine', 'leftImg8bit').replace('_leftImg8bit_labelTrainIds', '_leftImg8bit')
        with Image.open(image) as im, Image.open(label) as lb:
            yield np.asarray(im, dtype=np.float64), np.asarray(lb)


def test_labels_split_exactly_at_the_middle(halves):
    n = 0
    for _, label in _pairs(halves):
        h = label.shape[0]
        assert (label[: h // 2] == SKY).all() and (label[h // 2 :] == ROAD).all()
        n += 1
    assert n == 16
    for split in ('train', 'val'):
        check_cityscapes(halves.root, split)


def test_one_texture_without_a_seam_at_the_midline_or_the_wrap(halves):
    """Mean |row difference| across the wrap (last row -> first) and across the midline, over the mean
    between neighbouring rows inside each half: 1 = no seam."""
    wrap, mid, inner = [], [], []
    for px, _ in _pairs(halves):
        h = px.shape[0]
        wrap.append(np.abs(px[-1] - px[0]).mean())
        mid.append(np.abs(px[h // 2 - 1] - px[h // 2]).mean())
        inner.append(np.mean([np.abs(px[i] - px[i + 1]).mean() for i in range(h - 1) if i != h // 2 - 1]))
    assert 0.9 < np.mean(wrap) / np.mean(inner) < 1.1 and 0.9 < np.mean(mid) / np.mean(inner) < 1.1


def test_halves_need_an_even_height(tmp_path):
    with pytest.raises(ConfigError, match=r'odd height with halves=True; expected an even H'):
        make_tiny_cityscapes(tmp_path / 'odd', n_train=1, n_val=1, size=(63, 64), halves=True)


def test_ensure_control_data_generates_once(tmp_path):
    said = []
    ensure_control_data(tmp_path, log=said.append)
    assert said == [f'generating {tmp_path / CONTROL_ROOT} ...']
    stamp = read_stamp(tmp_path / CONTROL_ROOT)
    assert stamp['complete'] and stamp['params'] == dict(CONTROL_PARAMS, size=list(CONTROL_PARAMS['size']))
    said.clear()
    ensure_control_data(tmp_path, log=said.append)
    assert said == []


def test_control_config_adds_no_position_cue():
    """It reads the control set at the images' own size (crop = image: no canvas, no crop offset), half
    the height a multiple of MiT's total stride 32, horizontal flips only."""
    cfg = Config.fromfile(str(CONFIG))
    h, w = CONTROL_PARAMS['size']
    assert h % 64 == 0 and w % 32 == 0 and CONTROL_PARAMS['halves']
    assert tuple(cfg.model.data_preprocessor.size) == (h, w)
    for loader in (cfg.train_dataloader, cfg.test_dataloader):
        assert loader.dataset.data_root.rstrip('/') == CONTROL_ROOT
        for step in loader.dataset.pipeline:
            assert 'Crop' not in step['type'] and 'Resize' not in step['type'], step
            if 'Flip' in step['type']:
                assert step.get('direction', 'horizontal') == 'horizontal', step
