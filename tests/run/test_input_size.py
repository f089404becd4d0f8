"""The training input size read from a config (harness/data/input_size.py): what the preflight forward pass
and the position probe use. Expected sizes are worked out by hand from each config's own numbers."""

import pytest
from mmengine.config import Config
from PIL import Image

from harness.data.input_size import train_input_size
from harness.paths import REPO_ROOT


def _cfg(pipeline, scope='mmdet', size=None, **dataset):
    pre = dict(type='DetDataPreprocessor') if size is None else dict(type='SegDataPreprocessor', size=size)
    return Config(
        dict(
            default_scope=scope,
            model=dict(type='X', data_preprocessor=pre),
            train_dataloader=dict(dataset=dict(type='D', pipeline=pipeline, **dataset)),
        )
    )


def test_shipped_configs():
    # mmdet's Mask R-CNN 1x: Resize scale=(1333, 800) keep_ratio -> landscape 800 high, 1333 wide
    size, how = train_input_size(Config.fromfile(str(REPO_ROOT / 'configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py')))
    assert size == (800, 1333) and 'Resize scale 1333x800 keep_ratio' in how
    # mmseg's Cityscapes crop 512x1024, written (h, w) in data_preprocessor.size
    size, how = train_input_size(
        Config.fromfile(str(REPO_ROOT / 'configs/deeplabv3/deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024.py'))
    )
    assert size == (512, 1024) and 'data_preprocessor' in how
    size, _ = train_input_size(Config.fromfile(str(REPO_ROOT / 'configs/smoke/fcn_r18-d8_tiny-cityscapes.py')))
    assert size == (128, 256)


def test_pipeline_steps():
    load = dict(type='LoadImageFromFile')
    assert train_input_size(_cfg([load, dict(type='Resize', scale=(640, 480))]))[0] == (480, 640)  # (w, h)
    assert train_input_size(_cfg([load, dict(type='Resize', scale=(480, 640), keep_ratio=True)]))[0] == (480, 640)
    # multi-scale: the smallest choice, where a layer is likeliest not to fit
    scales = [(1333, 640), (1333, 672), (1333, 800)]
    assert train_input_size(_cfg([dict(type='RandomChoiceResize', scales=scales, keep_ratio=True)]))[0] == (640, 1333)
    # scale x the smallest ratio (0.5): 1024x512, then mmseg's crop (h, w) = (256, 512) caps both sides
    steps = [
        dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
        dict(type='RandomCrop', crop_size=(256, 512)),
    ]
    assert train_input_size(_cfg(steps, scope='mmseg'))[0] == (256, 512)
    # mmdet writes crops (w, h): (300, 200) caps to 200 high, 300 wide; then Pad to a fixed (w, h) = (320, 256)
    steps = [dict(type='Resize', scale=(1333, 800), keep_ratio=True), dict(type='RandomCrop', crop_size=(300, 200))]
    assert train_input_size(_cfg(steps))[0] == (200, 300)
    assert train_input_size(_cfg(steps + [dict(type='Pad', size=(320, 256))]))[0] == (256, 320)
    assert train_input_size(_cfg(steps + [dict(type='Pad', size_divisor=32)]))[0] == (224, 320)
    # a relative crop says nothing absolute; a scale range takes each edge's smaller end
    assert train_input_size(
        _cfg(
            [dict(type='Resize', scale=(100, 50)), dict(type='RandomCrop', crop_size=(0.5, 0.5), crop_type='relative')]
        )
    )[0] == (50, 100)
    assert train_input_size(_cfg([dict(type='RandomResize', scale=[(200, 100), (150, 120)])]))[0] == (100, 150)
    # RandomChoice (mmdet's ConvNeXt / DETR recipes): the branch that gives the smallest size; a branch that
    # resizes again after its crop ends at that resize
    choice = dict(
        type='RandomChoice',
        transforms=[
            [dict(type='RandomChoiceResize', scales=[(480, 1333), (800, 1333)], keep_ratio=True)],
            [
                dict(type='RandomChoiceResize', scales=[(400, 1333)], keep_ratio=True),
                dict(type='RandomCrop', crop_type='absolute_range', crop_size=(384, 600)),
                dict(type='RandomChoiceResize', scales=[(416, 1333)], keep_ratio=True),
            ],
        ],
    )
    size, how = train_input_size(_cfg([load, choice]))
    assert size == (416, 1333) and 'RandomChoice, smallest branch' in how, how
    # the data_preprocessor's fixed size wins over the pipeline
    assert train_input_size(_cfg([dict(type='Resize', scale=(640, 480))], size=(96, 64)))[0] == (96, 64)


def test_as_stored_reads_the_first_training_image(tmp_path):
    (tmp_path / 'img' / 'b').mkdir(parents=True)
    Image.new('RGB', (70, 40)).save(tmp_path / 'img' / 'b' / 'x.png')
    Image.new('RGB', (30, 20)).save(tmp_path / 'img' / 'a.jpg')
    cfg = _cfg([dict(type='LoadImageFromFile')], data_root=str(tmp_path), data_prefix=dict(img='img/'))
    size, how = train_input_size(cfg)
    assert size == (20, 30) and 'as stored' in how and 'a.jpg' in how
    # mmseg's key for the image folder; a wrapper (RepeatDataset) around the dataset
    cfg = Config(
        dict(
            default_scope='mmseg',
            model=dict(),
            train_dataloader=dict(
                dataset=dict(
                    type='RepeatDataset',
                    times=2,
                    dataset=dict(data_root=str(tmp_path), data_prefix=dict(img_path='img/b')),
                )
            ),
        )
    )
    assert train_input_size(cfg)[0] == (40, 70)


@pytest.mark.parametrize(
    'cfg,why',
    [
        (Config(dict(model=dict())), 'no train_dataloader'),
        (_cfg([], data_root='/nonexistent', data_prefix=dict(img='x/')), 'does not exist'),
    ],
)
def test_unknown_size_says_why(cfg, why):
    size, how = train_input_size(cfg)
    assert size is None and why in how
