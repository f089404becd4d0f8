_base_ = ['../fcn/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py', './_tiny-cityscapes.py']
# fcn at smoke scale: ResNetV1c-18-D8 from random init (nothing downloaded), BN instead of SyncBN
# (SyncBN needs CUDA), 64-channel heads, 128x256 crops.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    data_preprocessor=dict(size={{_base_.tiny.crop_size}}),
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=512, channels=64, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=256, channels=32, norm_cfg=norm_cfg),
)
train_dataloader = {{_base_.tiny.train_dataloader}}
val_dataloader = {{_base_.tiny.val_dataloader}}
val_cfg = {{_base_.tiny.val_cfg}}
val_evaluator = {{_base_.tiny.val_evaluator}}
test_dataloader = {{_base_.tiny.test_dataloader}}
train_cfg = {{_base_.tiny.train_cfg}}
param_scheduler = {{_base_.tiny.param_scheduler}}
optim_wrapper = {{_base_.tiny.optim_wrapper}}
default_hooks = {{_base_.tiny.default_hooks}}
env_cfg = {{_base_.tiny.env_cfg}}
