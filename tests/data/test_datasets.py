"""Tests for harness/data/ (tiny generators, checks), tools/make_tiny_dataset.py and tools/make_subset.py.

The tiny sets must load with the readers mmdet and mmseg use (pycocotools, the Cityscapes file
names), position must decide their labels, and every checker failure must be a one-line
DatasetError naming the offending file.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from tool_loader import load_tool

from harness.data import (
    CITYSCAPES_CLASSES,
    CITYSCAPES_LABELS,
    COCO_CLASSES,
    LABEL_ID_TO_TRAIN_ID,
    check_cityscapes,
    check_coco,
    ensure_tiny_data,
    make_tiny_cityscapes,
    make_tiny_coco,
)
from harness.errors import DatasetError
from harness.paths import REPO_ROOT

REPO = REPO_ROOT
GT_SUFFIXES = ('labelIds', 'labelTrainIds', 'instanceIds', 'color')


_tool = load_tool


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    return make_tiny_coco(tmp_path_factory.mktemp('data') / 'tiny_coco', n_train=48, n_val=8, seed=0)


@pytest.fixture(scope='module')
def coco_api(coco):
    return COCO(str(coco.root / coco.ann_files['train']))


@pytest.fixture(scope='module')
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp('data') / 'tiny_cityscapes'
    return make_tiny_cityscapes(root, n_train=6, n_val=4, size=(64, 128), seed=0)


def _city_files(city, split):
    images = sorted((city.root / 'leftImg8bit' / split).glob('*/*_leftImg8bit.png'))
    assert images
    for img in images:
        gt_dir = city.root / 'gtFine' / split / img.parent.name
        stem = img.name[: -len('_leftImg8bit.png')]
        yield img, {s: gt_dir / f'{stem}_gtFine_{s}.png' for s in GT_SUFFIXES}


# ---------------------------------------------------------------- tiny COCO


def test_coco_loads_with_pycocotools(coco, coco_api):
    cats = coco_api.loadCats(coco_api.getCatIds())
    assert tuple(c['name'] for c in cats) == COCO_CLASSES
    assert coco_api.getCatIds(catNms=list(COCO_CLASSES)) == [1, 2, 3]  # what mmdet's CocoDataset asks
    img_ids = coco_api.getImgIds()
    assert len(img_ids) == 48
    for img in coco_api.loadImgs(img_ids):
        assert re.fullmatch(r'\d{12}\.jpg', img['file_name'])
        with Image.open(coco.root / 'train2017' / img['file_name']) as im:
            assert (im.format, im.size) == ('JPEG', (img['width'], img['height']))
        ann_ids = coco_api.getAnnIds(imgIds=[img['id']])
        assert 2 <= len(ann_ids) <= 5
        for ann in coco_api.loadAnns(ann_ids):
            assert ann['image_id'] == img['id'] and ann['category_id'] in (1, 2, 3)
            assert ann['iscrowd'] == 0
    assert len(set(coco_api.getAnnIds())) == len(coco_api.dataset['annotations'])


def test_coco_masks_decode_and_agree_with_bbox(coco_api):
    kinds = set()
    for ann in coco_api.dataset['annotations']:
        seg = ann['segmentation']
        kinds.add('polygon' if isinstance(seg, list) else type(seg['counts']).__name__)
        img = coco_api.imgs[ann['image_id']]
        mask = coco_api.annToMask(ann)
        assert mask.shape == (img['height'], img['width'])
        assert int(mask.sum()) == ann['area'] > 0
        rle = coco_api.annToRLE(ann)
        np.testing.assert_array_equal(mask_utils.toBbox(rle), ann['bbox'])
        x, y, w, h = ann['bbox']
        assert mask[y : y + h, x : x + w].sum() == mask.sum()
    assert kinds == {'polygon', 'list', 'str'}  # polygons, uncompressed and compressed RLE


def test_box_class_is_decided_by_position(coco_api):
    by_class = {name: [] for name in COCO_CLASSES}
    for ann in coco_api.dataset['annotations']:
        img = coco_api.imgs[ann['image_id']]
        centre_y = (ann['bbox'][1] + ann['bbox'][3] / 2) / img['height']
        by_class[COCO_CLASSES[ann['category_id'] - 1]].append(centre_y)
    assert max(by_class['box_top']) < 0.5 < min(by_class['box_bottom'])
    assert min(by_class['disk']) < 0.5 < max(by_class['disk'])  # disks are anywhere
    total = sum(map(len, by_class.values()))
    assert all(len(v) >= 0.15 * total for v in by_class.values()), {k: len(v) for k, v in by_class.items()}


def test_box_classes_look_identical(coco_api):
    """Squares of both classes come from one appearance distribution: same size range, and both
    are drawn as flat squares (mask fills its bbox)."""
    sides = {2: [], 3: []}
    for ann in coco_api.dataset['annotations']:
        if ann['category_id'] in sides:
            x, y, w, h = ann['bbox']
            assert ann['area'] == w * h
            sides[ann['category_id']].append(max(w, h))
    assert abs(np.median(sides[2]) - np.median(sides[3])) < 12


def test_coco_many_objects_touch_a_border(coco_api):
    touching, sides = 0, set()
    anns = coco_api.dataset['annotations']
    for ann in anns:
        img = coco_api.imgs[ann['image_id']]
        x, y, w, h = ann['bbox']
        hit = {'left': x == 0, 'top': y == 0, 'right': x + w == img['width'], 'bottom': y + h == img['height']}
        sides |= {k for k, v in hit.items() if v}
        touching += any(hit.values())
    assert touching / len(anns) >= 0.30
    assert sides == {'left', 'top', 'right', 'bottom'}


def test_coco_is_deterministic(tmp_path):
    a = make_tiny_coco(tmp_path / 'a', n_train=3, n_val=1, size=(64, 64), seed=5)
    b = make_tiny_coco(tmp_path / 'b', n_train=3, n_val=1, size=(64, 64), seed=5)
    c = make_tiny_coco(tmp_path / 'c', n_train=3, n_val=1, size=(64, 64), seed=6)
    files = sorted(p.relative_to(a.root) for p in [*a.root.rglob('*.jpg'), *a.root.glob('annotations/*')])
    assert len(files) == 6  # 4 images + 2 json
    assert all((a.root / f).read_bytes() == (b.root / f).read_bytes() for f in files)
    assert any((a.root / f).read_bytes() != (c.root / f).read_bytes() for f in files)


# ---------------------------------------------------------------- tiny Cityscapes


@pytest.mark.parametrize('split,cities', [('train', {'aachen', 'bochum'}), ('val', {'frankfurt', 'lindau'})])
def test_cityscapes_exact_file_names(city, split, cities):
    found = set()
    for img, gts in _city_files(city, split):
        match = re.fullmatch(r'([a-z]+)_(\d{6})_(\d{6})_leftImg8bit\.png', img.name)
        assert match and match.group(1) == img.parent.name
        found.add(img.parent.name)
        assert all(gt.is_file() for gt in gts.values()), gts
    assert found == cities
    assert check_cityscapes(city.root, split) == dict(
        images=6 if split == 'train' else 4, checked=6 if split == 'train' else 4
    )


def test_cityscapes_ids_are_consistent(city):
    instance_label = {id_ for _n, id_, _t, inst, _c in CITYSCAPES_LABELS if inst}
    instances = 0
    for _img, gts in _city_files(city, 'train'):
        label = np.asarray(Image.open(gts['labelIds']))
        train = np.asarray(Image.open(gts['labelTrainIds']))
        inst = np.asarray(Image.open(gts['instanceIds'])).astype(np.int64)
        assert label.dtype == train.dtype == np.uint8 and label.shape == train.shape == inst.shape
        assert Image.open(gts['instanceIds']).mode.startswith('I')  # 16-bit, as in Cityscapes
        np.testing.assert_array_equal(train, LABEL_ID_TO_TRAIN_ID[label])
        assert set(np.unique(train)) <= set(range(19)) | {255}
        is_instance = inst >= 1000
        np.testing.assert_array_equal(inst[is_instance] // 1000, label[is_instance])
        np.testing.assert_array_equal(inst[~is_instance], label[~is_instance])
        assert set(np.unique(inst[is_instance] // 1000)) <= instance_label
        instances += len(np.unique(inst[is_instance]))
    assert instances >= 6
    assert LABEL_ID_TO_TRAIN_ID[[0, 7, 8, 11, 21, 23, 24, 26]].tolist() == [255, 0, 1, 2, 8, 10, 11, 13]


def test_cityscapes_position_decides_road_and_sidewalk(city):
    """Road and sidewalk share a texture (equal mean colour) and differ only in where they are."""
    road_x, side_x, colour_gap = [], [], []
    for img, gts in _city_files(city, 'train'):
        rgb = np.asarray(Image.open(img), np.float64)
        train = np.asarray(Image.open(gts['labelTrainIds']))
        h, w = train.shape
        rows, cols = np.mgrid[0:h, 0:w]
        sky, road, side = train == 10, train == 0, train == 1
        assert rows[sky].mean() < rows[road].mean() and rows[road].min() > h / 3
        road_x.append(np.abs(cols[road] / w - 0.5).mean())
        side_x.append(np.abs(cols[side] / w - 0.5).mean())
        colour_gap.append(np.abs(rgb[road].mean(0) - rgb[side].mean(0)).max())
    assert max(road_x) < min(side_x)  # road central, sidewalk at the sides
    assert np.median(colour_gap) < 12


def test_cityscapes_label_table_matches_cityscapesscripts():
    labels = pytest.importorskip('cityscapesscripts.helpers.labels')
    ours = [(n, i, t, inst, tuple(c)) for n, i, t, inst, c in CITYSCAPES_LABELS]
    theirs = [(l.name, l.id, l.trainId, l.hasInstances, tuple(l.color)) for l in labels.labels if l.id >= 0]
    assert ours == theirs
    assert CITYSCAPES_CLASSES == tuple(labels.trainId2label[t].name for t in range(19))


# ---------------------------------------------------------------- the readers that will consume them


def test_mmdet_coco_dataset_reads_tiny_coco(coco, coco_api):
    """mmdet's CocoDataset + LoadAnnotations yield every annotation (polygons and both RLE kinds),
    none ignored, with the bbox and mask pycocotools gives."""
    pytest.importorskip('mmdet')
    from mmcv.transforms import LoadImageFromFile
    from mmdet.datasets import CocoDataset
    from mmdet.datasets.transforms import LoadAnnotations

    ds = CocoDataset(
        data_root=str(coco.root),
        ann_file=coco.ann_files['train'],
        data_prefix=dict(img=coco.img_dirs['train']),
        metainfo=dict(classes=COCO_CLASSES),
        pipeline=[LoadImageFromFile(), LoadAnnotations(with_bbox=True, with_mask=True)],
    )
    assert len(ds) == 48 and ds.metainfo['classes'] == COCO_CLASSES
    for i in range(len(ds)):
        item = ds[i]
        anns = coco_api.loadAnns(coco_api.getAnnIds(imgIds=[item['img_id']]))
        assert item['img'].shape == (128, 128, 3)
        assert not item['gt_ignore_flags'].any()
        assert item['gt_bboxes_labels'].tolist() == [a['category_id'] - 1 for a in anns]
        boxes = [a['bbox'] for a in anns]
        assert item['gt_bboxes'].tensor.tolist() == [[x, y, x + w, y + h] for x, y, w, h in boxes]
        assert item['gt_masks'].masks.sum((1, 2)).tolist() == [a['area'] for a in anns]


def test_mmseg_cityscapes_dataset_reads_tiny_cityscapes(city):
    pytest.importorskip('mmseg')
    from mmcv.transforms import LoadImageFromFile
    from mmseg.datasets import CityscapesDataset
    from mmseg.datasets.transforms import LoadAnnotations

    ds = CityscapesDataset(
        data_root=str(city.root),
        pipeline=[LoadImageFromFile(), LoadAnnotations()],
        data_prefix=dict(img_path=city.img_dirs['val'], seg_map_path=city.ann_files['val']),
    )
    assert len(ds) == 4
    for i in range(len(ds)):
        item = ds[i]
        assert item['img'].shape == (64, 128, 3)
        expected = np.asarray(Image.open(item['seg_map_path']))
        np.testing.assert_array_equal(item['gt_seg_map'], expected)
        # CityscapesMetric reads the labelIds file beside the trainIds one
        assert Path(item['seg_map_path'].replace('labelTrainIds.png', 'labelIds.png')).is_file()


def test_cityscapes_evaluation_accepts_tiny_cityscapes(city, monkeypatch):
    """The official evaluator CityscapesMetric calls (with instance-level scores) gives 1.0 for a
    perfect prediction, so labelIds and instanceIds are in the format it expects."""
    cs_eval = pytest.importorskip('cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling')
    assert hasattr(
        np, 'in1d'
    )  # removed in numpy 2.4 (cityscapesScripts#196); harness.engine.register (conftest) shims it
    settings = dict(evalInstLevelScore=True, evalPixelAccuracy=True, JSONOutput=False, quiet=True)
    for name, value in settings.items():
        monkeypatch.setattr(cs_eval.args, name, value)
    gts = [str(gts['labelIds']) for _img, gts in _city_files(city, 'val')]
    result = cs_eval.evaluateImgLists(gts, gts, cs_eval.args)
    assert result['averageScoreCategories'] == result['averageScoreInstCategories'] == 1.0
    assert {'road', 'sidewalk', 'sky', 'car'} <= {k for k, v in result['classScores'].items() if v == v}


# ---------------------------------------------------------------- subsets


def test_subset_coco_passes_the_checker(coco, tmp_path, capsys):
    tool, out = _tool('make_subset'), tmp_path / 'coco_subset'
    argv = ['coco', '--src', str(coco.root), '--out', str(out), '--train', '10', '--val', '3']
    assert tool.main(argv) == 0
    assert 'train 10 images' in capsys.readouterr().out
    for split, n in (('train', 10), ('val', 3)):
        assert check_coco(out, f'annotations/instances_{split}2017.json', f'{split}2017')['images'] == n
    src = json.loads((coco.root / coco.ann_files['train']).read_text())
    sub = json.loads((out / 'annotations/instances_train2017.json').read_text())
    ids = {img['id'] for img in sub['images']}
    assert sub['categories'] == src['categories']
    assert sub['annotations'] == [a for a in src['annotations'] if a['image_id'] in ids]
    assert sorted(p.name for p in (out / 'train2017').iterdir()) == sorted(i['file_name'] for i in sub['images'])
    assert tool.main(argv) == 2 and 'already exists' in capsys.readouterr().err
    assert tool.main(argv + ['--force', '--seed', '1']) == 0


def test_subset_cityscapes_copies_all_gtfine_files(city, tmp_path):
    tool, out = _tool('make_subset'), tmp_path / 'cityscapes_subset'
    argv = ['cityscapes', '--src', str(city.root), '--out', str(out), '--train', '3', '--val', '2']
    assert tool.main(argv) == 0
    for split, n in (('train', 3), ('val', 2)):
        assert check_cityscapes(out, split)['images'] == n
        images = list((out / 'leftImg8bit' / split).glob('*/*_leftImg8bit.png'))
        gts = list((out / 'gtFine' / split).glob('*/*_gtFine_*.png'))
        assert (len(images), len(gts)) == (n, n * len(GT_SUFFIXES))


# ---------------------------------------------------------------- checker errors


@pytest.fixture
def small_coco(tmp_path):
    return make_tiny_coco(tmp_path / 'c', n_train=2, n_val=2, size=(48, 48))


@pytest.fixture
def small_city(tmp_path):
    return make_tiny_cityscapes(tmp_path / 'cs', n_train=1, n_val=2, size=(32, 64))


def _check_val(ds):
    return check_coco(ds.root, 'annotations/instances_val2017.json', 'val2017')


def _edit_json(ds, edit):
    path = ds.root / 'annotations/instances_val2017.json'
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def _raises_one_line(pattern, fn, *args):
    with pytest.raises(DatasetError, match=pattern) as info:
        fn(*args)
    assert '\n' not in str(info.value)


def test_check_coco_missing_folder(tmp_path):
    _raises_one_line(
        r'dataset folder .*nowhere does not exist',
        check_coco,
        tmp_path / 'nowhere',
        'annotations/instances_val2017.json',
        'val2017',
    )


def test_check_coco_corrupt_json(small_coco):
    path = small_coco.root / 'annotations/instances_val2017.json'
    path.write_text(path.read_text()[:-30])
    _raises_one_line(r'instances_val2017\.json is not valid JSON: .* line 1, column \d+', _check_val, small_coco)


def test_check_coco_json_without_categories(small_coco):
    _edit_json(small_coco, lambda doc: doc.pop('categories'))
    _raises_one_line(r'instances_val2017\.json lacks a "categories" list', _check_val, small_coco)


def test_check_coco_missing_image(small_coco):
    name = sorted((small_coco.root / 'val2017').iterdir())[-1].name
    (small_coco.root / 'val2017' / name).unlink()
    _raises_one_line(rf'image {name} \(id \d+\) is listed but .*/val2017/{name} does not exist', _check_val, small_coco)


def test_check_coco_unknown_category(small_coco):
    _edit_json(small_coco, lambda doc: doc['annotations'][0].update(category_id=7))
    _raises_one_line(
        r'instances_val2017\.json: annotation \d+ \(image \d{12}\.jpg\) has category_id 7', _check_val, small_coco
    )


@pytest.mark.parametrize('bbox', [[1, 2, 3], [10, 10, -4, 5], [40, 40, 30, 30], [0, 0, 'w', 4]])
def test_check_coco_bad_bbox(small_coco, bbox):
    _edit_json(small_coco, lambda doc: doc['annotations'][-1].update(bbox=bbox))
    _raises_one_line(
        r'instances_val2017\.json: annotation \d+ \(image \d{12}\.jpg\) has bbox .* 48x48 image', _check_val, small_coco
    )


def test_check_coco_image_size_mismatch(small_coco):
    _edit_json(small_coco, lambda doc: doc['images'][0].update(width=50))
    _raises_one_line(r'image .*\d{12}\.jpg is 48x48 but .*instances_val2017\.json says 50x48', _check_val, small_coco)


def test_check_cityscapes_missing_folder(tmp_path, small_city):
    _raises_one_line(r'dataset folder .*nowhere does not exist', check_cityscapes, tmp_path / 'nowhere', 'val')
    _raises_one_line(r'folder .*leftImg8bit/test does not exist', check_cityscapes, small_city.root, 'test')


def test_check_cityscapes_missing_train_ids(small_city):
    gt = next((small_city.root / 'gtFine/val').glob('*/*_gtFine_labelTrainIds.png'))
    gt.unlink()
    stem = gt.name[: -len('_gtFine_labelTrainIds.png')]
    _raises_one_line(
        rf'image .*{stem}_leftImg8bit\.png has no {stem}_gtFine_labelTrainIds\.png',
        check_cityscapes,
        small_city.root,
        'val',
    )


@pytest.mark.parametrize(
    'suffix,value,pattern',
    [
        ('labelTrainIds', 19, r'labelTrainIds\.png has trainId 19 out of range \(expected 0\.\.18 or 255'),
        ('labelTrainIds', 254, r'labelTrainIds\.png has trainId 254 out of range'),
        ('labelIds', 34, r'labelIds\.png has labelId 34 out of range \(expected 0\.\.33'),
    ],
)
def test_check_cityscapes_label_out_of_range(small_city, suffix, value, pattern):
    gt = next((small_city.root / 'gtFine/val').glob(f'*/*_gtFine_{suffix}.png'))
    arr = np.asarray(Image.open(gt)).copy()
    arr[3, 5] = value
    Image.fromarray(arr).save(gt)
    _raises_one_line(pattern, check_cityscapes, small_city.root, 'val')
    assert check_cityscapes(small_city.root, 'val', max_files=0) == dict(images=2, checked=0)


def test_check_cityscapes_colour_png_as_labels(small_city):
    gt = next((small_city.root / 'gtFine/val').glob('*/*_gtFine_labelTrainIds.png'))
    Image.open(gt.with_name(gt.name.replace('labelTrainIds', 'color'))).convert('RGB').save(gt)
    _raises_one_line(r'labelTrainIds\.png has mode RGB; expected one channel', check_cityscapes, small_city.root, 'val')


# ---------------------------------------------------------------- CLIs


def test_make_tiny_dataset_is_idempotent(tmp_path, capsys):
    tool = _tool('make_tiny_dataset')
    argv = ['all', '--out', str(tmp_path), '--train', '2', '--val', '1', '--size', '48', '64']
    assert tool.main(argv) == 0
    out = capsys.readouterr().out
    assert out.count('wrote') == 2 and 'tiny_coco' in out and 'tiny_cityscapes' in out
    jpg = next((tmp_path / 'tiny_coco/train2017').iterdir())
    mtime = jpg.stat().st_mtime_ns
    assert tool.main(argv) == 0
    assert capsys.readouterr().out.count('skip') == 2 and jpg.stat().st_mtime_ns == mtime
    assert tool.main(argv[:-3] + ['--size', '64', '64']) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(r'error: .*tiny_coco holds a tiny coco set made with .*--force.*\n', err)
    assert tool.main(argv[:-3] + ['--size', '64', '64', '--force']) == 0


def test_make_tiny_dataset_never_overwrites_foreign_folders(tmp_path, capsys):
    (tmp_path / 'tiny_coco/train2017').mkdir(parents=True)
    (tmp_path / 'tiny_coco/train2017/real.jpg').write_bytes(b'precious')
    assert _tool('make_tiny_dataset').main(['coco', '--out', str(tmp_path), '--train', '1', '--val', '1']) == 2
    assert 'refusing to overwrite' in capsys.readouterr().err
    assert (tmp_path / 'tiny_coco/train2017/real.jpg').read_bytes() == b'precious'


@pytest.mark.parametrize(
    'argv,pattern',
    [
        (
            ['make_subset.py', 'coco', '--src', 'no/such/coco', '--out', 'x'],
            r'error: source folder no/such/coco does not exist',
        ),
        (
            ['make_tiny_dataset.py', 'coco', '--train', '0', '--out', '{tmp}'],
            r'error: n_train=0: expected an integer >= 1',
        ),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, argv, pattern):
    argv = [str(REPO / 'tools' / argv[0])] + [a.format(tmp=tmp_path) for a in argv[1:]]
    proc = subprocess.run([sys.executable] + argv, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert 'Traceback' not in proc.stderr and proc.stderr.count('\n') == 1
    assert re.fullmatch(pattern + r'.*\n', proc.stderr), proc.stderr


TINY_SETS = ('tiny_coco', 'tiny_cityscapes', 'tiny_quadrants')  # what ensure_tiny_data makes, in its order


def test_ensure_tiny_data_generates_what_is_missing_once(tmp_path):
    said = []
    ensure_tiny_data(tmp_path, log=said.append)
    assert said == [f'generating {tmp_path / "data" / name} ...' for name in TINY_SETS]
    check_coco(tmp_path / 'data' / 'tiny_coco', 'annotations/instances_val2017.json', 'val2017')
    check_cityscapes(tmp_path / 'data' / 'tiny_cityscapes')
    said.clear()
    ensure_tiny_data(tmp_path, log=said.append)
    assert said == []


def test_ensure_tiny_data_called_at_once_by_two_processes_generates_each_set_once(tmp_path):
    """Two main jobs, or the suite's workers (pytest-xdist), on one checkout: the lock lets one generate."""
    code = (
        'import sys; from harness.data import ensure_tiny_data; '
        'ensure_tiny_data(sys.argv[1], log=lambda m: print(m, flush=True))'
    )
    procs = [
        subprocess.Popen([sys.executable, '-c', code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    said = [line for p in procs for line in p.communicate(timeout=300)[0].splitlines()]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(said) == sorted(f'generating {tmp_path / "data" / name} ...' for name in TINY_SETS)
    check_coco(tmp_path / 'data' / 'tiny_coco', 'annotations/instances_val2017.json', 'val2017')
