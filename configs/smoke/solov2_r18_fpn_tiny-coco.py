_base_ = ['../solov2/solov2_r50_fpn_1x_coco.py', './_tiny-coco.py']
# SOLOv2 at smoke scale: ResNet-18 from random init, 64-channel FPN, 2 stacked head convs.
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    mask_head=dict(
        in_channels=64,
        feat_channels=64,
        stacked_convs=2,
        num_classes=3,
        mask_feature_head=dict(in_channels=64, feat_channels=32, out_channels=64),
        norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
    ),
    test_cfg=dict(max_per_img=20),
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
