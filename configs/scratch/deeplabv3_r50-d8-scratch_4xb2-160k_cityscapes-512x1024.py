_base_ = '../deeplabv3/deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024.py'
# deeplabv3 R50-D8 on Cityscapes from random init. mmseg ships no from-scratch recipe, so this one follows
# mmdet's (He et al. 2019): normalisation that trains from random weights everywhere -- SyncBN in the
# backbone and heads with norm_eval=False, as mmseg's config already has (not GroupNorm: 2 crops of
# 512x1024 per GPU give SyncBN 8 images across 4 GPUs) -- and a longer schedule: 160k iterations, twice
# the ImageNet-initialised 80k. The length is our choice, not a published recipe; no published number.
model = dict(pretrained=None, backbone=dict(init_cfg=None))
train_cfg = dict(max_iters=160000, val_interval=16000)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=160000, by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=16000))
