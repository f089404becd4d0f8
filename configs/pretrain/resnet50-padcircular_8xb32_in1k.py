_base_ = './resnet50_8xb32_in1k.py'
# Padding mode circular on every padded conv and pool of the classifier (its backbone: the GAP neck and
# the linear head pad nothing).
model = dict(padding=dict(mode='circular'))
