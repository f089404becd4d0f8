"""The positive control's data (`make_tiny_coco(..., seamless=True)`, configs/control/): only a cue from
the image border may separate `box_top` from `box_bottom`.

The control (configs/ablations/position_control.yaml) is only a control if a network that sees the
image as a torus (circular padding everywhere) has nothing to go on: every shape lies wholly inside
one half, the background has no seam where the image wraps, and nothing in the pipeline (vertical
flips, a batch padding canvas) adds a position cue or relabels the halves.
"""

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image
from pycocotools.coco import COCO

from harness.data import COCO_CLASSES, check_coco, make_tiny_coco
from harness.data.tiny import read_stamp
from harness.data.tiny_coco import CONTROL_PARAMS, CONTROL_ROOT, ensure_control_data
from harness.errors import ConfigError
from harness.paths import REPO_ROOT

CONTROL_CONFIGS = [
    'configs/control/mask-rcnn_r18_fpn_position-control.py',
    'configs/control/solo_r18_fpn_position-control.py',
]


@pytest.fixture(scope='module')
def seamless(tmp_path_factory):
    return make_tiny_coco(
        tmp_path_factory.mktemp('data') / 'control', n_train=48, n_val=8, size=(64, 64), seamless=True
    )


@pytest.fixture(scope='module')
def default(tmp_path_factory):
    return make_tiny_coco(tmp_path_factory.mktemp('data') / 'default', n_train=48, n_val=8, size=(64, 64))


def _coco(tiny):
    return COCO(str(tiny.root / tiny.ann_files['train']))


def test_every_shape_lies_wholly_in_the_half_that_names_it(seamless):
    coco = _coco(seamless)
    counts = dict.fromkeys(COCO_CLASSES, 0)
    for ann in coco.dataset['annotations']:
        h = coco.imgs[ann['image_id']]['height']
        mask = coco.annToMask(ann).astype(bool)
        rows = np.flatnonzero(mask.any(1))
        in_top, in_bottom = rows[-1] < h // 2, rows[0] >= h // 2
        assert in_top != in_bottom, (ann['id'], rows[0], rows[-1])  # never across the midline
        name = COCO_CLASSES[ann['category_id'] - 1]
        if name != 'disk':
            assert name == ('box_top' if in_top else 'box_bottom')
        counts[name] += 1
    total = sum(counts.values())
    assert all(n >= 0.2 * total for n in counts.values()), counts
    for split in ('train', 'val'):
        check_coco(seamless.root, seamless.ann_files[split], seamless.img_dirs[split])


def _seam_ratios(tiny):
    """Mean |row difference| of background pixels across the wrap (last row -> first row) and across
    the midline, each over the mean between neighbouring interior rows: 1 = no seam."""
    coco = _coco(tiny)
    wrap, mid, inner = [], [], []
    for img in coco.imgs.values():
        with Image.open(tiny.root / tiny.img_dirs['train'] / img['file_name']) as im:
            px = np.asarray(im, dtype=np.float64)
        h = px.shape[0]
        bg = np.ones(px.shape[:2], bool)
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=[img['id']])):
            bg &= ~coco.annToMask(ann).astype(bool)

        def diff(i, j, px=px, bg=bg):
            keep = bg[i] & bg[j]
            return np.abs(px[i][keep] - px[j][keep]).mean() if keep.any() else np.nan

        wrap.append(diff(h - 1, 0))
        mid.append(diff(h // 2 - 1, h // 2))
        inner.append(np.nanmean([diff(i, i + 1) for i in range(2, h - 3)]))
    return np.nanmean(wrap) / np.nanmean(inner), np.nanmean(mid) / np.nanmean(inner)


def test_the_background_has_no_seam_where_the_image_wraps(seamless, default):
    """Lossless PNG, a flat colour, a plane wave with whole periods and i.i.d. noise: the wrap looks
    like any other pair of rows. The default set (smooth random field, JPEG) shows its seam, so the
    measure can tell."""
    wrap, mid = _seam_ratios(seamless)
    assert 0.9 < wrap < 1.1 and 0.9 < mid < 1.1, (wrap, mid)
    assert _seam_ratios(default)[0] > 2
    assert next((seamless.root / 'train2017').iterdir()).suffix == '.png'


def test_seamless_needs_an_even_height(tmp_path):
    with pytest.raises(ConfigError, match=r'odd height with seamless=True; expected an even H'):
        make_tiny_coco(tmp_path / 'odd', n_train=1, n_val=1, size=(63, 64), seamless=True)


def test_ensure_control_data_generates_once(tmp_path):
    said = []
    ensure_control_data(tmp_path, log=said.append)
    assert said == [f'generating {tmp_path / CONTROL_ROOT} ...']
    stamp = read_stamp(tmp_path / CONTROL_ROOT)
    assert stamp['complete'] and stamp['params'] == dict(CONTROL_PARAMS, size=list(CONTROL_PARAMS['size']))
    said.clear()
    ensure_control_data(tmp_path, log=said.append)
    assert said == []


@pytest.mark.parametrize('path', CONTROL_CONFIGS)
def test_control_configs_add_no_position_cue(path):
    """They read the control set, whose images are all one size, a multiple of 32 with a half that is a
    multiple of 32 too (no batch padding canvas; the circular shift by half the height is exact at every
    backbone stride), and flip only horizontally (a vertical flip would swap the two classes)."""
    cfg = Config.fromfile(str(REPO_ROOT / path))
    for loader in (cfg.train_dataloader, cfg.test_dataloader):
        assert loader.dataset.data_root.rstrip('/') == CONTROL_ROOT
        for step in loader.dataset.pipeline:
            if 'Resize' in step['type']:  # train and test at the size of the images
                assert tuple(step['scale']) == tuple(CONTROL_PARAMS['size']), step
            if 'Flip' in step['type']:
                assert step.get('direction', 'horizontal') == 'horizontal', step
    assert cfg.test_evaluator.ann_file == CONTROL_ROOT + '/annotations/instances_val2017.json'
    h, w = CONTROL_PARAMS['size']
    assert h % 64 == 0 and w % 32 == 0 and CONTROL_PARAMS['seamless']
    assert cfg.model.data_preprocessor.pad_size_divisor == 32


def test_control_grid_evaluates_ap_per_class():
    """Every run of the control grid is evaluated by BorderCocoMetric (`border: true`) with `classwise`, so its
    results.json holds AP per class (`coco/<bbox|segm>_mAP_<disk|box_top|box_bottom>`): the report can show
    whether only the two square classes lose AP under circular padding."""
    from harness.evaluation import BorderCocoMetric
    from harness.launch.runner import GridRunner

    runner = GridRunner(str(REPO_ROOT / 'configs/ablations/position_control.yaml'), '/nonexistent/work_dirs')
    configs = runner.resolve_all()
    assert len(configs) == len(runner.runs) == 5 * 5  # 5 variants x 5 seeds
    for cfg in configs.values():
        assert cfg.test_evaluator.type == 'BorderCocoMetric' and cfg.test_evaluator.classwise is True
    metric = BorderCocoMetric(
        **{k: v for k, v in configs['zeros_seed0'].test_evaluator.items() if k not in ('type', '_scope_', 'ann_file')}
    )  # the data need not exist here
    assert metric.per_class and not metric.classwise  # mmdet's own colliding keys stay off
