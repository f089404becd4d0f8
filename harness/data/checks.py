"""Cheap checks of COCO 2017 and Cityscapes datasets, run before anything trains.

Why this file exists: a week-long grid should not die at its first evaluation because a JSON was
truncated. The checkers turn the usual failures (wrong folder, truncated JSON, missing gtFine file,
colour PNG given as labels, label ids out of range) into a `DatasetError` that names the file and
what was expected; `check_data` runs them for every split a config reads.
"""

import json
import os.path as osp
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..errors import DatasetError, one_line
from .image_folders import check_image_folders


def load_coco_json(path: str | Path) -> dict:
    """Read a COCO instances file, raising DatasetError (file, line, column) if it is unusable."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f'annotation file {path} does not exist')
    try:
        doc = json.loads(path.read_bytes())
    except OSError as e:
        raise DatasetError(f'cannot read annotation file {path}: {e.strerror}') from None
    except UnicodeDecodeError as e:
        raise DatasetError(f'annotation file {path} is not UTF-8 text: byte {e.start}') from None
    except json.JSONDecodeError as e:
        raise DatasetError(
            f'annotation file {path} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}'
        ) from None
    if not isinstance(doc, dict):
        raise DatasetError(
            f'annotation file {path} holds a JSON {type(doc).__name__}; '
            f'expected an object with images, annotations and categories'
        )
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(doc.get(key), list):
            raise DatasetError(
                f'annotation file {path} lacks a "{key}" list '
                f'(a COCO instances file has images, annotations and categories)'
            )
    return doc


def check_coco(data_root: str | Path, ann_file: str, img_dir: str, max_files: int | None = None, seed: int = 0) -> dict:
    """Check a COCO-style split; return {'images', 'annotations', 'categories'} counts.

    `ann_file` and `img_dir` are relative to `data_root` (or absolute), as in mmdet configs. Every
    listed image must exist; the headers of at most `max_files` sampled images (default all) are
    read to compare sizes with the JSON.
    """
    root = Path(data_root)
    if not root.is_dir():
        raise DatasetError(f'dataset folder {root} does not exist (expected {ann_file} and {img_dir} in it)')
    ann_path, img_path = root / ann_file, root / img_dir
    doc = load_coco_json(ann_path)
    if not img_path.is_dir():
        raise DatasetError(f'image folder {img_path} does not exist (images of {ann_path} are read from it)')
    images = {}
    for i, img in enumerate(doc['images']):
        for key in ('id', 'file_name', 'height', 'width'):
            if key not in img:
                raise DatasetError(f'{ann_path}: images[{i}] lacks "{key}"')
        if img['id'] in images:
            raise DatasetError(f'{ann_path}: image id {img["id"]} is listed twice')
        images[img['id']] = img
        if not (img_path / img['file_name']).is_file():
            raise DatasetError(
                f'{ann_path}: image {img["file_name"]} (id {img["id"]}) is listed '
                f'but {img_path / img["file_name"]} does not exist'
            )
    cat_ids = {c.get('id') for c in doc['categories']}
    seen: set = set()
    for i, ann in enumerate(doc['annotations']):
        _check_annotation(ann_path, i, ann, images, cat_ids, seen)
    sample = list(images.values())
    if max_files is not None and len(sample) > max_files:
        rng = np.random.default_rng(seed)
        sample = [sample[k] for k in sorted(rng.choice(len(sample), max_files, replace=False))]
    for img in sample:
        file = img_path / img['file_name']
        try:
            with Image.open(file) as im:
                width, height = im.size
        except (OSError, ValueError) as e:
            raise DatasetError(f'cannot read image {file}: {one_line(e)}') from None
        if (width, height) != (img['width'], img['height']):
            raise DatasetError(f'image {file} is {width}x{height} but {ann_path} says {img["width"]}x{img["height"]}')
    return dict(images=len(images), annotations=len(doc['annotations']), categories=len(cat_ids))


def _check_annotation(ann_path, i, ann, images, cat_ids, seen):
    ann_id = ann.get('id', f'at index {i}')
    if ann_id in seen:
        raise DatasetError(f'{ann_path}: annotation id {ann_id} is used twice (mmdet needs unique ids)')
    seen.add(ann_id)
    img = images.get(ann.get('image_id'))
    if img is None:
        raise DatasetError(
            f'{ann_path}: annotation {ann_id} has image_id {ann.get("image_id")!r}, which is not in "images"'
        )
    if ann.get('category_id') not in cat_ids:
        known = sorted(c for c in cat_ids if isinstance(c, int))
        shown = ', '.join(map(str, known[:10])) + (', ...' if len(known) > 10 else '')
        raise DatasetError(
            f'{ann_path}: annotation {ann_id} (image {img["file_name"]}) has '
            f'category_id {ann.get("category_id")!r}, not a category id ({shown})'
        )
    bbox = ann.get('bbox')
    ok = isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, (int, float)) and np.isfinite(v) for v in bbox)
    if ok:
        x, y, bw, bh = bbox
        ok = bw >= 0 and bh >= 0 and x >= -1 and y >= -1 and x + bw <= img['width'] + 1 and y + bh <= img['height'] + 1
    if not ok:
        raise DatasetError(
            f'{ann_path}: annotation {ann_id} (image {img["file_name"]}) has bbox '
            f'{bbox!r}; expected [x, y, w, h] with w, h >= 0 inside the '
            f'{img["width"]}x{img["height"]} image'
        )


def cityscapes_split(root: str | Path, split: str) -> Any:
    """(leftImg8bit/<split>, gtFine/<split>, sorted images) of a Cityscapes root; DatasetError if a folder is missing."""
    img_root, gt_root = Path(root) / 'leftImg8bit' / split, Path(root) / 'gtFine' / split
    for folder in (img_root, gt_root):
        if not folder.is_dir():
            raise DatasetError(
                f'folder {folder} does not exist (expected leftImg8bit/{split}/<city>/ and '
                f'gtFine/{split}/<city>/ in the Cityscapes layout)'
            )
    return img_root, gt_root, sorted(img_root.rglob('*_leftImg8bit.png'))


def check_cityscapes(
    data_root: str | Path,
    split: str = 'val',
    max_files: int | None = None,
    require_label_ids: bool = True,
    seed: int = 0,
) -> dict:
    """Check a Cityscapes split as mmseg reads it; return {'images', 'checked'} counts.

    Every `*_leftImg8bit.png` needs its `_gtFine_labelTrainIds.png` and, with
    `require_label_ids` (what `CityscapesMetric` reads), `_gtFine_labelIds.png` and
    `_gtFine_instanceIds.png`. Label ranges and sizes are checked on at most `max_files` sampled
    images (default all): trainIds 0..18 or 255, labelIds 0..33 (or -1 in signed images).
    """
    root = Path(data_root)
    if not root.is_dir():
        raise DatasetError(
            f'dataset folder {root} does not exist (expected a Cityscapes root with leftImg8bit/ and gtFine/)'
        )
    img_root, gt_root, images = cityscapes_split(root, split)
    if not images:
        raise DatasetError(f'{img_root} holds no <city>/*_leftImg8bit.png images')
    suffixes = ['labelTrainIds'] + (['labelIds', 'instanceIds'] if require_label_ids else [])
    pairs = []
    for img in images:
        stem = str(img.relative_to(img_root))[: -len('_leftImg8bit.png')]
        gts = {s: gt_root / f'{stem}_gtFine_{s}.png' for s in suffixes}
        for suffix, gt in gts.items():
            if not gt.is_file():
                why = (
                    'mmseg reads it; make it with tools/dataset_converters/cityscapes.py'
                    if suffix == 'labelTrainIds'
                    else 'CityscapesMetric reads it'
                )
                raise DatasetError(f'image {img} has no {gt.name} in {gt.parent} ({why})')
        pairs.append((img, gts))
    if max_files is not None and len(pairs) > max_files:
        rng = np.random.default_rng(seed)
        pairs = [pairs[k] for k in sorted(rng.choice(len(pairs), max_files, replace=False))]
    for img, gts in pairs:
        try:
            with Image.open(img) as im:
                size = im.size
        except (OSError, ValueError) as e:
            raise DatasetError(f'cannot read image {img}: {one_line(e)}') from None
        _check_label_png(
            gts['labelTrainIds'], size, 'trainId', '0..18 or 255', lambda a: (a <= 18) & (a >= 0) | (a == 255)
        )
        if require_label_ids:
            _check_label_png(gts['labelIds'], size, 'labelId', '0..33', lambda a: (a >= -1) & (a <= 33))
    return dict(images=len(images), checked=len(pairs))


def _check_label_png(path, size, what, expected, valid):
    try:
        with Image.open(path) as im:
            mode, label_size = im.mode, im.size
            arr = np.asarray(im)
    except (OSError, ValueError) as e:
        raise DatasetError(f'cannot read label image {path}: {one_line(e)}') from None
    if arr.ndim != 2:
        raise DatasetError(f'label image {path} has mode {mode}; expected one channel of {what}s')
    if label_size != size:
        raise DatasetError(f'label image {path} is {label_size[0]}x{label_size[1]}; its image is {size[0]}x{size[1]}')
    bad = ~valid(arr.astype(np.int64))
    if bad.any():
        values = np.unique(arr[bad])
        raise DatasetError(
            f'label image {path} has {what} {int(values[0])} out of range '
            f'(expected {expected}; {int(bad.sum())} pixels, values '
            f'{", ".join(map(str, values[:5].tolist()))})'
        )


def check_data(cfg: Any, splits: Sequence[str] = ('train', 'test'), max_files: int = 200) -> None:
    """Check the datasets a run will read, naming the file at fault, before any model is built."""
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        ds = loader['dataset']
        while 'dataset' in ds:  # RepeatDataset / ClassBalancedDataset wrappers
            ds = ds['dataset']
        root = ds.get('data_root', '')
        try:
            if ds.get('type') == 'CocoDataset' or str(ds.get('type', '')).endswith('CocoDataset'):
                img = ds.get('data_prefix', {}).get('img', '')
                expected = f'a COCO split: {osp.join(root, ds["ann_file"])} and its images in {osp.join(root, img)}'
                check_coco(root, ds['ann_file'], img, max_files=max_files)
            elif ds.get('type') == 'CityscapesDataset':
                img = ds.get('data_prefix', {}).get('img_path', '')
                part = osp.basename(img.rstrip('/'))
                expected = (
                    f'a Cityscapes split: {osp.join(root, "leftImg8bit", part)}/<city>/*_leftImg8bit.png with '
                    f'{osp.join(root, "gtFine", part)}/<city>/*_gtFine_labelTrainIds.png'
                )
                check_cityscapes(root, part, max_files=max_files, require_label_ids=False)
            elif ds.get('type') in _FOLDER_DATASETS:  # mmpretrain classification: matched pretraining
                prefix, ann = _folder_split(ds)
                expected = f'an ImageNet-format split: class folders in {osp.join(root, prefix)}' + (
                    f', or {osp.join(root, ann)} listing images' if ann else ''
                )
                check_image_folders(root, prefix, ann, max_classes=max_files)
        except DatasetError as e:  # name the config field, and say what it should point at
            message = str(e) if 'expected' in str(e) else f'{e}; expected {expected}'
            raise DatasetError(f'{split}_dataloader.dataset (data_root {root!r}): {message}') from None


_FOLDER_DATASETS = ('CustomDataset', 'ImageNet', 'ImageNet21k', 'mmpretrain.CustomDataset', 'mmpretrain.ImageNet')


def _folder_split(ds):
    """(data_prefix, ann_file) of an mmpretrain CustomDataset / ImageNet entry, as that class derives them."""
    prefix = ds.get('data_prefix') or ''
    prefix = prefix.get('img_path', '') if isinstance(prefix, dict) else prefix
    ann, split = ds.get('ann_file') or '', ds.get('split') or ''
    if split and not prefix:
        prefix = split
    if split and not ann and osp.isfile(osp.join(ds.get('data_root') or '', 'meta', f'{split}.txt')):
        ann = osp.join('meta', f'{split}.txt')
    return prefix, ann
