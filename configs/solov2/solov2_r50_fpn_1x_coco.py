_base_ = ['mmdet::solov2/solov2_r50_fpn_1x_coco.py', '../_base_/harness.py']
# The stock SOLOv2 (its mask branch concatenates x, y coordinates), built through the harness.
model = dict(type='HarnessModel', base_type='SOLOv2', padding=dict(mode='zeros', scope='all'))
