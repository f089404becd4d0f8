"""Small real mmdet / mmseg models (random init, nothing downloaded) and inputs for them: the one
definition of the R-18 test models (tools/benchmark.py times the same ones, through benchmarks/models.py)."""
import copy

import torch
from mmengine.hub import get_config
from mmengine.registry import MODELS, init_default_scope

import harness  # noqa: F401  (registers HarnessModel)

# R-18 versions of the packaged R-50 configs, small enough for CPU.
R18_FPN = dict(backbone=dict(depth=18, init_cfg=None), neck=dict(in_channels=[64, 128, 256, 512], out_channels=64))
R18_D8 = dict(pretrained=None, data_preprocessor=dict(size=None, size_divisor=1),
              backbone=dict(depth=18, norm_cfg=dict(type='BN')),
              decode_head=dict(in_channels=512, channels=32, norm_cfg=dict(type='BN')),
              auxiliary_head=dict(in_channels=256, channels=16, norm_cfg=dict(type='BN')))

# name -> (scope, packaged base config, overrides that make it small and offline)
MODELS_UNDER_TEST = {
    'mask_rcnn_r18': ('mmdet', 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', dict(
        R18_FPN, rpn_head=dict(in_channels=64, feat_channels=64),
        roi_head=dict(bbox_roi_extractor=dict(out_channels=64), bbox_head=dict(in_channels=64, num_classes=3),
                      mask_roi_extractor=dict(out_channels=64),
                      mask_head=dict(in_channels=64, conv_out_channels=64, num_classes=3)))),
    'solo_r18': ('mmdet', 'mmdet::solo/solo_r50_fpn_1x_coco.py', dict(
        R18_FPN, mask_head=dict(in_channels=64, feat_channels=64, stacked_convs=2, num_classes=3,
                                norm_cfg=dict(type='GN', num_groups=8)))),
    'solov2_r18': ('mmdet', 'mmdet::solov2/solov2_r50_fpn_1x_coco.py', dict(
        R18_FPN, mask_head=dict(in_channels=64, feat_channels=64, stacked_convs=2, num_classes=3,
                                mask_feature_head=dict(in_channels=64, feat_channels=32, out_channels=64,
                                                       norm_cfg=dict(type='GN', num_groups=8)),
                                norm_cfg=dict(type='GN', num_groups=8)))),
    'deeplabv3_r18': ('mmseg', 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024.py', R18_D8),
    'fcn_r18': ('mmseg', 'mmseg::fcn/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py', R18_D8),
    # Beyond ResNets: SegFormer MiT-b0 as packaged (it is small), and Mask R-CNN with a narrow ConvNeXt
    # (mmpretrain's, 1/1/2/1 blocks of 32-256 channels; ConvNeXt-T is 3/3/9/3 of 96-768).
    'segformer_b0': ('mmseg', 'mmseg::segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py', dict(
        data_preprocessor=dict(size=None, size_divisor=32), backbone=dict(init_cfg=None),
        decode_head=dict(channels=32, norm_cfg=dict(type='BN')))),
    'mask_rcnn_convnext': ('mmdet', 'mmdet::convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py', dict(
        backbone=dict(arch=dict(_delete_=True, depths=[1, 1, 2, 1], channels=[32, 64, 128, 256]), drop_path_rate=0.0,
                      init_cfg=None),
        neck=dict(in_channels=[32, 64, 128, 256], out_channels=64), rpn_head=dict(in_channels=64, feat_channels=64),
        roi_head=dict(bbox_roi_extractor=dict(out_channels=64), bbox_head=dict(in_channels=64, num_classes=3),
                      mask_roi_extractor=dict(out_channels=64),
                      mask_head=dict(in_channels=64, conv_out_channels=64, num_classes=3)))),
}
DET_MODELS = ['mask_rcnn_r18', 'solo_r18', 'solov2_r18']
SEG_MODELS = ['deeplabv3_r18', 'fcn_r18']
BEYOND_RESNET = ['segformer_b0', 'mask_rcnn_convnext']  # tests/patch/test_transformers.py
_CFG_CACHE = {}


def model_cfg(name):
    """The small model dict for `name` (a fresh copy)."""
    if name not in _CFG_CACHE:
        scope, path, overrides = MODELS_UNDER_TEST[name]
        cfg = get_config(path)
        cfg.merge_from_dict(dict(model=copy.deepcopy(overrides)))
        _CFG_CACHE[name] = (scope, cfg.model)
    scope, model = _CFG_CACHE[name]
    return scope, copy.deepcopy(model)


def build(name, seed=0, **patches):
    """Build model `name`; with `patches` (padding=, coordconv=, solo_coords=) through HarnessModel."""
    scope, cfg = model_cfg(name)
    init_default_scope(scope)
    if patches:
        cfg.update(type='HarnessModel', base_type=cfg['type'], **patches)
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def batch(name, h=125, w=130, n=2, seed=0):
    """A preprocessed batch (dict(inputs=..., data_samples=...)) with ground truth for `name`."""
    torch.manual_seed(seed)
    if MODELS_UNDER_TEST[name][0] == 'mmdet':
        from mmdet.testing import demo_mm_inputs
        data = demo_mm_inputs(n, [(3, h, w)] * n, num_items=[3] * n, num_classes=3, with_mask=True)
    else:
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        samples = []
        for _ in range(n):
            s = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
            s.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, h, w)))
            samples.append(s)
        data = dict(inputs=[torch.randint(0, 256, (3, h, w), dtype=torch.uint8) for _ in range(n)],
                    data_samples=samples)
    return data
