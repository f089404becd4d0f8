_base_ = ['mmseg::fcn/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py', '../_base_/harness.py']
# The stock model, built through the harness so that its padding report is saved. Padding variants
# patch the backbone: the decode head's dilated convs (ASPP up to dilation 36) are wider than their
# input on small crops, so mode none cannot make them valid convs there.
model = dict(type='HarnessModel', base_type='EncoderDecoder', padding=dict(mode='zeros', scope='backbone'))
# mIoU plus the per-class IoU that mmseg's IoUMetric only prints.
val_evaluator = dict(type='ClassIoUMetric')
test_evaluator = val_evaluator
