_base_ = './mask-rcnn_r50_fpn_1x_coco.py'
# CoordConv on the first conv of the mask head (x, y channels; zero-initialised coordinate kernel).
model = dict(coordconv=dict(sites=['mask_head_first']))
