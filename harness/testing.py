"""The test toolkit: small real mmdet / mmseg models (R-18 versions of the packaged configs, random init,
nothing downloaded), the batches they are fed, and the feature measure a constant image's position
signal is read with. Defined once here for tests/ and benchmarks/ (which time the same models): a
package module, so nothing loads a file by path, and a wheel's top-level `tests` package (mmsegmentation
installs one) cannot shadow it."""

import copy

import numpy as np
import torch
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import MODELS, init_default_scope
from mmengine.structures import InstanceData, PixelData

from .diagnose.features import feature_levels, spatial_std
from .engine import register  # noqa: F401  (registers HarnessModel, the metrics and the hooks)
from .patch.model import harness_model

__all__ = [
    'BEYOND_RESNET',
    'DET_MODELS',
    'MODELS_UNDER_TEST',
    'SEG_MODELS',
    'batch',
    'build',
    'constant_batch',
    'feature_levels',
    'model_cfg',
    'spatial_std',
]

# R-18 versions of the packaged R-50 configs, small enough for CPU.
MASK_RCNN_HEADS_64 = dict(  # Mask R-CNN's heads on 64-channel FPN levels, 3 classes
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, num_classes=3),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(in_channels=64, conv_out_channels=64, num_classes=3),
    ),
)
R18_FPN = dict(backbone=dict(depth=18, init_cfg=None), neck=dict(in_channels=[64, 128, 256, 512], out_channels=64))
R18_D8 = dict(
    pretrained=None,
    data_preprocessor=dict(size=None, size_divisor=1),
    backbone=dict(depth=18, norm_cfg=dict(type='BN')),
    decode_head=dict(in_channels=512, channels=32, norm_cfg=dict(type='BN')),
    auxiliary_head=dict(in_channels=256, channels=16, norm_cfg=dict(type='BN')),
)

# name -> (scope, packaged base config, overrides that make it small and offline)
MODELS_UNDER_TEST = {
    'mask_rcnn_r18': (
        'mmdet',
        'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
        dict(
            R18_FPN,
            **MASK_RCNN_HEADS_64,
        ),
    ),
    'solo_r18': (
        'mmdet',
        'mmdet::solo/solo_r50_fpn_1x_coco.py',
        dict(
            R18_FPN,
            mask_head=dict(
                in_channels=64, feat_channels=64, stacked_convs=2, num_classes=3, norm_cfg=dict(type='GN', num_groups=8)
            ),
        ),
    ),
    'solov2_r18': (
        'mmdet',
        'mmdet::solov2/solov2_r50_fpn_1x_coco.py',
        dict(
            R18_FPN,
            mask_head=dict(
                in_channels=64,
                feat_channels=64,
                stacked_convs=2,
                num_classes=3,
                mask_feature_head=dict(
                    in_channels=64, feat_channels=32, out_channels=64, norm_cfg=dict(type='GN', num_groups=8)
                ),
                norm_cfg=dict(type='GN', num_groups=8),
            ),
        ),
    ),
    'deeplabv3_r18': ('mmseg', 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024.py', R18_D8),
    'fcn_r18': ('mmseg', 'mmseg::fcn/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py', R18_D8),
    # Beyond ResNets: SegFormer MiT-b0 as packaged (it is small), and Mask R-CNN with a narrow ConvNeXt
    # (mmpretrain's, 1/1/2/1 blocks of 32-256 channels; ConvNeXt-T is 3/3/9/3 of 96-768).
    'segformer_b0': (
        'mmseg',
        'mmseg::segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py',
        dict(
            data_preprocessor=dict(size=None, size_divisor=32),
            backbone=dict(init_cfg=None),
            decode_head=dict(channels=32, norm_cfg=dict(type='BN')),
        ),
    ),
    'mask_rcnn_convnext': (
        'mmdet',
        'mmdet::convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py',
        dict(
            backbone=dict(
                arch=dict(_delete_=True, depths=[1, 1, 2, 1], channels=[32, 64, 128, 256]),
                drop_path_rate=0.0,
                init_cfg=None,
            ),
            neck=dict(in_channels=[32, 64, 128, 256], out_channels=64),
            **MASK_RCNN_HEADS_64,
        ),
    ),
}
DET_MODELS = ['mask_rcnn_r18', 'solo_r18', 'solov2_r18']
SEG_MODELS = ['deeplabv3_r18', 'fcn_r18']
BEYOND_RESNET = ['segformer_b0', 'mask_rcnn_convnext']  # tests/patch/test_transformers.py
_CFG_CACHE: dict[str, tuple] = {}


def model_cfg(name):
    """The small model dict for `name` (a fresh copy)."""
    if name not in _CFG_CACHE:
        scope, path, overrides = MODELS_UNDER_TEST[name]
        cfg = get_config(path)
        cfg.merge_from_dict(dict(model=copy.deepcopy(overrides)))
        _CFG_CACHE[name] = (scope, cfg.model)
    scope, model = _CFG_CACHE[name]
    return scope, copy.deepcopy(model)


def build(name, seed=0, overrides=None, **patches):
    """Build model `name` (its model dict updated by `overrides`) after `torch.manual_seed(seed)`; with
    `patches` (padding=, coordconv=, solo_coords=) through HarnessModel."""
    scope, cfg = model_cfg(name)
    if overrides:
        merged = Config(dict(model=cfg))
        merged.merge_from_dict(dict(model=copy.deepcopy(overrides)))
        cfg = merged.model
    init_default_scope(scope)
    if patches:
        cfg = harness_model(cfg, **patches)
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def batch(name, h=125, w=130, n=2, seed=0, objects=3):
    """A raw batch (dict(inputs=[uint8 CHW], data_samples=[...])) with ground truth for model `name`, as a
    dataloader gives it: random images, `objects` random boxes with masks per image for a detector."""
    torch.manual_seed(seed)
    if MODELS_UNDER_TEST[name][0] == 'mmdet':
        from mmdet.testing import demo_mm_inputs

        return demo_mm_inputs(n, [(3, h, w)] * n, num_items=[objects] * n, num_classes=3, with_mask=True)
    from mmseg.structures import SegDataSample

    samples = []
    for _ in range(n):
        s = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        s.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, h, w)))
        samples.append(s)
    return dict(inputs=[torch.randint(0, 256, (3, h, w), dtype=torch.uint8) for _ in range(n)], data_samples=samples)


def constant_batch(scope, sizes, grey):
    """A raw batch of constant `grey` images of `sizes` [(h, w)] with a little ground truth, for an 'mmdet'
    or 'mmseg' model: a batch of mixed sizes makes the data preprocessor pad a canvas."""
    if scope == 'mmseg':
        from mmseg.structures import SegDataSample

        samples = [SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w))) for h, w in sizes]
        for s, (h, w) in zip(samples, sizes):
            s.gt_sem_seg = PixelData(data=torch.ones(1, h, w, dtype=torch.long))
    else:
        from mmdet.structures import DetDataSample
        from mmdet.structures.mask import BitmapMasks

        samples = []
        for h, w in sizes:
            s = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0)))
            mask = np.zeros((1, h, w), np.uint8)
            mask[0, 10:30, 20:40] = 1
            s.gt_instances = InstanceData(
                bboxes=torch.tensor([[20.0, 10.0, 40.0, 30.0]]), labels=torch.tensor([0]), masks=BitmapMasks(mask, h, w)
            )
            samples.append(s)
    return dict(inputs=[torch.full((3, h, w), grey, dtype=torch.uint8) for h, w in sizes], data_samples=samples)
