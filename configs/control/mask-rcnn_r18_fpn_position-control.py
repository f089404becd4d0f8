_base_ = ['../smoke/mask-rcnn_r18_fpn_tiny-coco.py', './_position-control.py']
# Mask R-CNN on the 64x64 position-control data, from scratch in a few CPU-minutes: ResNet-18 at half
# width (base 32 channels), 64-channel FPN, anchors of 16 px at stride 4 (scale 4, not 8) for the
# 12-29 px shapes, 32 sampled RoIs per image, a 2-conv 32-channel mask head, 100 proposals at test.
# Every backbone stage trains, BN with batch statistics, AdamW: measured here (zeros, one seed, 200
# iterations at full width) 31.8 box AP against 8.0 with the smoke recipe (frozen random stem, BN in
# eval mode, SGD). Half width halves the step time: 250 iterations cost less than 200 at full width.
max_iters = 250
model = dict(
    backbone=dict(base_channels=32, frozen_stages=-1, norm_eval=False),
    neck=dict(in_channels=[32, 64, 128, 256]),
    rpn_head=dict(anchor_generator=dict(scales=[4])),
    roi_head=dict(mask_head=dict(num_convs=2, conv_out_channels=32)),
    train_cfg=dict(rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=100)),
)
train_dataloader = dict(sampler={{_base_.control.train_sampler}}, dataset={{_base_.control.train_dataset}})
test_dataloader = dict(dataset={{_base_.control.test_dataset}})
test_evaluator = {{_base_.control.test_evaluator}}
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='MultiStepLR', by_epoch=False, milestones=[int(max_iters * 0.9)], gamma=0.1),
]
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=0.001, weight_decay=0.05))
default_hooks = dict(checkpoint={{_base_.control.checkpoint}})
