"""The tiny quadrant set: the object sits wholly in its class's quadrant, the classes are half-image shifts
of one another, and mmpretrain's CustomDataset reads the folders with the class order we name."""

import numpy as np
import pytest
from PIL import Image

from harness.data.image_folders import check_image_folders
from harness.data.tiny_quadrants import QUADRANT_CLASSES, make_tiny_quadrants, quadrant_image, quadrant_object
from harness.errors import ConfigError, DatasetError


def _find(img, obj):
    """(top, left) of every exact copy of `obj` in `img` (an independent search, not the generator's own)."""
    s = obj.shape[0]
    hits = [
        (i, j)
        for i in range(img.shape[0] - s + 1)
        for j in range(img.shape[1] - s + 1)
        if np.array_equal(img[i : i + s, j : j + s], obj)
    ]
    return hits


def test_object_lies_wholly_in_its_quadrant(tmp_path):
    made = make_tiny_quadrants(tmp_path / 'q', n_train=8, n_val=4, size=(64, 64), seed=3)
    assert made.classes == QUADRANT_CLASSES == tuple(sorted(QUADRANT_CLASSES))
    assert made.counts == {'train': (8, 8), 'val': (4, 4)}
    obj = quadrant_object(12).astype(np.uint8)
    for split in ('train', 'val'):
        for cls in QUADRANT_CLASSES:
            for path in sorted((tmp_path / 'q' / split / cls).glob('*.png')):
                img = np.asarray(Image.open(path).convert('RGB'))
                ((top, left),) = _find(img, obj)
                rows = range(0, 32) if cls.startswith('top') else range(32, 64)
                cols = range(0, 32) if cls.endswith('left') else range(32, 64)
                assert top in rows and top + 11 in rows and left in cols and left + 11 in cols, (path, top, left)
    assert check_image_folders(tmp_path / 'q', 'train') == (4, 8)


def test_classes_are_half_image_circular_shifts_of_each_other():
    rng = np.random.default_rng
    a, (ta, la) = quadrant_image(rng(7), 64, 64, 'top_left', 12)
    b, (tb, lb) = quadrant_image(rng(7), 64, 64, 'bottom_right', 12)
    # same random draws: the same offset inside the quadrant, so rolling a top-left image by half the image
    # puts its object where the bottom-right one has it (over i.i.d. noise, whose law the roll keeps)
    assert (tb, lb) == (ta + 32, la + 32)
    assert _find(np.roll(a, (32, 32), axis=(0, 1)), quadrant_object(12).astype(np.uint8)) == [(tb, lb)]
    assert _find(b, quadrant_object(12).astype(np.uint8)) == [(tb, lb)]


def test_custom_dataset_reads_it(tmp_path):
    import mmpretrain  # noqa: F401  (registers CustomDataset)
    from mmengine.registry import DATASETS, DefaultScope

    make_tiny_quadrants(tmp_path / 'q', n_train=8, n_val=4)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        ds = DATASETS.build(dict(type='CustomDataset', data_root=str(tmp_path / 'q'), data_prefix='train', pipeline=[]))
    assert tuple(ds.metainfo['classes']) == QUADRANT_CLASSES and len(ds) == 8
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert QUADRANT_CLASSES[info['gt_label']] in info['img_path']


def test_bad_arguments_and_missing_folders():
    with pytest.raises(ConfigError, match='odd side'):
        make_tiny_quadrants('/nonexistent', size=(63, 64))
    with pytest.raises(ConfigError, match='side=40'):
        make_tiny_quadrants('/nonexistent', size=(64, 64), side=40)
    with pytest.raises(DatasetError, match='image folder .* does not exist'):
        check_image_folders('/nonexistent', 'train')
