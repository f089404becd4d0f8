_base_ = './deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024.py'
# Padding mode circular on every padded conv and pool of the backbone.
model = dict(padding=dict(mode='circular'))
