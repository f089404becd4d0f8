_base_ = './mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py'
# Padding mode none on every padded conv (ConvNeXt's depth-wise convs, FPN, RPN and RoI heads).
model = dict(padding=dict(mode='none'))
