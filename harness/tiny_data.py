"""Tiny datasets in which position decides the label, written in the exact COCO 2017 and Cityscapes
layouts.

Why this file exists: the harness asks how much a detector or segmenter relies on the absolute
position that zero padding leaks (Islam et al., "How much position information do convolutional
neural networks encode?", ICLR 2020; Kayhan & van Gemert, "On translation invariance in CNNs",
CVPR 2020). A few-minute CPU run can only show that if the labels depend on position, so:

- tiny COCO: `box_top` and `box_bottom` are identical filled squares whose class is decided only by
  whether the centre of the visible square lies in the top or the bottom half; `disk` is defined by
  appearance alone. Many objects touch or are cut by a border, where padding is all a network sees.
- tiny Cityscapes: road and sidewalk share one texture; road is the bottom-centre trapezoid and
  sidewalk the bottom sides, sky is above, cars and persons are blobs with instance ids.

Files carry the real names (`000000000001.jpg`, `instances_val2017.json`,
`<city>_<seq>_<frame>_gtFine_labelTrainIds.png`, ...) so mmdet's `CocoDataset`, mmseg's
`CityscapesDataset` and `CityscapesMetric` read them unchanged and a config switches between tiny
and real data by `data_root` alone (harness/datasets.py checks either).
"""
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from harness.errors import ConfigError, DatasetError

COCO_CLASSES = ('disk', 'box_top', 'box_bottom')
COCO_SPLITS = ('train', 'val')

# mmseg's CityscapesDataset.METAINFO['classes'], indexed by trainId.
CITYSCAPES_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
                      'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car',
                      'truck', 'bus', 'train', 'motorcycle', 'bicycle')

# cityscapesscripts.helpers.labels: (name, id, trainId, hasInstances, color). 255 = ignored.
CITYSCAPES_LABELS = (
    ('unlabeled', 0, 255, False, (0, 0, 0)), ('ego vehicle', 1, 255, False, (0, 0, 0)),
    ('rectification border', 2, 255, False, (0, 0, 0)), ('out of roi', 3, 255, False, (0, 0, 0)),
    ('static', 4, 255, False, (0, 0, 0)), ('dynamic', 5, 255, False, (111, 74, 0)),
    ('ground', 6, 255, False, (81, 0, 81)), ('road', 7, 0, False, (128, 64, 128)),
    ('sidewalk', 8, 1, False, (244, 35, 232)), ('parking', 9, 255, False, (250, 170, 160)),
    ('rail track', 10, 255, False, (230, 150, 140)), ('building', 11, 2, False, (70, 70, 70)),
    ('wall', 12, 3, False, (102, 102, 156)), ('fence', 13, 4, False, (190, 153, 153)),
    ('guard rail', 14, 255, False, (180, 165, 180)), ('bridge', 15, 255, False, (150, 100, 100)),
    ('tunnel', 16, 255, False, (150, 120, 90)), ('pole', 17, 5, False, (153, 153, 153)),
    ('polegroup', 18, 255, False, (153, 153, 153)), ('traffic light', 19, 6, False, (250, 170, 30)),
    ('traffic sign', 20, 7, False, (220, 220, 0)), ('vegetation', 21, 8, False, (107, 142, 35)),
    ('terrain', 22, 9, False, (152, 251, 152)), ('sky', 23, 10, False, (70, 130, 180)),
    ('person', 24, 11, True, (220, 20, 60)), ('rider', 25, 12, True, (255, 0, 0)),
    ('car', 26, 13, True, (0, 0, 142)), ('truck', 27, 14, True, (0, 0, 70)),
    ('bus', 28, 15, True, (0, 60, 100)), ('caravan', 29, 255, True, (0, 0, 90)),
    ('trailer', 30, 255, True, (0, 0, 110)), ('train', 31, 16, True, (0, 80, 100)),
    ('motorcycle', 32, 17, True, (0, 0, 230)), ('bicycle', 33, 18, True, (119, 11, 32)),
)
LABEL_ID_TO_TRAIN_ID = np.full(256, 255, np.uint8)
for _name, _id, _train_id, _inst, _color in CITYSCAPES_LABELS:
    LABEL_ID_TO_TRAIN_ID[_id] = _train_id
_LABEL_ID = {name: id_ for name, id_, *_ in CITYSCAPES_LABELS}
_CITIES = {'train': ('aachen', 'bochum'), 'val': ('frankfurt', 'lindau')}
_STAMP = '.tiny_dataset.json'
_VERSION = 1


@dataclass(frozen=True)
class TinyDataset:
    """What a generator wrote. Paths in `img_dirs` / `ann_files` are relative to `root`, as
    configs write them (`data_root` + `ann_file`, `data_prefix`)."""
    kind: str
    root: Path
    classes: tuple
    img_dirs: dict = field(default_factory=dict)
    ann_files: dict = field(default_factory=dict)  # COCO: json per split; Cityscapes: gtFine dir
    counts: dict = field(default_factory=dict)  # split -> (images, objects)


# ---------------------------------------------------------------- ownership of the output folder

def read_stamp(root):
    """The generator's stamp in `root` (kind, params, complete) or None if there is none."""
    try:
        return json.loads((Path(root) / _STAMP).read_text())
    except (OSError, ValueError):
        return None


def _claim_root(root, owned, kind, params):
    """Remove a previous generator output in `root`; refuse to touch folders it did not make."""
    present = [root / p for p in owned if (root / p).exists()]
    stamp = read_stamp(root)
    if present and (stamp is None or stamp.get('kind') != kind):
        raise DatasetError(f'refusing to overwrite {present[0]}: {root} has no tiny-{kind} stamp '
                           f'{_STAMP}, so this generator did not make it; remove it or pick another folder')
    for path in present:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    root.mkdir(parents=True, exist_ok=True)
    _write_stamp(root, kind, params, complete=False)


def _write_stamp(root, kind, params, complete):
    stamp = dict(kind=kind, version=_VERSION, params=params, complete=complete)
    (root / _STAMP).write_text(json.dumps(stamp, indent=1) + '\n')


def check_tiny_args(n_train, n_val, size, min_side=32):
    """Validate generator arguments; return (H, W) or raise ConfigError."""
    for name, n in (('n_train', n_train), ('n_val', n_val)):
        if not isinstance(n, int) or n < 1:
            raise ConfigError(f'{name}={n!r}: expected an integer >= 1')
    if len(size) != 2 or not all(isinstance(s, int) and s >= min_side for s in size):
        raise ConfigError(f'size={tuple(size)!r}: expected two integers (H, W), each >= {min_side}')
    return int(size[0]), int(size[1])


def _noise(rng, shape, sigma):
    return rng.normal(0.0, sigma, shape).astype(np.float32)


def _smooth_field(rng, h, w, cells, low, high):
    """Low-frequency colour field: a random `cells`x`cells` grid resized bilinearly."""
    coarse = rng.uniform(low, high, (cells, cells, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(coarse).resize((w, h), Image.BILINEAR), np.float32)


# ---------------------------------------------------------------- tiny COCO

def make_tiny_coco(root, n_train=64, n_val=16, size=(128, 128), seed=0):
    """Write a tiny COCO-2017 instance set (classes `COCO_CLASSES`) under `root`; deterministic."""
    h, w = check_tiny_args(n_train, n_val, size)
    root = Path(root)
    owned = ['train2017', 'val2017'] + [f'annotations/instances_{s}2017.json' for s in COCO_SPLITS]
    params = dict(n_train=n_train, n_val=n_val, size=[h, w], seed=seed)
    _claim_root(root, owned, 'coco', params)
    (root / 'annotations').mkdir(exist_ok=True)
    categories = [dict(id=i + 1, name=n, supercategory='shape') for i, n in enumerate(COCO_CLASSES)]
    img_id = ann_id = 0
    out = TinyDataset('coco', root, COCO_CLASSES)
    for split_idx, (split, n) in enumerate(zip(COCO_SPLITS, (n_train, n_val))):
        img_dir, ann_file = f'{split}2017', f'annotations/instances_{split}2017.json'
        (root / img_dir).mkdir()
        images, annotations = [], []
        for i in range(n):
            img_id += 1
            rng = np.random.default_rng([seed, split_idx, i])
            pixels, objects = _coco_image(rng, h, w)
            file_name = f'{img_id:012d}.jpg'
            Image.fromarray(pixels).save(root / img_dir / file_name, quality=95)
            images.append(dict(id=img_id, file_name=file_name, height=h, width=w))
            for obj in objects:
                ann_id += 1
                annotations.append(dict(id=ann_id, image_id=img_id, iscrowd=0, **obj))
        info = dict(description=f'posharness tiny COCO ({split}, seed {seed})', version='1.0')
        doc = dict(info=info, licenses=[], images=images, annotations=annotations,
                   categories=categories)
        (root / ann_file).write_text(json.dumps(doc))
        out.img_dirs[split], out.ann_files[split] = img_dir + '/', ann_file
        out.counts[split] = (len(images), len(annotations))
    _write_stamp(root, 'coco', params, complete=True)
    return out


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
        local = canvas[y:y + bh, x:x + bw].reshape(-1, 3).mean(0)
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
    return dict(category_id=COCO_CLASSES.index(category) + 1, bbox=bbox, area=area,
                segmentation=segmentation, mask=mask)


def _clip_polygon(poly, w, h):
    """Sutherland-Hodgman clip of a convex polygon (N x 2, pixel-edge coordinates) to the image."""
    for axis, limit, keep_below in ((0, 0.0, False), (0, float(w), True),
                                    (1, 0.0, False), (1, float(h), True)):
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
    return not (a[0] + a[2] + gap <= b[0] or b[0] + b[2] + gap <= a[0]
                or a[1] + a[3] + gap <= b[1] or b[1] + b[3] + gap <= a[1])


# ---------------------------------------------------------------- tiny Cityscapes

def make_tiny_cityscapes(root, n_train=32, n_val=8, size=(128, 256), seed=0):
    """Write a tiny Cityscapes set (leftImg8bit + gtFine labelIds/labelTrainIds/instanceIds/color)."""
    h, w = check_tiny_args(n_train, n_val, size)
    root = Path(root)
    owned = [f'{d}/{s}' for d in ('leftImg8bit', 'gtFine') for s in COCO_SPLITS]
    params = dict(n_train=n_train, n_val=n_val, size=[h, w], seed=seed)
    _claim_root(root, owned, 'cityscapes', params)
    palette = np.zeros((256, 3), np.uint8)
    for _name, id_, _t, _i, colour in CITYSCAPES_LABELS:
        palette[id_] = colour
    out = TinyDataset('cityscapes', root, CITYSCAPES_CLASSES)
    for split_idx, (split, n) in enumerate(zip(COCO_SPLITS, (n_train, n_val))):
        objects = 0
        for i in range(n):
            rng = np.random.default_rng([seed, 100 + split_idx, i])
            rgb, label_ids, instance_ids = _city_image(rng, h, w)
            city = _CITIES[split][i % len(_CITIES[split])]
            stem = f'{city}_{i // 2:06d}_{19:06d}'
            img_dir, gt_dir = root / 'leftImg8bit' / split / city, root / 'gtFine' / split / city
            img_dir.mkdir(parents=True, exist_ok=True)
            gt_dir.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rgb).save(img_dir / f'{stem}_leftImg8bit.png')
            Image.fromarray(label_ids).save(gt_dir / f'{stem}_gtFine_labelIds.png')
            Image.fromarray(LABEL_ID_TO_TRAIN_ID[label_ids]).save(
                gt_dir / f'{stem}_gtFine_labelTrainIds.png')
            Image.fromarray(instance_ids).save(gt_dir / f'{stem}_gtFine_instanceIds.png')
            colour = np.dstack([palette[label_ids], np.full((h, w), 255, np.uint8)])
            Image.fromarray(colour).save(gt_dir / f'{stem}_gtFine_color.png')
            objects += len(np.unique(instance_ids[instance_ids >= 1000]))
        out.img_dirs[split], out.ann_files[split] = f'leftImg8bit/{split}', f'gtFine/{split}'
        out.counts[split] = (n, objects)
    _write_stamp(root, 'cityscapes', params, complete=True)
    return out


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
        label[h - ego:] = _LABEL_ID['ego vehicle']
        instance_ids[h - ego:] = _LABEL_ID['ego vehicle']
        rgb[h - ego:] = 30
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


# ---------------------------------------------------------------- checkers

def ensure_tiny_data(repo='.', log=print):
    """Generate the tiny sets the smoke configs read (`data/tiny_coco`, `data/tiny_cityscapes` under
    `repo`) unless a complete one is there already."""
    for name, make in (('tiny_coco', make_tiny_coco), ('tiny_cityscapes', make_tiny_cityscapes)):
        root = Path(repo) / 'data' / name
        if not (read_stamp(root) or {}).get('complete'):
            log(f'generating {root} ...')
            make(root)
