# The position control's data (configs/ablations/position_control.yaml): the smoke detector configs
# re-pointed at data/tiny_coco_control, the seamless variant of tiny COCO (harness/data/tiny_coco.py,
# `seamless=True`: a background that tiles, shapes wholly inside the top or the bottom half), 64x64
# images: all one size and a multiple of 32, so the batch has no padding canvas, and half the height
# (32) is a multiple of every backbone stride, so a circular-padded backbone and FPN see `box_top` and
# `box_bottom` as shifts of one another (the detector's RPN clipping and RoIAlign clamping at the image
# edge aside: tests/patch/test_control_shift.py) while a zero-padded one can learn them. Horizontal flips
# only (they keep the top/bottom labels). Spread over each model's config with `{{_base_.control.<key>}}`, as
# configs/smoke/_tiny-coco.py does; each model config sets its own schedule.
control_root = 'data/tiny_coco_control/'
control_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(64, 64), keep_ratio=True),  # the training size: a no-op, records scale_factor
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
control = dict(
    train_dataset=dict(data_root=control_root),
    # The sampler the committed control reports were run with (reports/position_control), kept so that they
    # are reproduced exactly; the smoke configs moved to InfiniteSampler (no 2 s pause per pass).
    train_sampler=dict(type='DefaultSampler', shuffle=True),
    test_dataset=dict(data_root=control_root, pipeline=control_test_pipeline),
    # AP per class (disk, box_top, box_bottom): whether only the two square classes, which circular
    # padding makes shifts of one another, lose AP (BorderCocoMetric's keys coco/<bbox|segm>_mAP_<class>).
    test_evaluator=dict(ann_file=control_root + 'annotations/instances_val2017.json', classwise=True),
    checkpoint=dict(interval=100),
)
