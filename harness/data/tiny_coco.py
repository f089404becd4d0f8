"""Tiny COCO 2017: `box_top` / `box_bottom` are identical squares told apart only by where they are.

See `tiny` for why and for the layout; `make_tiny_coco` writes one set. With `seamless=True` it writes
the positive-control variant instead (`_seamless_image`): a background that tiles and shapes that
each lie wholly in the top or the bottom half, so that nothing but a position cue from the border
(zero padding) separates the two square classes; the default set keeps border-cut shapes and a
smooth background whose edges a wrap-around (circular) network can still see.
"""

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from ..errors import ConfigError
from .tiny import SPLITS, TinyDataset, _claim_root, _noise, _smooth_field, _write_stamp, check_tiny_args, ensure_made

COCO_CLASSES = ('disk', 'box_top', 'box_bottom')
# The positive control's set (configs/control/, configs/ablations/position_control.yaml): 64x64, so that
# half the height is a multiple of the largest backbone stride (32) and a grid of 15 runs fits ~30 CPU-minutes.
CONTROL_ROOT = 'data/tiny_coco_control'
CONTROL_PARAMS = dict(n_train=256, n_val=128, size=(64, 64), seed=0, seamless=True)


def make_tiny_coco(
    root: str | Path,
    n_train: int = 64,
    n_val: int = 16,
    size: Sequence[int] = (128, 128),
    seed: int = 0,
    seamless: bool = False,
) -> TinyDataset:
    """Write a tiny COCO-2017 instance set (classes `COCO_CLASSES`) under `root`; deterministic.
    `seamless=True`: the position-control images of `_seamless_image` (H must be even)."""
    h, w = check_tiny_args(n_train, n_val, size)
    if seamless and h % 2:
        raise ConfigError(
            f'size={tuple(size)!r}: odd height with seamless=True; expected an even H '
            '(the two halves must be shifted onto each other)'
        )
    root = Path(root)
    owned = ['train2017', 'val2017'] + [f'annotations/instances_{s}2017.json' for s in SPLITS]
    params = dict(n_train=n_train, n_val=n_val, size=[h, w], seed=seed, **({'seamless': True} if seamless else {}))
    _claim_root(root, owned, 'coco', params)
    (root / 'annotations').mkdir(exist_ok=True)
    categories = [dict(id=i + 1, name=n, supercategory='shape') for i, n in enumerate(COCO_CLASSES)]
    img_id = ann_id = 0
    out = TinyDataset('coco', root, COCO_CLASSES)
    for split_idx, (split, n) in enumerate(zip(SPLITS, (n_train, n_val))):
        img_dir, ann_file = f'{split}2017', f'annotations/instances_{split}2017.json'
        (root / img_dir).mkdir()
        images, annotations = [], []
        for i in range(n):
            img_id += 1
            rng = np.random.default_rng([seed, split_idx, i])
            pixels, objects = (_seamless_image if seamless else _coco_image)(rng, h, w)
            file_name = f'{img_id:012d}.{"png" if seamless else "jpg"}'  # PNG: JPEG's edge handling marks the seam
            Image.fromarray(pixels).save(root / img_dir / file_name, quality=95)
            images.append(dict(id=img_id, file_name=file_name, height=h, width=w))
            for obj in objects:
                ann_id += 1
                annotations.append(dict(id=ann_id, image_id=img_id, iscrowd=0, **obj))
        kind = 'seamless position control, ' if seamless else ''
        info = dict(description=f'posharness tiny COCO ({kind}{split}, seed {seed})', version='1.0')
        doc = dict(info=info, licenses=[], images=images, annotations=annotations, categories=categories)
        (root / ann_file).write_text(json.dumps(doc))
        out.img_dirs[split], out.ann_files[split] = img_dir + '/', ann_file
        out.counts[split] = (len(images), len(annotations))
    _write_stamp(root, 'coco', params, complete=True)
    return out


def ensure_control_data(repo='.', log=print):
    """Generate `CONTROL_ROOT` under `repo` unless a complete one made with `CONTROL_PARAMS` is there."""
    ensure_made(Path(repo) / CONTROL_ROOT, make_tiny_coco, CONTROL_PARAMS, log)


def _coco_image(rng, h, w):
    """One image: textured background, 2-5 non-overlapping shapes, about half cut by a border."""
    canvas = _smooth_field(rng, h, w, 5, 60, 190)
    yy, xx = np.mgrid[0:h, 0:w]
    angle, freq = rng.uniform(0, np.pi), rng.uniform(0.15, 0.6)
    canvas += 12 * np.sin(freq * (xx * np.cos(angle) + yy * np.sin(angle)))[..., None]
    target, taken, objects = rng.integers(2, 6), [], []
    for _ in range(200):
        if len(objects) >= target:
            break
        obj = _coco_object(rng, h, w)
        if obj is None or any(_boxes_touch(obj['bbox'], other, gap=2) for other in taken):
            continue
        mask = obj.pop('mask')
        x, y, bw, bh = obj['bbox']
        local = canvas[y : y + bh, x : x + bw].reshape(-1, 3).mean(0)
        colour = rng.uniform(0, 255, 3)
        for _ in range(20):  # keep the object visible against its background
            if np.abs(colour - local).sum() >= 120:
                break
            colour = rng.uniform(0, 255, 3)
        canvas[mask] = colour
        taken.append(obj['bbox'])
        objects.append(obj)
    canvas += _noise(rng, canvas.shape, 10)
    return np.clip(canvas, 0, 255).astype(np.uint8), objects


def _coco_object(rng, h, w):
    """Sample one shape; returns its annotation fields plus `mask`, or None if unusable."""
    side = rng.uniform(0.12, 0.40) * min(h, w)
    is_disk = rng.random() < 1 / 3
    cx, cy = rng.uniform(side / 2, w - side / 2), rng.uniform(side / 2, h - side / 2)
    if rng.random() < 0.45:  # centre within [-0.2, 0.4] * side of a border: always cut by it
        inset = rng.uniform(-0.2, 0.4) * side
        edge = rng.integers(4)
        if edge == 0:
            cy = inset
        elif edge == 1:
            cy = h - inset
        elif edge == 2:
            cx = inset
        else:
            cx = w - inset
    return _shape(rng, h, w, side, is_disk, cx, cy)


def _shape(rng, h, w, side, is_disk, cx, cy, half=None):
    """Rasterise a disk or square of `side` centred at (cx, cy), clipped to the image; its annotation
    fields plus `mask`, or None if unusable. `half` (0 top, 1 bottom): None if the shape leaves it."""
    if is_disk:
        t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
        poly = np.stack([cx + side / 2 * np.cos(t), cy + side / 2 * np.sin(t)], 1)
    else:
        s = side / 2
        poly = np.array([[cx - s, cy - s], [cx + s, cy - s], [cx + s, cy + s], [cx - s, cy + s]])
    poly = _clip_polygon(poly, w, h)
    if len(poly) < 3:
        return None
    flat = [round(float(v), 2) for v in poly.ravel()]
    rle = mask_utils.merge(mask_utils.frPyObjects([flat], h, w))
    mask = mask_utils.decode(rle).astype(bool)
    area = int(mask.sum())
    if area < max(24, 0.15 * side * side):  # mostly outside the image: drop
        return None
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    bbox = [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]
    if half is not None and not half * h // 2 <= bbox[1] < bbox[1] + bbox[3] <= (half + 1) * h // 2:
        return None
    if is_disk:
        category = 'disk'
    else:
        centre_y = bbox[1] + bbox[3] / 2
        if abs(centre_y - h / 2) < 2:  # too close to the midline to be unambiguous
            return None
        category = 'box_top' if centre_y < h / 2 else 'box_bottom'
    if rng.random() < 0.15:  # a few objects as RLE, to exercise both decoding paths
        segmentation = _rle(mask, compressed=bool(rng.random() < 0.5))
    else:
        segmentation = [flat]
    return dict(
        category_id=COCO_CLASSES.index(category) + 1, bbox=bbox, area=area, segmentation=segmentation, mask=mask
    )


def _seamless_image(rng, h, w):
    """One position-control image: a background that tiles (a flat colour, a plane wave with a whole
    number of periods across the image at a random phase, i.i.d. noise) and 2-5 shapes, each wholly
    inside the top or the bottom half. A circular shift by H/2 maps this image distribution onto
    itself with every `box_top` and `box_bottom` swapped, so a network that sees the image as a torus
    (circular padding everywhere, H/2 a multiple of its largest stride) can do no better than chance
    on the two square classes: only a cue from the border (zero padding) tells them apart. A Mask R-CNN
    is that torus up to its RPN clipping and RoIAlign clamping at the image edge
    (tests/patch/test_control_shift.py)."""
    yy, xx = np.mgrid[0:h, 0:w]
    canvas = np.broadcast_to(rng.uniform(60, 190, 3).astype(np.float32), (h, w, 3)).copy()
    ky, kx = rng.integers(0, 4, 2)
    canvas += 12 * np.sin(2 * np.pi * (kx * xx / w + ky * yy / h) + rng.uniform(0, 2 * np.pi))[..., None]
    target, taken, objects = rng.integers(2, 6), [], []
    for _ in range(200):
        if len(objects) >= target:
            break
        side = rng.uniform(0.18, 0.45) * min(h, w)  # larger than the default's: one half is all they get
        is_disk, half = rng.random() < 1 / 3, int(rng.integers(2))
        if side > h / 2 - 2:
            continue
        cx = rng.uniform(side / 2, w - side / 2)
        cy = half * h / 2 + rng.uniform(side / 2 + 1, h / 2 - side / 2 - 1)
        obj = _shape(rng, h, w, side, is_disk, cx, cy, half)
        if obj is None or any(
            _boxes_touch(obj['bbox'], [x + dx, y + dy, bw, bh], gap=2)  # on the torus
            for x, y, bw, bh in taken
            for dx in (-w, 0, w)
            for dy in (-h, 0, h)
        ):
            continue
        mask = obj.pop('mask')
        canvas[mask] = _visible_colour(rng, canvas[mask].mean(0))
        taken.append(obj['bbox'])
        objects.append(obj)
    canvas += _noise(rng, canvas.shape, 10)
    return np.clip(canvas, 0, 255).astype(np.uint8), objects


def _visible_colour(rng, local):
    """A random colour at least 120 (L1 over RGB) away from `local`, the mean of what it covers."""
    colour = rng.uniform(0, 255, 3)
    for _ in range(20):
        if np.abs(colour - local).sum() >= 120:
            break
        colour = rng.uniform(0, 255, 3)
    return colour


def _clip_polygon(poly, w, h):
    """Sutherland-Hodgman clip of a convex polygon (N x 2, pixel-edge coordinates) to the image."""
    for axis, limit, keep_below in ((0, 0.0, False), (0, float(w), True), (1, 0.0, False), (1, float(h), True)):
        if len(poly) == 0:
            break
        inside = poly[:, axis] <= limit if keep_below else poly[:, axis] >= limit
        out = []
        for i in range(len(poly)):
            a, b = poly[i - 1], poly[i]
            in_a, in_b = inside[i - 1], inside[i]
            if in_a != in_b:
                t = (limit - a[axis]) / (b[axis] - a[axis])
                out.append(a + t * (b - a))
            if in_b:
                out.append(b)
        poly = np.array(out).reshape(-1, 2)
    return poly


def _rle(mask, compressed):
    """COCO RLE of a boolean mask: compressed (`counts` str) or uncompressed (`counts` list)."""
    h, w = mask.shape
    if compressed:
        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        return dict(size=[h, w], counts=rle['counts'].decode('ascii'))
    flat = mask.ravel(order='F').astype(np.int8)
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])
    counts = np.diff(bounds).tolist()
    return dict(size=[h, w], counts=([0] if flat[0] else []) + counts)


def _boxes_touch(a, b, gap):
    return not (
        a[0] + a[2] + gap <= b[0] or b[0] + b[2] + gap <= a[0] or a[1] + a[3] + gap <= b[1] or b[1] + b[3] + gap <= a[1]
    )
