_base_ = './mask-rcnn_r50_fpn_1x_coco.py'
# Padding mode circular on every padded conv and pool (backbone, FPN, RPN and RoI heads).
model = dict(padding=dict(mode='circular'))
