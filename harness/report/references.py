"""Published numbers that our ablations can be compared with, each with where it was published.

This is the only place in the harness where a result that we did not measure may appear. Every
entry was checked against its source (the model zoo's metafile, or the paper's text); numbers that
could not be checked are left out rather than remembered. Values are stored the way the source
prints them, in percent (COCO AP 38.2, not mmdet's 0.382); `harness.report.write` converts our own
COCO results to the same scale for display.

A grid points at an entry by its key, in `grid.json`:
`"references": {"none": {"ref": "mmdet/mask-rcnn_r50_fpn_1x_coco"}}`, or gives a number and its
source itself: `{"circular": {"coco/bbox_mAP": 40.0, "source": "..."}}`; `from_grid` reads both.

`kind` is `absolute` for a score, or `delta` for a published signed difference (with the feature)
minus (without it) of the same model; each entry also records its backbone, schedule (epochs) and
whether it trained multi-scale, so the report can say where our setting differs. Checked again for
this version: the mmdet metafiles of mask_rcnn, solo, solov2, convnext, the mmseg metafiles of fcn,
deeplabv3, segformer and the SOLO paper's text (each entry's `checked`).
"""

from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

_MMDET = 'mmdetection model zoo, https://github.com/open-mmlab/mmdetection/blob/main/configs/{}'
_MMSEG = 'mmsegmentation model zoo, https://github.com/open-mmlab/mmsegmentation/blob/main/configs/{}'
_MASK_RCNN = _MMDET.format('mask_rcnn/metafile.yml (mask_rcnn_r50_fpn_1x_coco, checkpoint 20200205-d4b0c5d6)')


@dataclass(frozen=True)
class Reference:
    """One published number (in percent), what it measures, the setting it was measured in, and its source.

    `kind` 'absolute' is a score; 'delta' is a signed difference (the model with `feature`) - (the same
    model without it), `compared_to` naming the latter. The report puts a delta beside our difference
    computed the same way, whichever side of our comparison is the baseline (`orientation`).
    """

    key: str
    model: str
    dataset: str
    schedule: str
    metric: str  # the key our results.json uses, e.g. 'coco/segm_mAP', 'mIoU'
    value: float  # percent, as published
    source: str
    kind: str = 'absolute'  # or 'delta'
    compared_to: str = ''  # for a delta: the model without the feature
    backbone: str = ''
    epochs: float | None = None  # training epochs, None when the source does not say
    multi_scale: bool | None = None  # multi-scale (scale-jitter) training, None when the source does not say
    feature: str = ''  # for a delta: what "with" has, one of FEATURES
    checked: str = ''  # what was checked against the source


# What a delta's "with" side has, as a test on a grid.json variant (grid_schema's resolved form).
FEATURES = {
    'solo_coords': (
        "the coordinate channels of SOLO's mask branch (CoordConv)",
        lambda v: v.get('solo_coords', True) is not False,
    ),
    'coordconv': ('injected CoordConv', lambda v: bool((v.get('coordconv') or {}).get('sites'))),
}

_CITYSCAPES_EPOCHS = round(80000 * 8 / 2975)  # 80k iterations of 4 GPUs x 2 images over 2975 train images
_COCO_1X: dict[str, Any] = dict(dataset='COCO val2017', schedule='1x (12 epochs)', epochs=12, multi_scale=False)
_MMSEG_80K: dict[str, Any] = dict(
    dataset='Cityscapes val',
    schedule='80k iterations, 512x1024 crops, 4 GPUs x 2 images',
    epochs=_CITYSCAPES_EPOCHS,
    multi_scale=True,
)  # mmseg's Cityscapes pipeline: RandomResize 0.5-2.0
_MMSEG_160K_1024: dict[str, Any] = dict(
    dataset='Cityscapes val',
    schedule='160k iterations, 1024x1024 crops, 8 GPUs x 1 image',
    epochs=round(160000 * 8 / 2975),
    multi_scale=True,
)  # RandomResize 0.5-2.0 of 2048x1024
_COCO_3X_MS: dict[str, Any] = dict(
    dataset='COCO val2017', schedule='3x (36 epochs), multi-scale crops (480-800), AMP', epochs=36, multi_scale=True
)


_ENTRIES = (
    Reference(
        'mmdet/mask-rcnn_r50_fpn_1x_coco',
        'Mask R-CNN R-50-FPN (pytorch style)',
        metric='coco/bbox_mAP',
        value=38.2,
        source=_MASK_RCNN,
        backbone='ResNet-50 (ImageNet-pretrained)',
        **_COCO_1X,
        checked='box AP 38.2, 12 epochs, weights 20200205-d4b0c5d6 in mask_rcnn/metafile.yml',
    ),
    Reference(
        'mmdet/mask-rcnn_r50_fpn_1x_coco',
        'Mask R-CNN R-50-FPN (pytorch style)',
        metric='coco/segm_mAP',
        value=34.7,
        source=_MASK_RCNN,
        backbone='ResNet-50 (ImageNet-pretrained)',
        **_COCO_1X,
        checked='mask AP 34.7 in the same entry',
    ),
    Reference(
        'mmdet/solo_r50_fpn_1x_coco',
        'SOLO R-50-FPN',
        metric='coco/segm_mAP',
        value=33.1,
        source=_MMDET.format('solo/metafile.yml (solo_r50_fpn_1x_coco, checkpoint 20210821_035055-2290a6b8)'),
        backbone='ResNet-50 (ImageNet-pretrained)',
        **_COCO_1X,
        checked='mask AP 33.1, 12 epochs, weights 20210821_035055-2290a6b8 in solo/metafile.yml',
    ),
    Reference(
        'mmdet/solov2_r50_fpn_1x_coco',
        'SOLOv2 R-50-FPN',
        metric='coco/segm_mAP',
        value=34.8,
        source=_MMDET.format('solov2/metafile.yml (solov2_r50_fpn_1x_coco, checkpoint 20220512_125858-a357fa23)'),
        backbone='ResNet-50 (ImageNet-pretrained)',
        **_COCO_1X,
        checked='mask AP 34.8, 12 epochs, weights 20220512_125858-a357fa23 in solov2/metafile.yml',
    ),
    Reference(
        'mmseg/fcn_r50-d8_4xb2-80k_cityscapes-512x1024',
        'FCN R-50-D8',
        metric='mIoU',
        value=73.61,
        source=_MMSEG.format('fcn/metafile.yaml (fcn_r50-d8_4xb2-80k_cityscapes-512x1024, single-scale)'),
        backbone='ResNet-50-D8 (ImageNet-pretrained)',
        **_MMSEG_80K,
        checked='mIoU 73.61 (single-scale test; 74.24 ms+flip), batch size 8 in fcn/metafile.yaml',
    ),
    Reference(
        'mmseg/deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024',
        'DeepLabV3 R-50-D8',
        metric='mIoU',
        value=79.32,
        source=_MMSEG.format('deeplabv3/metafile.yaml (deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024, single-scale)'),
        backbone='ResNet-50-D8 (ImageNet-pretrained)',
        **_MMSEG_80K,
        checked='mIoU 79.32 (single-scale test; 80.57 ms+flip), batch size 8 in deeplabv3/metafile.yaml',
    ),
    Reference(
        'mmseg/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024',
        'SegFormer MiT-b0',
        metric='mIoU',
        value=76.54,
        source=_MMSEG.format(
            'segformer/metafile.yaml (segformer_mit-b0_8xb1-160k_cityscapes-1024x1024, '
            'single-scale, checkpoint 20211208_101857-e7f88502)'
        ),
        backbone='MiT-b0 (ImageNet-1k-pretrained)',
        **_MMSEG_160K_1024,
        checked='mIoU 76.54 (single-scale; 78.22 ms+flip), batch size 8, 8x V100 in segformer/metafile.yaml '
        '(mmseg 1.2.2 package copy)',
    ),
    Reference(
        'mmdet/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco',
        'Mask R-CNN ConvNeXt-T-FPN',
        metric='coco/bbox_mAP',
        value=46.2,
        source=_MMDET.format(
            'convnext/metafile.yml (mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco, '
            'checkpoint 20220426_154953-050731f4)'
        ),
        backbone='ConvNeXt-T (ImageNet-1k-pretrained, mmpretrain)',
        **_COCO_3X_MS,
        checked='box AP 46.2, 36 epochs, AdamW, mixed precision, 8x A100 in convnext/metafile.yml '
        '(mmdet 3.3.0 package copy)',
    ),
    Reference(
        'mmdet/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco',
        'Mask R-CNN ConvNeXt-T-FPN',
        metric='coco/segm_mAP',
        value=41.7,
        source=_MMDET.format(
            'convnext/metafile.yml (mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco, '
            'checkpoint 20220426_154953-050731f4)'
        ),
        backbone='ConvNeXt-T (ImageNet-1k-pretrained, mmpretrain)',
        **_COCO_3X_MS,
        checked='mask AP 41.7 in the same entry',
    ),
    # Only the difference is quoted: the paper's Table 3 is an image whose absolute values (and backbone
    # depth) we could not check; the text of section 3.3 states the gain, "Training details" the setting.
    Reference(
        'paper/solo-coordconv',
        "SOLO (the paper's ablation model), one CoordConv at the start of the mask branch",
        dataset='COCO val2017',
        schedule='36 epochs (3x), shorter side 640-800 scale jitter',
        metric='coco/segm_mAP',
        value=3.6,
        source='Wang et al., "SOLO: Segmenting Objects by Locations", ECCV 2020, arXiv:1912.04488, '
        'section 3.3 "CoordConv" ("3.6 absolute AP gains"; two or more CoordConvs bring no '
        'noticeable improvement) and section 3 "Training details"',
        kind='delta',
        compared_to='the same model without CoordConv',
        epochs=36,
        multi_scale=True,
        backbone='ImageNet-pretrained ResNet-FPN (depth not given in the text)',
        feature='solo_coords',
        checked='+3.6 mask AP with minus without, 36 epochs, scale jitter 640-800, 16 images per batch, '
        'ablations on val2017 (paper text)',
    ),
)

REFERENCES: dict[str, list[Reference]] = {}
for _entry in _ENTRIES:
    REFERENCES.setdefault(_entry.key, []).append(_entry)
del _entry


def lookup(key, where='grid.json references'):
    """Return the list of `Reference`s published under `key`, or raise ConfigError naming `where`."""
    if not isinstance(key, str) or key not in REFERENCES:
        raise ConfigError(f'{where}: unknown reference {key!r}; known: {", ".join(sorted(REFERENCES))}')
    return list(REFERENCES[key])


def from_grid(references, where):
    """(variant, Reference) pairs for grid.json `references`; ConfigError naming `where` on a bad entry.

    An entry is `{"ref": key or [keys]}` (entries above), or `{metric: value, "source": ...}` with
    numbers in percent as published; both may be combined.
    """
    out = []
    for variant, entry in references.items():
        if isinstance(entry, (str, list)):
            keys = entry
        elif isinstance(entry, dict):
            keys = entry.get('ref', [])
        else:
            raise ConfigError(
                f'{where}: references.{variant}: got {entry!r}; expected '
                '{metric: value, source: ...} or {ref: <key in harness/report/references.py>}'
            )
        for key in [keys] if isinstance(keys, str) else keys:
            out += [(variant, r) for r in lookup(key, where=f'{where}: references.{variant}.ref')]
        for metric, value in entry.items() if isinstance(entry, dict) else ():
            if metric in ('ref', 'source'):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(
                    f'{where}: references.{variant}.{metric}: got {value!r}; expected a number (percent, as published)'
                )
            source = entry.get('source') or 'grid.json gives no source'
            out.append((variant, Reference('grid.json', '', '', '', metric, float(value), str(source))))
    return out


def orientation(ref, grid_variants, variant, baseline):
    """+1 if our (variant - baseline) is the reference's (with - without), -1 if it is (without - with), None when
    the two do not differ in the reference's feature (or it is not a delta)."""
    if ref.kind != 'delta' or ref.feature not in FEATURES:
        return None
    has = FEATURES[ref.feature][1]
    found = {v['name']: has(v) for v in grid_variants if v['name'] in (variant, baseline)}
    if len(found) < 2 or found[variant] == found[baseline]:
        return None
    return 1 if found[variant] else -1
