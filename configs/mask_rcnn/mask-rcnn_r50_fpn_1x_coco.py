_base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', '../_base_/harness.py']
# The stock Mask R-CNN, built through the harness so that its padding report is saved
# (mode zeros leaves every layer as it is).
model = dict(type='HarnessModel', base_type='MaskRCNN', padding=dict(mode='zeros', scope='all'))
