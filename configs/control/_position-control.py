# The position control's data and schedule (configs/ablations/position_control.yaml): the smoke
# detector configs re-pointed at data/tiny_coco_control, the seamless variant of tiny COCO
# (harness/data/tiny_coco.py, `seamless=True`: a background that tiles, shapes wholly inside the top
# or the bottom half), 64x64 images: all one size and a multiple of 32, so the batch has no padding
# canvas, and half the height (32) is a multiple of every backbone stride, so a circular-padded
# network sees `box_top` and `box_bottom` as one class while a zero-padded one can learn them.
# Horizontal flips only (they keep the top/bottom labels). Spread over each model's config with
# `{{_base_.control.<key>}}`, as configs/smoke/_tiny-coco.py does.
control_root = 'data/tiny_coco_control/'
control_iters = 200
control = dict(
    train_dataset=dict(data_root=control_root),
    test_dataset=dict(data_root=control_root),
    test_evaluator=dict(ann_file=control_root + 'annotations/instances_val2017.json'),
    train_cfg=dict(max_iters=control_iters),
    param_scheduler=[
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
        dict(type='MultiStepLR', by_epoch=False, milestones=[int(control_iters * 0.8)], gamma=0.1)],
    optim_wrapper=dict(optimizer=dict(lr=0.02)),
    checkpoint=dict(interval=100),
)
