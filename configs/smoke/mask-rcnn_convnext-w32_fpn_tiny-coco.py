_base_ = ['../convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py', './_tiny-coco.py']
# Mask R-CNN with ConvNeXt at smoke scale: 4 stages of 1/1/2/1 blocks, 32-256 channels (ConvNeXt-T:
# 3/3/9/3, 96-768), from random init (nothing downloaded), 64-channel FPN and heads. The 128x128 images
# are resized to 256x256: at 128 the stride-32 stage is 4x4, smaller than the 7x7 depth-wise kernel,
# so padding mode none could not run a valid conv there.
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, depths=[1, 1, 2, 1], channels=[32, 64, 128, 256]),  # 'tiny' -> narrower
        drop_path_rate=0.0,  # 0.4 -> 0: nothing to regularise in a few iterations
        init_cfg=None,
    ),  # the ImageNet ConvNeXt-T -> random init
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=3),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(in_channels=64, conv_out_channels=64, num_classes=3),
    ),
    train_cfg=dict(rpn=dict(sampler=dict(num=128)), rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rcnn=dict(max_per_img=20)),
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=True),  # the 3x recipe's multi-scale crops -> 256x256
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=True),  # as in training
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
# tiny.train_dataloader / tiny.test_dataloader with the pipelines above (a `{{_base_...}}` value cannot be
# updated in the file that spreads it).
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=None,
    dataset=dict(
        data_root={{_base_.tiny_data_root}},
        metainfo={{_base_.tiny_metainfo}},
        pipeline=train_pipeline,
        filter_cfg=dict(filter_empty_gt=True, min_size=4),
    ),
)
val_dataloader = {{_base_.tiny.val_dataloader}}
val_cfg = {{_base_.tiny.val_cfg}}
val_evaluator = {{_base_.tiny.val_evaluator}}
test_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root={{_base_.tiny_data_root}}, metainfo={{_base_.tiny_metainfo}}, pipeline=test_pipeline),
)
test_evaluator = {{_base_.tiny.test_evaluator}}
train_cfg = {{_base_.tiny.train_cfg}}
param_scheduler = {{_base_.tiny.param_scheduler}}
# The 3x recipe's AdamW with layer-wise decay, without AMP (mmengine's AmpOptimWrapper needs a GPU), at
# lr 2e-4 and clipped as every smoke config is (tiny.optim_wrapper's lr is an SGD one).
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=0.0002), clip_grad=dict(max_norm=10, norm_type=2))
default_hooks = {{_base_.tiny.default_hooks}}
log_processor = {{_base_.tiny.log_processor}}
env_cfg = {{_base_.tiny.env_cfg}}
