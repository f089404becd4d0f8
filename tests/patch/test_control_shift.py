"""What the positive control's circular Mask R-CNN can and cannot tell apart: a control image shifted
circularly by half its height (configs/control/, configs/ablations/position_control.yaml).

The control's claim is that a network with circular padding everywhere sees the 64x64 image as a
torus, so `box_top` and `box_bottom` (identical squares, one half apart) look the same to it. For the
backbone and the FPN levels the RoI heads read (P2-P5, strides 4-32) that is exact: every padded conv
and pool wraps, 32 px is a multiple of every stride, and FPN's nearest upsampling commutes with a
shift by whole coarse cells, so the features of the shifted image are the features rolled by 32 /
stride rows. The detector as a whole is not a torus, in three places:

- FPN's extra level P6 (a stride-2 subsampling of the 2x2 P5, read by the RPN only) keeps P5's
  top-left cell: a shift of one P5 row is not a multiple of its stride;
- the RPN clips its proposals to the image, so a box that would wrap around the edge is cut;
- RoIAlign clamps sample points that fall above the first or below the last feature row to that row
  (mmcv's bilinear_interpolate) instead of wrapping.

So the test feeds the square's own box as the RoI (no RPN) and asserts what is true: the circular
model's class scores (the RoI head's logits) for the square are equal at the two positions, to float
round-off, when the RoI stays inside the feature map at both; they differ when it reaches the image
edge at one of them (the clamp); and the zero-padded model with the same weights gives different
scores even away from the edge: the border cue the control's zeros variant learns from. Random init:
the equality holds for any weights. The contrasts are measured against round-off (at least 100x it):
at init mmdet's `fc_cls` (std 0.01) gives logits of about 0.1, so differences are small in absolute terms.
"""

import mmcv
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from pycocotools.coco import COCO

from harness.configs import read_config
from harness.data import make_tiny_coco
from harness.data.tiny_coco import CONTROL_PARAMS
from harness.diagnose.loading import build_model
from harness.paths import REPO_ROOT

CONFIG = REPO_ROOT / 'configs/control/mask-rcnn_r18_fpn_position-control.py'
SHIFT = CONTROL_PARAMS['size'][0] // 2  # half the height: box_top <-> box_bottom
EXACT = 1e-5  # float32 round-off of the same sums taken in another order


@pytest.fixture(scope='module')
def square(tmp_path_factory):
    """(a generated control image, BGR as mmcv loads it; the xyxy box of a square in it whose RoI stays
    inside the P2 map in its own half and, shifted by half the height, in the other)."""
    tiny = make_tiny_coco(tmp_path_factory.mktemp('control'), **dict(CONTROL_PARAMS, n_train=16, n_val=1))
    coco = COCO(str(tiny.root / tiny.ann_files['train']))
    for ann in coco.dataset['annotations']:
        if coco.cats[ann['category_id']]['name'] not in ('box_top', 'box_bottom'):
            continue
        x, y, w, h = ann['bbox']
        top = y % SHIFT  # the box's row offset inside its half
        if _inside_p2(top, top + h) and _inside_p2(top + SHIFT, top + h + SHIFT):
            img = mmcv.imread(str(tiny.root / tiny.img_dirs['train'] / coco.imgs[ann['image_id']]['file_name']))
            return img, [x, y, x + w, y + h]
    pytest.fail('no square away from the edges in 16 control images')


def _inside_p2(y1, y2, stride=4, size=CONTROL_PARAMS['size'][0]):
    """mmdet's RoIAlign (aligned=True) samples rows strictly between y1 / stride - 0.5 and y2 / stride - 0.5;
    mmcv clamps rows outside [0, rows - 1] to the edge row. True when nothing is clamped."""
    return y1 / stride - 0.5 >= 0 and y2 / stride - 0.5 <= size / stride - 1


def _model(mode):
    model, _ = build_model(read_config(str(CONFIG)), padding=mode, scope='all', seed=0)
    return model


def _features(model, img):
    sample = DetDataSample(metainfo=dict(img_shape=img.shape[:2], ori_shape=img.shape[:2]))
    data = model.data_preprocessor(
        {'inputs': [torch.from_numpy(img).permute(2, 0, 1).contiguous()], 'data_samples': [sample]}, False
    )
    return model.extract_feat(data['inputs'])


def _scores(model, feats, box):
    """The RoI head's class logits (disk, box_top, box_bottom, background) for one box."""
    rois = torch.tensor([[0.0, *box]])
    assert model.roi_head.bbox_roi_extractor.map_roi_levels(rois, 4).tolist() == [0]  # read from P2, stride 4
    return model.roi_head._bbox_forward(feats, rois)['cls_score'][0]


def _pair(model, img, box):
    """Scores for `box` in `img` and for the same square in `img` shifted circularly by half its height."""
    shifted_box = [box[0], (box[1] + SHIFT) % img.shape[0], box[2], (box[1] + SHIFT) % img.shape[0] + box[3] - box[1]]
    return _scores(model, _features(model, img), box), _scores(
        model, _features(model, np.roll(img, SHIFT, 0)), shifted_box
    )


@torch.no_grad()
def test_circular_features_are_exactly_equivariant_to_the_half_shift_except_p6(square):
    img, _ = square
    model = _model('circular')
    feats, moved = _features(model, img), _features(model, np.roll(img, SHIFT, 0))
    for level, stride in enumerate(model.roi_head.bbox_roi_extractor.featmap_strides):
        torch.testing.assert_close(moved[level], torch.roll(feats[level], SHIFT // stride, dims=2), atol=EXACT, rtol=0)
    assert len(feats) == 5 and feats[4].shape[-2:] == (1, 1)
    assert (moved[4] - feats[4]).abs().max() > 1e-3  # P6 keeps P5's top-left cell: not a shift of P5


@torch.no_grad()
def test_circular_roi_scores_agree_away_from_the_edge_and_zeros_do_not(square):
    img, box = square
    circular, zeros = (torch.stack(_pair(_model(mode), img, box)) for mode in ('circular', 'zeros'))
    circular_diff = (circular[0] - circular[1]).abs().max().item()
    zeros_diff = (zeros[0] - zeros[1]).abs().max().item()
    print(
        f'interior square {box}: max |score change| under the half shift: circular {circular_diff:.2e}, '
        f'zeros {zeros_diff:.2e}'
    )
    assert circular_diff <= EXACT
    assert zeros_diff > 1e-3 and zeros_diff > 100 * max(circular_diff, 1e-8)


@torch.no_grad()
def test_circular_roi_scores_differ_where_roialign_clamps_at_the_edge(square):
    """The same square rolled up to touch the top edge: its RoI's first sample rows lie above row 0 of
    P2 and are clamped there, while half an image lower they are interpolated between real rows."""
    img, box = square
    img, box = np.roll(img, -int(box[1]), 0), [box[0], 0, box[2], box[3] - box[1]]
    assert not _inside_p2(box[1], box[3])
    model = _model('circular')
    feats, moved = _features(model, img), _features(model, np.roll(img, SHIFT, 0))
    torch.testing.assert_close(moved[0], torch.roll(feats[0], SHIFT // 4, dims=2), atol=EXACT, rtol=0)  # still exact
    edge, away = _pair(model, img, box)
    edge_diff = (edge - away).abs().max().item()
    print(f'edge square {box}: max |score change| under the half shift: circular {edge_diff:.2e}')
    assert edge_diff > 100 * EXACT
