_base_ = ['mmpretrain::resnet/resnetv1c50_8xb32_in1k.py', '../_base_/harness.py']
# mmpretrain's ResNetV1c-50 ImageNet-1k recipe (the model zoo reports 77.01 top-1: published, not ours)
# with mmseg's own ResNetV1c class as the backbone: mmpretrain's ResNetV1c names its deep-stem layers
# `stem.0.conv` / `stem.0.bn`, mmseg's `stem.0` / `stem.1`, so only the same class gives weights that
# load into the shipped DeepLabV3 / FCN R-50-D8 configs key for key (tests/run/test_pretrain.py).
# Standard strides and no dilation here; the D8 models dilate the same weights.
custom_imports = dict(imports=['harness.engine.register', 'mmseg.models'], allow_failed_imports=False)
model = dict(
    type='HarnessModel',
    base_type='ImageClassifier',
    padding=dict(mode='zeros', scope='all'),
    backbone=dict(
        _delete_=True,
        type='mmseg.ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(3,),
        style='pytorch',
        norm_cfg=dict(type='BN', requires_grad=True),
    ),
)
# Keep the last 3 epoch checkpoints (the recipe keeps all 100, ~200 MB each with the optimizer state).
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
