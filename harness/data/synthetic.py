"""Stand-in training data for a config whose dataset is not on this machine, to time a training step.

`tools/run_ablation.sh GRID --dry-run` prices a grid from a few timed training iterations
(harness/launch/estimate.py). Before COCO or Cityscapes is downloaded there is nothing to train on, yet
a step's time depends on the model, the batch and the input size, not on what the pixels show. So the
config's training dataset is pointed at one of the tiny generated sets (`tiny_coco`: 2-5 shapes with
boxes and masks per image; `tiny_cityscapes`: a full label map with instances), written at the
config's training size in the layout its dataset type reads; the config's own pipeline, model,
optimizer, batch size and schedule stay. What it does not reproduce: COCO's ~7 objects per image
(the RoI sampler draws a fixed number of RoIs per image, so the heads cost about the same) and real
JPEG decoding sizes (a data loader that keeps up with the GPU hides them).
"""

import os.path as osp
from typing import Any

from ..errors import ConfigError
from .tiny_cityscapes import make_tiny_cityscapes
from .tiny_coco import COCO_CLASSES, make_tiny_coco

# Keys of `data_prefix` that name a folder the dataset reads (mmdet: img, seg; mmseg: img_path, seg_map_path).
_PREFIX_KEYS = ('img', 'img_path', 'seg', 'seg_map_path')


def missing_path(dataset: dict) -> str | None:
    """The first file or folder the dataset dict names (data_root + ann_file, + each data_prefix folder)
    that does not exist on this machine, or None when all do."""
    root = dataset.get('data_root') or ''
    ann = dataset.get('ann_file')
    paths = [osp.join(root, ann)] if ann else []
    prefix = dataset.get('data_prefix') or {}
    if isinstance(prefix, dict):
        paths += [osp.join(root, prefix[k]) for k in _PREFIX_KEYS if prefix.get(k)]
    elif isinstance(prefix, str) and prefix:
        paths.append(osp.join(root, prefix))
    if not paths and root:
        paths.append(root)
    return next((p for p in paths if not osp.exists(p)), None)


def point_at_synthetic(dataset: dict, root: str, size: tuple[int, int], images: int) -> Any:
    """Write `images` generated training images of `size` (h, w) under `root` and point the dataset
    dict (changed in place) at them. ConfigError for a dataset type with no generator."""
    kind = str(dataset.get('type', ''))
    if kind.split('.')[-1].endswith('CocoDataset'):
        out = make_tiny_coco(root, n_train=images, n_val=1, size=size)
        dataset.update(
            data_root=str(out.root),
            ann_file=out.ann_files['train'],
            data_prefix=dict(img=out.img_dirs['train']),
            metainfo=dict(classes=COCO_CLASSES),
        )  # labels 0-2 fit any detector's classes
    elif kind.split('.')[-1] == 'CityscapesDataset':
        out = make_tiny_cityscapes(root, n_train=images, n_val=1, size=size)
        dataset.update(
            data_root=str(out.root),
            data_prefix=dict(img_path=out.img_dirs['train'], seg_map_path=out.ann_files['train']),
        )
    else:
        raise ConfigError(
            f'train_dataloader.dataset.type: got {kind or "none"}; expected CocoDataset or '
            'CityscapesDataset for synthetic stand-in data'
        )
    return dataset
