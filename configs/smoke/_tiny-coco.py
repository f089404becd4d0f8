# Tiny COCO-format data made by tools/make_tiny_dataset.py (128x128 images, 3 classes whose labels
# depend on position) and a short, stable CPU schedule, shared by the smoke detector configs.
# mmengine refuses a key defined by two `_base_` files, so the settings live in one `tiny` dict that
# each smoke config spreads over its model's config with `{{_base_.tiny.<key>}}`.
tiny_data_root = 'data/tiny_coco/'
tiny_metainfo = dict(classes=('disk', 'box_top', 'box_bottom'))
tiny_max_iters = 60
tiny_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),  # horizontal: keeps the top/bottom rule intact
    dict(type='PackDetInputs'),
]
tiny_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),  # a no-op at 128², but records scale_factor
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
tiny_val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=tiny_data_root, metainfo=tiny_metainfo, pipeline=tiny_test_pipeline),
)
tiny_val_evaluator = dict(ann_file=tiny_data_root + 'annotations/instances_val2017.json')
tiny = dict(
    train_dataloader=dict(
        batch_size=4,
        num_workers=0,
        persistent_workers=False,  # CPU: worker start-up costs more than it saves
        # One endless shuffle: mmengine's iteration loop sleeps 2 s at the end of each pass over a finite
        # sampler (mmdet's DefaultSampler), 18 s of a 150-iteration SOLO run on these 64 images.
        sampler=dict(type='InfiniteSampler', shuffle=True),
        batch_sampler=None,
        dataset=dict(
            data_root=tiny_data_root,
            metainfo=tiny_metainfo,
            pipeline=tiny_train_pipeline,
            filter_cfg=dict(filter_empty_gt=True, min_size=4),
        ),
    ),
    # No validation inside training: tools/run_ablation.sh evaluates the final checkpoint (harness/run/worker.py).
    val_dataloader=None,
    val_cfg=None,
    val_evaluator=None,
    test_dataloader=tiny_val_dataloader,
    test_evaluator=tiny_val_evaluator,
    # Iteration-based, validated once at the end; warm-up and gradient clipping keep random-init
    # training finite at this scale (without them circular padding diverged here, docs/STACK.md).
    train_cfg=dict(_delete_=True, type='IterBasedTrainLoop', max_iters=tiny_max_iters),
    param_scheduler=[dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20)],
    optim_wrapper=dict(optimizer=dict(lr=0.01), clip_grad=dict(max_norm=10, norm_type=2)),
    default_hooks=dict(
        logger=dict(interval=10),
        # a CPU smoke run trains about a minute: one checkpoint, at its end (interval -1: none before; a
        # SIGTERM still saves the current iteration, PreemptionHook), instead of three that cost seconds each
        checkpoint=dict(by_epoch=False, interval=-1, max_keep_ckpts=1, save_last=True),
        visualization=dict(draw=False),
    ),
    log_processor=dict(by_epoch=False),
    env_cfg=dict(dist_cfg=dict(backend='gloo')),  # the CPU default; tools/train.py picks nccl on GPUs
)
