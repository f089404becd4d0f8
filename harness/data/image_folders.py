"""Cheap check of an ImageNet-format classification split (mmpretrain's `CustomDataset` / `ImageNet`).

Matched pretraining (`harness.run.pretrain`) trains a classifier before any downstream run; a missing
`val` folder should stop the grid before the first GPU hour, not after the classifier's last epoch.
Two layouts, as mmpretrain reads them: class folders (`<root>/<prefix>/<class>/<image>`), or an
annotation file of `<relative path> <label>` lines (`<root>/<ann_file>`, images under the prefix).
"""

import os.path as osp
from pathlib import Path
from typing import Any

from ..errors import DatasetError

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')


def check_image_folders(
    data_root: str | Path, data_prefix: Any = '', ann_file: str = '', max_classes: int | None = None
) -> tuple[int, int]:
    """Check one split; return (classes, images) counted (images: in the first `max_classes` classes)."""
    root = Path(data_root or '.')
    prefix = root / data_prefix if data_prefix else root
    if ann_file:
        ann = Path(ann_file) if osp.isabs(ann_file) else root / ann_file
        if not ann.is_file():
            raise DatasetError(f'annotation file {ann} does not exist')
        lines = [line.split() for line in ann.read_text().splitlines() if line.strip()]
        bad = next((i for i, parts in enumerate(lines) if len(parts) < 2 or not parts[-1].lstrip('-').isdigit()), None)
        if bad is not None:
            raise DatasetError(f'{ann}: line {bad + 1} is not "<image path> <integer label>"')
        missing = next((p[0] for p in lines[:50] if not (prefix / p[0]).is_file()), None)
        if missing:
            raise DatasetError(f'{ann} lists {missing}, but {prefix / missing} does not exist')
        return len({p[-1] for p in lines}), len(lines)
    if not prefix.is_dir():
        raise DatasetError(f'image folder {prefix} does not exist')
    classes = sorted(p for p in prefix.iterdir() if p.is_dir())
    if not classes:
        raise DatasetError(f'image folder {prefix} has no class folders (and no ann_file names its images)')
    images = 0
    for folder in classes[:max_classes]:
        n = sum(1 for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if n == 0:
            raise DatasetError(f'class folder {folder} holds no image ({", ".join(IMAGE_SUFFIXES)})')
        images += n
    return len(classes), images
