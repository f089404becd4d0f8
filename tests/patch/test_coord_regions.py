"""CoordConv on full-image feature maps takes x / y over each image's own region of the padded batch
canvas (from img_shape), so a pixel's coordinates do not depend on its batch-mates (issue 9, 4c)."""

import torch

from harness.patch.coordconv import coordinates
from harness.testing import build


def _raw_batch(shapes, seed=0):
    from mmdet.testing import demo_mm_inputs

    torch.manual_seed(seed)
    return demo_mm_inputs(
        len(shapes), [(3, h, w) for h, w in shapes], num_items=[2] * len(shapes), num_classes=3, with_mask=True
    )


def _coords_seen(model, conv, raw):
    """Run the model (tensor mode) on a raw batch; the coordinate maps `conv` used, and the canvas."""
    seen = []
    plain = conv.coordinate_map
    conv.coordinate_map = lambda x: seen.append(plain(x)) or seen[-1]
    try:
        data = model.data_preprocessor(raw, False)
        with torch.no_grad():
            model(**data, mode='tensor')
    finally:
        del conv.coordinate_map
    return seen[0], tuple(data['inputs'].shape[-2:])


def test_coordinates_follow_the_image_not_the_canvas():
    model = build('mask_rcnn_r18', coordconv=dict(sites=['fpn_out', 'mask_head_first'])).eval()
    where = {e['name']: e['coordinates'] for e in model.harness_report['coordconv']}
    assert where['neck.fpn_convs.0.conv'] == 'per-image region'
    assert where['roi_head.mask_head.convs.0.conv'] == 'whole input'  # RoI features: no image region
    conv = model.neck.fpn_convs[0].conv  # stride 4
    mixed, canvas = _coords_seen(model, conv, _raw_batch([(100, 120), (150, 90)]))
    alone, canvas_alone = _coords_seen(model, conv, _raw_batch([(100, 120)]))
    assert canvas == (160, 128) and canvas_alone == (128, 128) and mixed.shape[-2:] == (40, 32)
    # image 0 covers 25 x 30 feature pixels in both batches: the same coordinates, -1 to 1 across it
    torch.testing.assert_close(mixed[0, :, :25, :30], alone[0, :, :25, :30])
    x, y = mixed[0, 0], mixed[0, 1]
    torch.testing.assert_close(x[0, [0, 29]], torch.tensor([-1.0, 1.0]))
    torch.testing.assert_close(y[[0, 24], 0], torch.tensor([-1.0, 1.0]))
    torch.testing.assert_close(y[-1, 0], torch.tensor(-1 + 2 * 39 / 24))  # continued linearly into the padding
    # image 1 fills the canvas height (150 of 160: 37.5 rows) and 90 of 128 columns (22.5)
    torch.testing.assert_close(mixed[1, 0, 0, :3], -1 + 2 * torch.arange(3.0) / 21.5)
    # what canvas-wide coordinates would give: image 0's pixels move with its batch-mate
    stock_mixed, stock_alone = (
        coordinates(2, 40, 32, False, 'cpu', torch.float32),
        coordinates(1, 32, 32, False, 'cpu', torch.float32),
    )
    assert not torch.allclose(stock_mixed[0, :, :25, :30], stock_alone[0, :, :25, :30])
    # one image: the canvas is its own (up to the padding to 32), equal-size batches: stock coordinates
    same, _ = _coords_seen(model, conv, _raw_batch([(128, 96), (128, 96)]))
    torch.testing.assert_close(same, coordinates(2, 32, 24, False, 'cpu', torch.float32), rtol=0, atol=0)


def test_direct_backbone_calls_and_failed_forwards_use_the_whole_input():
    model = build('mask_rcnn_r18', coordconv=dict(sites=['backbone_stem'])).eval()
    conv = model.backbone.conv1
    with torch.no_grad():
        conv.coord_weight.normal_()
    _coords_seen(model, conv, _raw_batch([(100, 120), (150, 90)]))
    x = torch.randn(2, 3, 160, 128)  # the very canvas of that batch, but no data samples with it
    seen = []
    plain = conv.coordinate_map
    conv.coordinate_map = lambda t: seen.append(plain(t)) or seen[-1]
    with torch.no_grad():
        model.backbone(x)
    torch.testing.assert_close(seen[0], coordinates(2, 160, 128, False, 'cpu', torch.float32), rtol=0, atol=0)
