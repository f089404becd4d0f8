_base_ = ['../segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py', './_tiny-cityscapes.py']
# SegFormer at smoke scale: MiT-b0 from random init (nothing downloaded), 128x256 crops, BN instead of
# SyncBN in the head (SyncBN needs CUDA), a 64-channel head, whole-image test.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size={{_base_.tiny.crop_size}}),  # the 1024x1024 crop -> the tiny crop
    backbone=dict(init_cfg=None),  # the ImageNet MiT-b0 -> random init
    decode_head=dict(channels=64, norm_cfg=norm_cfg),  # 256 channels, SyncBN -> 64, BN
    test_cfg=dict(mode='whole'),
)  # 1024x1024 sliding windows -> one pass
train_dataloader = {{_base_.tiny.train_dataloader}}
val_dataloader = {{_base_.tiny.val_dataloader}}
val_cfg = {{_base_.tiny.val_cfg}}
val_evaluator = {{_base_.tiny.val_evaluator}}
test_dataloader = {{_base_.tiny.test_dataloader}}
train_cfg = {{_base_.tiny.train_cfg}}
param_scheduler = {{_base_.tiny.param_scheduler}}
# SegFormer's AdamW (lr 6e-5 for a pretrained MiT, head x10) at 1e-3 from random init, clipped as every
# smoke config is (tiny.optim_wrapper's lr is an SGD one).
optim_wrapper = dict(optimizer=dict(lr=0.001), clip_grad=dict(max_norm=10, norm_type=2))
default_hooks = {{_base_.tiny.default_hooks}}
env_cfg = {{_base_.tiny.env_cfg}}
