_base_ = ['../mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', './_tiny-coco.py']
# Mask R-CNN at smoke scale: ResNet-18 from random init (nothing downloaded), 64-channel FPN and heads.
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=3),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(in_channels=64, conv_out_channels=64, num_classes=3),
    ),
    train_cfg=dict(rpn=dict(sampler=dict(num=128)), rcnn=dict(sampler=dict(num=128))),  # 128² images
    test_cfg=dict(rcnn=dict(max_per_img=20)),
)
train_dataloader = {{_base_.tiny.train_dataloader}}
val_dataloader = {{_base_.tiny.val_dataloader}}
val_cfg = {{_base_.tiny.val_cfg}}
val_evaluator = {{_base_.tiny.val_evaluator}}
test_dataloader = {{_base_.tiny.test_dataloader}}
test_evaluator = {{_base_.tiny.test_evaluator}}
train_cfg = {{_base_.tiny.train_cfg}}
param_scheduler = {{_base_.tiny.param_scheduler}}
optim_wrapper = {{_base_.tiny.optim_wrapper}}
default_hooks = {{_base_.tiny.default_hooks}}
log_processor = {{_base_.tiny.log_processor}}
env_cfg = {{_base_.tiny.env_cfg}}
