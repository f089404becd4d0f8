"""Cutting a small random subset out of a real COCO 2017 or Cityscapes tree, in the same layout.

Why: real-data smoke runs and CPU-sized experiments need a few dozen real images that the
unchanged mmdet/mmseg configs can read by switching `data_root`. COCO: the instances JSON is
filtered to the sampled images and their annotations (all categories, info and licenses kept).
Cityscapes: each sampled `*_leftImg8bit.png` is copied with every `gtFine` file of its stem
(labelIds, labelTrainIds, instanceIds, color, polygons). The output is checked after writing.
The CLI is tools/make_subset.py.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from .checks import check_cityscapes, check_coco, cityscapes_split, load_coco_json

SPLITS = ('train', 'val')


def subset_coco(src: Path, out: Path, counts: dict, seed: int = 0, symlink: bool = False, force: bool = False) -> dict:
    """Write `counts[split]` sampled images per split; return {split: (images, annotations)}.
    Everything is sampled and checked in the source before anything is written."""
    plans = {}
    for split_idx, split in enumerate(SPLITS):
        n = counts.get(split, 0)
        if n == 0:
            continue
        ann_rel, img_rel = f'annotations/instances_{split}2017.json', f'{split}2017'
        doc = load_coco_json(src / ann_rel)
        chosen = _sample(doc['images'], n, seed, split_idx, f'--{split}', src / ann_rel, 'images')
        ids = {img['id'] for img in chosen}
        doc['images'] = chosen
        doc['annotations'] = [a for a in doc['annotations'] if a.get('image_id') in ids]
        for img in chosen:
            if not (src / img_rel / img['file_name']).is_file():
                raise DatasetError(
                    f'{src / ann_rel}: image {img["file_name"]} is listed but '
                    f'{src / img_rel / img["file_name"]} does not exist'
                )
        plans[split] = (ann_rel, img_rel, doc)
    _clear(out, [rel for ann_rel, img_rel, _doc in plans.values() for rel in (ann_rel, img_rel)], force)
    done = {}
    for split, (ann_rel, img_rel, doc) in plans.items():
        (out / img_rel).mkdir(parents=True)
        (out / 'annotations').mkdir(exist_ok=True)
        for img in doc['images']:
            _copy(src / img_rel / img['file_name'], out / img_rel / img['file_name'], symlink)
        (out / ann_rel).write_text(json.dumps(doc))
        check_coco(out, ann_rel, img_rel)
        done[split] = (len(doc['images']), len(doc['annotations']))
    return done


def subset_cityscapes(
    src: Path, out: Path, counts: dict, seed: int = 0, symlink: bool = False, force: bool = False
) -> dict:
    """Write `counts[split]` sampled images per split with their gtFine files; return
    {split: (images, gtFine files)}. Nothing is written until every split is planned."""
    plans = {}
    for split_idx, split in enumerate(SPLITS):
        n = counts.get(split, 0)
        if n == 0:
            continue
        img_root, gt_root, images = cityscapes_split(src, split)
        chosen = _sample(images, n, seed, split_idx, f'--{split}', img_root, '*_leftImg8bit.png images')
        plan = []
        for img in chosen:
            rel = img.relative_to(img_root)
            stem = rel.name[: -len('_leftImg8bit.png')]
            gts = sorted((gt_root / rel.parent).glob(f'{stem}_gtFine_*'))
            if not any(g.name.endswith('_gtFine_labelTrainIds.png') for g in gts):
                raise DatasetError(
                    f'image {img} has no {stem}_gtFine_labelTrainIds.png in '
                    f"{gt_root / rel.parent} (make it with mmseg's "
                    f'tools/dataset_converters/cityscapes.py)'
                )
            plan.append((img, rel, gts))
        plans[split] = plan
    _clear(out, [f'{d}/{split}' for split in plans for d in ('leftImg8bit', 'gtFine')], force)
    done = {}
    for split, plan in plans.items():
        for img, rel, gts in plan:
            _copy(img, out / 'leftImg8bit' / split / rel, symlink)
            for gt in gts:
                _copy(gt, out / 'gtFine' / split / rel.parent / gt.name, symlink)
        check_cityscapes(out, split)
        done[split] = (len(plan), sum(len(gts) for _img, _rel, gts in plan))
    return done


def _sample(items, n, seed, split_idx, flag, where, what):
    if n < 0:
        raise DatasetError(f'{flag} {n}: expected a number of images >= 0')
    if n > len(items):
        raise DatasetError(f'{flag} {n}: {where} has only {len(items)} {what}')
    rng = np.random.default_rng([seed, split_idx])
    return [items[i] for i in sorted(rng.choice(len(items), n, replace=False))]


def _clear(out, rels, force):
    for rel in rels:
        path = out / rel
        if path.exists():
            if not force:
                raise DatasetError(f'{path} already exists; pass --force to replace it')
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


def _copy(src, dst, symlink):
    dst.parent.mkdir(parents=True, exist_ok=True)
    if symlink:
        os.symlink(src.absolute(), dst)
    else:
        shutil.copy2(src, dst)
