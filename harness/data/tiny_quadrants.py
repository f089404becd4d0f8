"""Tiny quadrants: an ImageNet-format set in which *where* an identical object lies is the class.

Kayhan & van Gemert ("On translation invariance in CNNs: convolutional layers can exploit absolute
spatial location", CVPR 2020) classify which quadrant of an image holds an object: a CNN with zero
padding learns it, one without a border signal cannot. This generator writes that test in mmpretrain's
class-folder layout (`CustomDataset(data_root=root, data_prefix='train')` reads it unchanged):

    root/train/<class>/<k>.png    root/val/<class>/<k>.png    classes: bottom_left, bottom_right, top_left, top_right

Every image is i.i.d. Gaussian noise (a shift-invariant background: no edge, no seam, no vignette)
with one copy of the *same* object (a fixed 3-colour square pattern) placed uniformly at random wholly
inside its quadrant, at the same offset distribution in every quadrant. So the four class
distributions are exact circular shifts of one another by half the image: a network that is
invariant to that shift (circular padding everywhere, global average pooling, and a total stride that
divides half the image size — 32 for ResNets, hence sizes that are multiples of 64) cannot do better
than chance, and anything above chance comes from the border. Images are PNG (lossless, so no JPEG
block grid) and all of one size (so no batch padding canvas).
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ConfigError
from .tiny import SPLITS, TinyDataset, _claim_root, _write_stamp, check_tiny_args

QUADRANT_CLASSES = ('bottom_left', 'bottom_right', 'top_left', 'top_right')  # sorted: CustomDataset's order
_CORNER = {'top_left': (0, 0), 'top_right': (0, 1), 'bottom_left': (1, 0), 'bottom_right': (1, 1)}


def quadrant_object(side):
    """The one object every image holds: a `side`-px square, bright rim, dark ring, mid centre (RGB)."""
    obj = np.empty((side, side, 3), np.float32)
    obj[:] = (230, 200, 40)
    ring = max(1, side // 5)
    obj[ring : side - ring, ring : side - ring] = (20, 40, 160)
    core = 2 * ring
    if side - 2 * core > 0:
        obj[core : side - core, core : side - core] = (200, 60, 60)
    return obj


def quadrant_image(rng, h, w, quadrant, side, sigma=40.0):
    """(uint8 HxWx3 image, (top, left) of the object) for `quadrant`, one of QUADRANT_CLASSES."""
    row, col = _CORNER[quadrant]
    hh, hw = h // 2, w // 2
    top = row * hh + int(rng.integers(0, hh - side + 1))
    left = col * hw + int(rng.integers(0, hw - side + 1))
    img = rng.normal(128.0, sigma, (h, w, 3)).astype(np.float32)
    img[top : top + side, left : left + side] = quadrant_object(side)
    return np.clip(img, 0, 255).round().astype(np.uint8), (top, left)


def make_tiny_quadrants(
    root: str | Path,
    n_train: int = 512,
    n_val: int = 256,
    size: Sequence[int] = (64, 64),
    seed: int = 0,
    side: int | None = None,
) -> TinyDataset:
    """Write the set under `root` (deterministic in `seed`); each split balanced over the 4 classes.

    `n_train` / `n_val` are rounded down to a multiple of 4; the object's `side` (default a fifth of
    the smaller image side, at least 4 px) must fit in a quadrant. H and W must be even."""
    h, w = check_tiny_args(n_train, n_val, size)
    if h % 2 or w % 2:
        raise ConfigError(f'size={tuple(size)!r}: odd side; expected an even H and W (quadrants are halves)')
    given, side = side is not None, side if side is not None else max(4, min(h, w) // 5)
    if not isinstance(side, int) or not 1 <= side <= min(h, w) // 2:
        raise ConfigError(f'side={side!r}: expected an integer in [1, {min(h, w) // 2}] (it must fit in a quadrant)')
    for name, n in (('n_train', n_train), ('n_val', n_val)):
        if n < len(QUADRANT_CLASSES):
            raise ConfigError(f'{name}={n}: expected at least {len(QUADRANT_CLASSES)} (one image per class)')
    root = Path(root)
    params = dict(n_train=n_train, n_val=n_val, size=[h, w], seed=seed, **({'side': side} if given else {}))
    _claim_root(root, list(SPLITS), 'quadrants', params)
    out = TinyDataset('quadrants', root, QUADRANT_CLASSES)
    for split_idx, (split, n) in enumerate(zip(SPLITS, (n_train, n_val))):
        per_class = n // len(QUADRANT_CLASSES)
        for cls_idx, quadrant in enumerate(QUADRANT_CLASSES):
            folder = root / split / quadrant
            folder.mkdir(parents=True)
            for k in range(per_class):
                rng = np.random.default_rng([seed, split_idx, cls_idx, k])
                pixels, _ = quadrant_image(rng, h, w, quadrant, side)
                Image.fromarray(pixels).save(folder / f'{k:05d}.png')
        out.img_dirs[split] = split + '/'
        out.counts[split] = (per_class * len(QUADRANT_CLASSES), per_class * len(QUADRANT_CLASSES))
    _write_stamp(root, 'quadrants', params, complete=True)
    return out
