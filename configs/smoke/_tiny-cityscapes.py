# Tiny Cityscapes-format data made by tools/make_tiny_dataset.py (128x256 images; road and sidewalk
# share one texture and differ only by position) and a short, stable CPU schedule, shared by the
# smoke segmentor configs through `{{_base_.tiny.<key>}}` (mmengine refuses a key defined by two bases).
tiny_data_root = 'data/tiny_cityscapes/'
tiny_max_iters = 60
tiny_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),  # horizontal: road stays central, sidewalks stay at the sides
    dict(type='PackSegInputs'),
]
tiny_test_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
tiny_val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=tiny_data_root, pipeline=tiny_test_pipeline),
)
tiny = dict(
    crop_size=(128, 256),
    train_dataloader=dict(
        batch_size=4,
        num_workers=0,
        persistent_workers=False,  # CPU: worker start-up costs more than it saves
        dataset=dict(data_root=tiny_data_root, pipeline=tiny_train_pipeline),
    ),
    # No validation inside training: tools/run_ablation.sh evaluates the final checkpoint (harness/run/worker.py).
    val_dataloader=None,
    val_cfg=None,
    val_evaluator=None,
    test_dataloader=tiny_val_dataloader,
    train_cfg=dict(max_iters=tiny_max_iters),
    # Warm-up and gradient clipping keep random-init training finite at this scale.
    param_scheduler=[
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
        dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=20, end=tiny_max_iters, by_epoch=False),
    ],
    optim_wrapper=dict(optimizer=dict(lr=0.01), clip_grad=dict(_delete_=True, max_norm=10, norm_type=2)),
    default_hooks=dict(
        logger=dict(interval=10),
        # a CPU smoke run trains about a minute: one checkpoint, at its end (interval -1: none before; a
        # SIGTERM still saves the current iteration, PreemptionHook), instead of three that cost seconds each
        checkpoint=dict(by_epoch=False, interval=-1, max_keep_ckpts=1, save_last=True),
    ),
    env_cfg=dict(dist_cfg=dict(backend='gloo')),  # the CPU default; tools/train.py picks nccl on GPUs
)
