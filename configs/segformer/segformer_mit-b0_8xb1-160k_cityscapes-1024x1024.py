_base_ = ['mmseg::segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py', '../_base_/harness.py']
# The stock SegFormer MiT-b0, built through the harness so that its padding report is saved (mode zeros
# leaves every layer as it is). Scope all: every padded conv is in the backbone (4 overlapping patch
# embeddings, 7x7/s4 then 3x3/s2, and the 3x3 depth-wise conv of every Mix-FFN); the decode head has
# 1x1 convs only. Narrower scopes: `patch_embed`, `mixffn` (README, "Transformers and large kernels").
model = dict(type='HarnessModel', base_type='EncoderDecoder', padding=dict(mode='zeros', scope='all'))
# mIoU plus the per-class IoU that mmseg's IoUMetric only prints.
val_evaluator = dict(type='ClassIoUMetric')
test_evaluator = val_evaluator
