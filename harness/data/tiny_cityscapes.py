"""Tiny Cityscapes: road and sidewalk share one texture and differ only in where they are.

See `tiny` for why and for the layout; `make_tiny_cityscapes` writes one set. With `halves=True` it
writes the segmentation positive control instead (`_halves_image`): one texture that tiles over the
whole image, `sky` above the middle and `road` below it, so that only a position cue from the border
(zero padding) tells the two classes apart.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ConfigError
from .cityscapes_labels import CITYSCAPES_CLASSES, CITYSCAPES_LABELS, LABEL_ID_TO_TRAIN_ID
from .tiny import SPLITS, TinyDataset, _claim_root, _noise, _write_stamp, check_tiny_args, ensure_made

_LABEL_ID = {name: id_ for name, id_, *_ in CITYSCAPES_LABELS}
_CITIES = {'train': ('aachen', 'bochum'), 'val': ('frankfurt', 'lindau')}
# The SegFormer positive control's set (configs/control/segformer_*, configs/ablations/segformer_position_control.yaml):
# all images 64x128, so there is no batch padding canvas and half the height (32) is a multiple of
# MiT's total stride: a circular shift by H/2 maps the images onto themselves and swaps the labels.
CONTROL_ROOT = 'data/tiny_cityscapes_control'
CONTROL_PARAMS = dict(n_train=128, n_val=32, size=(64, 128), seed=0, halves=True)


def make_tiny_cityscapes(
    root: str | Path,
    n_train: int = 32,
    n_val: int = 8,
    size: Sequence[int] = (128, 256),
    seed: int = 0,
    halves: bool = False,
) -> TinyDataset:
    """Write a tiny Cityscapes set (leftImg8bit + gtFine labelIds/labelTrainIds/instanceIds/color).
    `halves=True`: the position-control images of `_halves_image` (H must be even)."""
    h, w = check_tiny_args(n_train, n_val, size)
    if halves and h % 2:
        raise ConfigError(
            f'size={tuple(size)!r}: odd height with halves=True; expected an even H '
            '(the two halves must be shifted onto each other)'
        )
    root = Path(root)
    owned = [f'{d}/{s}' for d in ('leftImg8bit', 'gtFine') for s in SPLITS]
    params = dict(n_train=n_train, n_val=n_val, size=[h, w], seed=seed, **({'halves': True} if halves else {}))
    _claim_root(root, owned, 'cityscapes', params)
    palette = np.zeros((256, 3), np.uint8)
    for _name, id_, _t, _i, colour in CITYSCAPES_LABELS:
        palette[id_] = colour
    out = TinyDataset('cityscapes', root, CITYSCAPES_CLASSES)
    for split_idx, (split, n) in enumerate(zip(SPLITS, (n_train, n_val))):
        objects = 0
        for i in range(n):
            rng = np.random.default_rng([seed, 100 + split_idx, i])
            rgb, label_ids, instance_ids = (_halves_image if halves else _city_image)(rng, h, w)
            city = _CITIES[split][i % len(_CITIES[split])]
            stem = f'{city}_{i // 2:06d}_{19:06d}'
            img_dir, gt_dir = root / 'leftImg8bit' / split / city, root / 'gtFine' / split / city
            img_dir.mkdir(parents=True, exist_ok=True)
            gt_dir.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rgb).save(img_dir / f'{stem}_leftImg8bit.png')
            Image.fromarray(label_ids).save(gt_dir / f'{stem}_gtFine_labelIds.png')
            Image.fromarray(LABEL_ID_TO_TRAIN_ID[label_ids]).save(gt_dir / f'{stem}_gtFine_labelTrainIds.png')
            Image.fromarray(instance_ids).save(gt_dir / f'{stem}_gtFine_instanceIds.png')
            rgba = np.dstack([palette[label_ids], np.full((h, w), 255, np.uint8)])
            Image.fromarray(rgba).save(gt_dir / f'{stem}_gtFine_color.png')
            objects += len(np.unique(instance_ids[instance_ids >= 1000]))
        out.img_dirs[split], out.ann_files[split] = f'leftImg8bit/{split}', f'gtFine/{split}'
        out.counts[split] = (n, objects)
    _write_stamp(root, 'cityscapes', params, complete=True)
    return out


def ensure_control_data(repo='.', log=print):
    """Generate `CONTROL_ROOT` under `repo` unless a complete one made with `CONTROL_PARAMS` is there."""
    ensure_made(Path(repo) / CONTROL_ROOT, make_tiny_cityscapes, CONTROL_PARAMS, log)


def _halves_image(rng, h, w):
    """One position-control image: a texture that tiles (a flat colour, a plane wave with a whole number
    of periods across the image at a random phase, i.i.d. noise) over the whole image, labelled `sky`
    above the middle row and `road` below it. A circular shift by H/2 maps this image distribution onto
    itself with the two labels swapped, so a network that sees the image as a torus (circular padding
    everywhere, H/2 a multiple of its total stride) can do no better than chance; only a cue from the
    border (zero padding) tells the halves apart."""
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.broadcast_to(rng.uniform(60, 190, 3).astype(np.float32), (h, w, 3)).copy()
    ky, kx = rng.integers(0, 4, 2)
    rgb += 12 * np.sin(2 * np.pi * (kx * xx / w + ky * yy / h) + rng.uniform(0, 2 * np.pi))[..., None]
    rgb += _noise(rng, rgb.shape, 10)
    label = np.where(yy < h // 2, _LABEL_ID['sky'], _LABEL_ID['road']).astype(np.uint8)
    return np.clip(rgb, 0, 255).astype(np.uint8), label, label.astype(np.uint16)


def _city_image(rng, h, w):
    """Sky, buildings and trees above a ground line; one pavement texture below it, labelled road
    in a bottom-centre trapezoid and sidewalk at the sides; cars and persons drawn far to near."""
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    label = np.full((h, w), _LABEL_ID['sky'], np.uint8)
    sky_top, sky_bottom = np.array([60, 110, 200]), np.array([175, 205, 235])
    rgb = (sky_top + (yy / h)[..., None] * (sky_bottom - sky_top)).astype(np.float32)
    ground = rng.uniform(0.52, 0.62) * h
    x = rng.uniform(-0.1, 0) * w
    while x < w:  # buildings: a skyline of rectangles, with window stripes
        bw = rng.uniform(0.08, 0.25) * w
        if rng.random() < 0.85:
            region = (xx >= x) & (xx < x + bw) & (yy >= rng.uniform(0.08, 0.8) * ground) & (yy < ground)
            label[region] = _LABEL_ID['building']
            windows = ((xx // 4 + yy // 5) % 3 == 0)[region]
            rgb[region] = rng.uniform(70, 150, 3) * np.where(windows, 0.7, 1.0)[:, None]
        x += bw
    for _ in range(rng.integers(1, 4)):  # trees
        cx, cy = rng.uniform(0, w), ground - rng.uniform(0.05, 0.2) * h
        rx, ry = rng.uniform(0.04, 0.1) * w, rng.uniform(0.08, 0.18) * h
        region = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
        label[region] = _LABEL_ID['vegetation']
        rgb[region] = np.array([70, 120, 40]) + _noise(rng, (int(region.sum()), 3), 25)
    below = yy >= ground
    depth = np.clip((yy - ground) / (h - ground), 0, 1)  # 0 at the ground line, 1 at the bottom
    vx = w / 2 + rng.uniform(-0.08, 0.08) * w
    half_top, half_bottom = rng.uniform(0.04, 0.08) * w, rng.uniform(0.3, 0.4) * w
    road = below & (np.abs(xx - vx) < half_top + depth * (half_bottom - half_top))
    label[below] = _LABEL_ID['sidewalk']
    label[road] = _LABEL_ID['road']
    rgb[below] = rng.uniform(90, 130) + _noise(rng, (int(below.sum()), 3), 14)  # same for both
    instance_ids = _city_objects(rng, h, w, xx, yy, ground, vx, half_top, half_bottom, label, rgb)
    ego = int(rng.integers(0, int(0.06 * h) + 1))
    if ego:  # the car's own bonnet, as in real Cityscapes: labelled 'ego vehicle', ignored
        label[h - ego :] = _LABEL_ID['ego vehicle']
        instance_ids[h - ego :] = _LABEL_ID['ego vehicle']
        rgb[h - ego :] = 30
    rgb += _noise(rng, rgb.shape, 6)
    return np.clip(rgb, 0, 255).astype(np.uint8), label, instance_ids


def _city_objects(rng, h, w, xx, yy, ground, vx, half_top, half_bottom, label, rgb):
    """Paint cars (mostly on the road, some cut by a side border) and persons on the sidewalks
    into `label` and `rgb`; return the instanceIds image (labelId * 1000 + k for each instance)."""
    things = []
    for _ in range(rng.integers(1, 5)):
        t = rng.uniform(0.1, 1.0)
        cw = (0.08 + 0.22 * t) * w
        things.append(('car', ground + t * (h - ground), rng.uniform(-0.05, 1.05) * w, cw, 0.55 * cw))
    for _ in range(rng.integers(0, 4)):
        t = rng.uniform(0.1, 1.0)
        ph = (0.15 + 0.35 * t) * h
        edge = half_top + t * (half_bottom - half_top)
        side_left = rng.random() < 0.5
        lo, hi = (0, vx - edge) if side_left else (vx + edge, w)
        if hi - lo > 2:
            things.append(('person', ground + t * (h - ground), rng.uniform(lo, hi), 0.35 * ph, ph))
    things.sort(key=lambda thing: thing[1])  # far (high on the image) first, near ones occlude
    index = np.full((h, w), -1, np.int32)
    for j, (name, bottom, cx, tw, th) in enumerate(things):
        cy, power = bottom - th / 2, (4 if name == 'car' else 2)
        region = (np.abs((xx - cx) / (tw / 2)) ** power + np.abs((yy - cy) / (th / 2)) ** power) <= 1
        label[region] = _LABEL_ID[name]
        index[region] = j
        rgb[region] = rng.uniform(0, 255, 3)
        if name == 'car':
            rgb[region & (yy < cy - th / 6)] *= 0.45  # windows
    instance_ids = label.astype(np.uint16)
    counters = {}
    for j, (name, *_rest) in enumerate(things):
        visible = index == j
        if visible.any():
            k = counters[name] = counters.get(name, -1) + 1
            instance_ids[visible] = _LABEL_ID[name] * 1000 + k
    return instance_ids
