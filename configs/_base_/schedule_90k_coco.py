# mmdet's 1x COCO schedule (12 epochs at 16 images per batch) as iterations, as mmdet's own
# `configs/common/ms-90k_coco.py` does it: 90k iterations (12.3 epochs of train2017's 117k images with
# objects), steps at 60k and 80k (epochs 8 and 11 are iterations 58.6k and 80.6k), the same 500-iteration
# warm-up. Iteration-based runs resume in the middle of an epoch, so a preempted run loses at most the
# time since its last checkpoint (an epoch-based run loses up to a whole epoch, ~1 h on 8 GPUs).
# mmengine refuses a key defined by two `_base_` files: the configs take these with `{{_base_.iter90k.<key>}}`.
iter90k_max_iters = 90000
iter90k = dict(
    # Validated once, at the end: tools/run_ablation.sh evaluates the final checkpoint (harness/run/worker.py).
    train_cfg=dict(
        _delete_=True, type='IterBasedTrainLoop', max_iters=iter90k_max_iters, val_interval=iter90k_max_iters
    ),
    param_scheduler=[
        dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
        dict(type='MultiStepLR', begin=0, end=iter90k_max_iters, by_epoch=False, milestones=[60000, 80000], gamma=0.1),
    ],
    # One endless shuffled stream (mmengine restarts a finite sampler at each epoch, with a 2 s pause).
    train_dataloader=dict(sampler=dict(type='InfiniteSampler', shuffle=True)),
    default_hooks=dict(
        # 5000 iterations until CheckpointTimerHook has measured the iteration time and set the interval
        # to about 30 min of training (a grid sets it with `default_hooks.checkpoint_timer.minutes`).
        checkpoint=dict(by_epoch=False, interval=5000, max_keep_ckpts=2),
        checkpoint_timer=dict(type='CheckpointTimerHook', minutes=30),
    ),
    log_processor=dict(by_epoch=False),
)
