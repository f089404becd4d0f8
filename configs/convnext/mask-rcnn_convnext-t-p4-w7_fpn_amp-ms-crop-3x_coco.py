_base_ = ['mmdet::convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py']
# The stock Mask R-CNN with mmpretrain's ConvNeXt-T, built through the harness so that its padding report
# is saved (mode zeros leaves every layer as it is). Scope all: ConvNeXt's 7x7 depth-wise convs (its
# stem and downsampling convs have kernel = stride and no padding), the FPN's 3x3 output convs, RPN's
# conv and the mask head's convs; `scope: dwconv` is the depth-wise convs alone.
model = dict(type='HarnessModel', base_type='MaskRCNN', padding=dict(mode='zeros', scope='all'))
# What ../_base_/harness.py holds, here because the mmdet base already sets custom_imports (mmengine
# refuses a key defined by two bases): mmpretrain's models (ConvNeXt) and the harness, and its hooks.
custom_imports = dict(imports=['mmpretrain.models', 'harness.engine.register'], allow_failed_imports=False)
custom_hooks = [dict(type='PatchReportHook'), dict(type='NonFiniteLossHook')]
