"""The input size a config trains at, read from the config alone: the size the grid's preflight forward
pass (`preflight`) and the position probe (`harness.diagnose.probe_inputs`) use by default.

Where it comes from, in order:
1. the data_preprocessor's fixed `size` (mmseg pads every training batch to its crop size);
2. the training pipeline, step by step: `Resize` (its scale; with `keep_ratio` an image is fitted
   inside it, so a landscape image gets the shorter side as height), `RandomResize` (its scale times
   the smallest ratio, or the smaller end of a scale range), `RandomChoiceResize` (its smallest
   scale), `RandomCrop` (an absolute crop caps each side), `Pad` (a fixed size or a divisor) and
   `RandomChoice` (the branch that gives the smallest size);
3. otherwise the first training image as it is stored (its header only).
mmcv and mmdet write scales, crop and pad sizes as (w, h); mmseg writes its crops and the
data_preprocessor's size as (h, w). Where the scale varies the smallest is taken: that is where a layer
is likeliest not to fit its input. Sizes come back as (h, w).
"""

import os
import os.path as osp
from typing import Any

IMAGE_EXTS = ('.jpg', '.jpeg', '.png')


def train_input_size(cfg: Any) -> tuple[tuple[int, int] | None, str]:
    """((h, w), how) the config trains at, or (None, why it cannot tell)."""
    model = cfg.get('model') or {}
    pre = model.get('data_preprocessor') or cfg.get('data_preprocessor') or {}
    if pre.get('size'):
        h, w = _pair(pre['size'])
        return (h, w), 'the data_preprocessor size (crop)'
    dataset, pipeline = train_dataset(cfg)
    if dataset is None:
        return None, 'the config has no train_dataloader.dataset'
    size, how = _walk(pipeline, None, [], cfg.get('default_scope') == 'mmseg')
    if size is not None:
        return size, ', '.join(how)
    return _stored_size(dataset)


def _walk(pipeline, size, how, mmseg):
    """(size, how) after the pipeline's steps, from (size, how); `RandomChoice` takes its smallest branch."""
    for step in pipeline:
        kind = _type_name(step)
        if kind == 'Resize' and step.get('scale') is not None:
            size = _fit(step['scale'], step.get('keep_ratio', False))
            how = [f'Resize scale {_show(step["scale"])}' + (' keep_ratio' if step.get('keep_ratio') else '')]
        elif kind == 'RandomResize' and step.get('scale') is not None:
            scale = step['scale']
            if step.get('ratio_range'):
                lo = min(step['ratio_range'])
                scale = [int(s * lo) for s in _pair(scale)]
            elif isinstance(scale[0], (list, tuple)):  # a range of scales: each edge's smaller end
                scale = [min(s[i] for s in scale) for i in (0, 1)]
            size = _fit(scale, step.get('keep_ratio', False))
            how = [f'RandomResize, smallest scale {_show(scale)}']
        elif kind == 'RandomChoiceResize' and step.get('scales'):
            scale = min(step['scales'], key=lambda s: _pair(s)[0] * _pair(s)[1])
            size = _fit(scale, step.get('keep_ratio', False))
            how = [f'RandomChoiceResize, smallest scale {_show(scale)}']
        elif kind == 'RandomCrop' and step.get('crop_type', 'absolute') == 'absolute' and size is not None:
            a, b = _pair(step['crop_size'])
            crop = (a, b) if mmseg else (b, a)  # mmseg (h, w); mmdet (w, h)
            size = (min(size[0], crop[0]), min(size[1], crop[1]))
            how.append(f'RandomCrop {_show(step["crop_size"])}')
        elif kind == 'Pad' and size is not None:
            size, note = _pad(size, step)
            how += [note] if note else []
        elif kind == 'RandomChoice' and step.get('transforms'):  # e.g. mmdet's ConvNeXt / DETR multi-scale crops
            branches = [_walk(b if isinstance(b, (list, tuple)) else [b], size, [], mmseg) for b in step['transforms']]
            branches = [(s, h) for s, h in branches if s is not None]
            if branches:
                size, chosen = min(branches, key=lambda b: b[0][0] * b[0][1])
                how = how + [f'RandomChoice, smallest branch: {", ".join(chosen)}']
    return size, how


def train_dataset(cfg):
    """(the innermost training dataset dict, its pipeline followed by any wrapper's), or (None, [])."""
    ds = (cfg.get('train_dataloader') or {}).get('dataset')
    if not isinstance(ds, dict):
        return None, []
    outer = []
    while isinstance(ds.get('dataset'), dict):  # RepeatDataset, ClassBalancedDataset, MultiImageMixDataset
        outer = list(ds.get('pipeline') or []) + outer
        ds = ds['dataset']
    return ds, list(ds.get('pipeline') or []) + outer


def image_folder(dataset: Any) -> str | None:
    """The image folder of a dataset dict: data_root + data_prefix img (mmdet) / img_path (mmseg)."""
    prefix = dataset.get('data_prefix') or {}
    sub = prefix.get('img', prefix.get('img_path', '')) if isinstance(prefix, dict) else ''
    folder = osp.join(dataset.get('data_root') or '', sub or '')
    return osp.normpath(folder) if folder else folder


def _stored_size(dataset):
    folder = image_folder(dataset)
    if not osp.isdir(folder):
        return None, f'no resize in the training pipeline and its image folder {folder} does not exist'
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(IMAGE_EXTS):
                from PIL import Image

                with Image.open(osp.join(root, name)) as im:  # reads the header only
                    w, h = im.size
                return (h, w), f'as stored (no resize in the training pipeline; {osp.join(root, name)})'
    return None, f'no resize in the training pipeline and no jpg / png image under {folder}'


def _pad(size, step):
    h, w = size
    if step.get('size') is not None:
        pw, ph = _pair(step['size'])
        return (max(h, ph), max(w, pw)), f'Pad size {_show(step["size"])}'
    if step.get('pad_to_square'):
        return (max(h, w), max(h, w)), 'Pad to square'
    d = step.get('size_divisor')
    if d:
        return (-(-h // d) * d, -(-w // d) * d), f'Pad to a multiple of {d}'
    return size, ''


def _fit(scale, keep_ratio):
    """(h, w) of an image resized to mmcv `scale` (w, h): kept ratio fits it in, long side on the long edge."""
    w, h = _pair(scale)
    if keep_ratio:
        return min(w, h), max(w, h)
    return h, w


def _pair(value):
    if isinstance(value, (int, float)):
        return int(value), int(value)
    a, b = value
    return int(a), int(b)


def _type_name(step):
    kind = step.get('type', '') if isinstance(step, dict) else ''
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
    return name.split('.')[-1]


def _show(value):
    return 'x'.join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
