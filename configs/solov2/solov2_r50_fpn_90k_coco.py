_base_ = ['./solov2_r50_fpn_1x_coco.py', '../_base_/schedule_90k_coco.py']
# SOLOv2 R50-FPN (coordinates in the kernel branch), the 1x schedule as 90k iterations
# (see _base_/schedule_90k_coco.py): preemption loses at most the time since the last checkpoint, about 30 min of training.
train_cfg = {{_base_.iter90k.train_cfg}}
param_scheduler = {{_base_.iter90k.param_scheduler}}
train_dataloader = {{_base_.iter90k.train_dataloader}}
default_hooks = {{_base_.iter90k.default_hooks}}
log_processor = {{_base_.iter90k.log_processor}}
