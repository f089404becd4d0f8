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
and real data by `data_root` alone (`checks` checks either). Generators: `tiny_coco`, `tiny_cityscapes`,
`tiny_quadrants`; this module holds what they share, and `tiny_sets.ensure_tiny_data` calls them.
"""

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ConfigError, DatasetError

SPLITS = ('train', 'val')

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


def read_stamp(root: str | Path) -> dict | None:
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
        raise DatasetError(
            f'refusing to overwrite {present[0]}: {root} has no tiny-{kind} stamp '
            f'{_STAMP}, so this generator did not make it; remove it or pick another folder'
        )
    for path in present:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    root.mkdir(parents=True, exist_ok=True)
    _write_stamp(root, kind, params, complete=False)


def _write_stamp(root, kind, params, complete):
    stamp = dict(kind=kind, version=_VERSION, params=params, complete=complete)
    (root / _STAMP).write_text(json.dumps(stamp, indent=1) + '\n')


def check_tiny_args(n_train: int, n_val: int, size: Sequence[int], min_side: int = 32) -> tuple[int, int]:
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


def ensure_made(root, make, params, log=print):
    """Run `make(root, **params)` unless `root` holds a complete set that `make` wrote with `params`."""
    stamp = read_stamp(root) or {}
    expected = dict(params, size=list(params['size']))
    if not (stamp.get('complete') and stamp.get('params') == expected):
        log(f'generating {root} ...')
        make(root, **params)
