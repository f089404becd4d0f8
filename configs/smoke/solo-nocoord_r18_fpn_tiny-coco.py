_base_ = './solo_r18_fpn_tiny-coco.py'
# Without the mask branch's coordinate channels (the SOLO paper's CoordConv ablation baseline).
model = dict(solo_coords=False)
