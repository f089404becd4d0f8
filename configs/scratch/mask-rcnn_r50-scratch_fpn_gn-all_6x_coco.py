_base_ = ['mmdet::scratch/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py', '../_base_/harness.py']
# mmdet's recipe for Mask R-CNN without ImageNet weights ("Rethinking ImageNet Pre-training", He et al.
# 2019): random init, GroupNorm in the backbone, FPN and RoI heads (BN statistics of a random net are
# meaningless and batches of 2 images per GPU are too small for BN), no frozen stage, and a 6x schedule
# (73 epochs, lr steps at 65 and 71) instead of 1x. The model zoo reports 41.2 box / 37.4 mask AP for it
# (published, not ours). Built through the harness, so a grid with `init: scratch` patches its padding
# and checks that nothing loads pretrained weights (harness/run/init_design.py).
model = dict(type='HarnessModel', base_type='MaskRCNN', padding=dict(mode='zeros', scope='all'))
