_base_ = ['../solo/solo_r50_fpn_1x_coco.py', './_tiny-coco.py']
# SOLO at smoke scale: ResNet-18 from random init, 64-channel FPN, 2 stacked head convs, grids of 12
# cells for the 12-40 px shapes at 128 px (the stock 40 gives 1,600 mask channels of 3 px cells), lr 0.02
# and 150 iterations (not the other smoke configs' 60): with the stock grids and 60 iterations the mask
# loss had not moved and SOLO detected nothing; this recipe reaches 4.2 mask AP (seed 0), and a run costs
# about what a 60-iteration smoke Mask R-CNN run does.
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    mask_head=dict(
        in_channels=64,
        feat_channels=64,
        stacked_convs=2,
        num_classes=3,
        num_grids=[12, 12, 8, 6, 4],
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
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=150)
param_scheduler = {{_base_.tiny.param_scheduler}}
optim_wrapper = dict(optimizer=dict(lr=0.02), clip_grad={{_base_.tiny.optim_wrapper.clip_grad}})
default_hooks = {{_base_.tiny.default_hooks}}
log_processor = {{_base_.tiny.log_processor}}
env_cfg = {{_base_.tiny.env_cfg}}
