_base_ = ['mmdet::solo/solo_r50_fpn_1x_coco.py', '../_base_/harness.py']
# The stock SOLO (its mask branch concatenates x, y coordinates), built through the harness.
model = dict(type='HarnessModel', base_type='SOLO', padding=dict(mode='zeros', scope='all'))
