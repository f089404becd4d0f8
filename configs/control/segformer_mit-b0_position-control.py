_base_ = ['../smoke/segformer_mit-b0_tiny-cityscapes.py']
# SegFormer MiT-b0 (random init) on the segmentation position-control data (harness/data/tiny_cityscapes.py,
# halves=True): 64x128 images of one tiling texture, `sky` above the middle and `road` below it. All
# images one size (no batch padding canvas; crop = image), half the height (32) a multiple of MiT's
# total stride, horizontal flips only (a vertical flip would swap the two classes): with circular
# padding everywhere the network sees the image as a torus and cannot tell the halves apart.
control_root = 'data/tiny_cityscapes_control/'
max_iters = 200
model = dict(data_preprocessor=dict(size=(64, 128)))  # the smoke crop (128x256) -> the control's image size
train_dataloader = dict(batch_size=8, dataset=dict(data_root=control_root))  # 4 -> 8 images per batch
test_dataloader = dict(dataset=dict(data_root=control_root))
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='PolyLR', eta_min=1e-5, power=1.0, begin=20, end=max_iters, by_epoch=False),
]
default_hooks = dict(checkpoint=dict(interval=100))
