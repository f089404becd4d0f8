_base_ = ['mmpretrain::_base_/default_runtime.py', '../_base_/harness.py']
# Kayhan & van Gemert's quadrant test (CVPR 2020) at CPU scale: which quadrant of a 64x64 noise image
# holds one identical object (data/tiny_quadrants, harness/data/tiny_quadrants.py). ResNet-18 depth at
# a quarter of the width (16 stem / base channels: ~10x cheaper on CPU), random init. Also the tiny
# pretraining of the smoke grid configs/ablations/pretrain_smoke.yaml.
# Nothing in the pipeline may move or flip the image: position is the label.
data_root = 'data/tiny_quadrants/'
model = dict(
    type='HarnessModel',
    base_type='ImageClassifier',
    padding=dict(mode='zeros', scope='all'),
    backbone=dict(type='ResNet', depth=18, stem_channels=16, base_channels=16, out_indices=(3,), style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),  # position-free read-out: any position signal comes from borders
    head=dict(
        type='LinearClsHead',
        num_classes=4,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1,),
    ),
)  # 4 classes: no top-5
# the generator's noise is N(128, 40) per channel
data_preprocessor = dict(num_classes=4, mean=[128.0] * 3, std=[40.0] * 3, to_rgb=True)
pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,  # CPU: worker start-up costs more than it saves
    dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='train', pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
test_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='val', pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_evaluator = dict(type='Accuracy', topk=(1,))
test_cfg = dict()
# No validation inside training: the grid runner evaluates the final checkpoint with tools/test.py.
val_dataloader, val_cfg, val_evaluator = None, None, None
train_cfg = dict(type='IterBasedTrainLoop', max_iters=160)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4), clip_grad=dict(max_norm=10, norm_type=2)
)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=16),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=16, end=160, eta_min=0.0),
]
default_hooks = dict(
    logger=dict(interval=25), checkpoint=dict(by_epoch=False, interval=80, max_keep_ckpts=1, save_last=True)
)
log_processor = dict(by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))  # the CPU default; tools/train.py picks nccl on GPUs
randomness = dict(seed=0)
