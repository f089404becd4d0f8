_base_ = './solov2_r50_fpn_1x_coco.py'
# The SOLO paper's "without CoordConv" baseline: the coordinate channels are removed from the mask
# branch and its first conv loses their input channels (derived in code, harness/solo.py).
model = dict(solo_coords=False)
