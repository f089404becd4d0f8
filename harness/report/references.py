"""Published numbers that our ablations can be compared with, each with where it was published.

This is the only place in the harness where a result that we did not measure may appear. Every
entry was checked against its source (the model zoo's metafile, or the paper's text); numbers that
could not be checked are left out rather than remembered. Values are stored the way the source
prints them, in percent (COCO AP 38.2, not mmdet's 0.382); `harness.report.write` converts our own
COCO results to the same scale for display.

A grid points at an entry by its key, in `grid.json`:
`"references": {"none": {"ref": "mmdet/mask-rcnn_r50_fpn_1x_coco"}}`, or gives a number and its
source itself: `{"circular": {"coco/bbox_mAP": 40.0, "source": "..."}}`; `from_grid` reads both.

`kind` is `absolute` for a score, or `delta` for a published difference between two settings of
the same model (what `compared_to` names).
"""
from dataclasses import dataclass

from ..errors import ConfigError

_MMDET = 'mmdetection model zoo, https://github.com/open-mmlab/mmdetection/blob/main/configs/{}'
_MMSEG = 'mmsegmentation model zoo, https://github.com/open-mmlab/mmsegmentation/blob/main/configs/{}'
_MASK_RCNN = _MMDET.format('mask_rcnn/metafile.yml (mask_rcnn_r50_fpn_1x_coco, '
                           'checkpoint 20200205-d4b0c5d6)')


@dataclass(frozen=True)
class Reference:
    """One published number (in percent) and where it comes from."""
    key: str
    model: str
    dataset: str
    schedule: str
    metric: str  # the key our results.json uses, e.g. 'coco/segm_mAP', 'mIoU'
    value: float  # percent, as published
    source: str
    kind: str = 'absolute'  # or 'delta'
    compared_to: str = ''  # for a delta: the setting it is measured against


_ENTRIES = (
    Reference('mmdet/mask-rcnn_r50_fpn_1x_coco', 'Mask R-CNN R-50-FPN (pytorch style)', 'COCO val2017',
              '1x (12 epochs)', 'coco/bbox_mAP', 38.2, _MASK_RCNN),
    Reference('mmdet/mask-rcnn_r50_fpn_1x_coco', 'Mask R-CNN R-50-FPN (pytorch style)', 'COCO val2017',
              '1x (12 epochs)', 'coco/segm_mAP', 34.7, _MASK_RCNN),
    Reference('mmdet/solo_r50_fpn_1x_coco', 'SOLO R-50-FPN', 'COCO val2017',
              '1x (12 epochs)', 'coco/segm_mAP', 33.1,
              _MMDET.format('solo/metafile.yml '
                            '(solo_r50_fpn_1x_coco, checkpoint 20210821_035055-2290a6b8)')),
    Reference('mmdet/solov2_r50_fpn_1x_coco', 'SOLOv2 R-50-FPN', 'COCO val2017',
              '1x (12 epochs)', 'coco/segm_mAP', 34.8,
              _MMDET.format('solov2/metafile.yml '
                            '(solov2_r50_fpn_1x_coco, checkpoint 20220512_125858-a357fa23)')),
    Reference('mmseg/fcn_r50-d8_4xb2-80k_cityscapes-512x1024', 'FCN R-50-D8', 'Cityscapes val',
              '80k iterations, 512x1024 crops, 4 GPUs x 2 images', 'mIoU', 73.61,
              _MMSEG.format('fcn/metafile.yaml (fcn_r50-d8_4xb2-80k_cityscapes-512x1024, single-scale)')),
    Reference('mmseg/deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024', 'DeepLabV3 R-50-D8', 'Cityscapes val',
              '80k iterations, 512x1024 crops, 4 GPUs x 2 images', 'mIoU', 79.32,
              _MMSEG.format('deeplabv3/metafile.yaml '
                            '(deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024, single-scale)')),
    # Only the difference is quoted: the paper's Table 3 is an image whose absolute values we could
    # not check; the text of section 3.3 states the gain and that more CoordConvs add nothing.
    Reference('paper/solo-coordconv', 'SOLO (the paper\'s ablation model), CoordConv at the start of the mask branch',
              'COCO val2017', '3x (36 epochs), multi-scale training', 'coco/segm_mAP', 3.6,
              'Wang et al., "SOLO: Segmenting Objects by Locations", ECCV 2020, arXiv:1912.04488, '
              'section 3.3 "CoordConv" ("3.6 absolute AP gains"; two or more CoordConvs bring no '
              'noticeable improvement)',
              kind='delta', compared_to='the same model without CoordConv'),
)

REFERENCES = {}
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
            raise ConfigError(f'{where}: references.{variant}: got {entry!r}; expected '
                              '{metric: value, source: ...} or {ref: <key in harness/report/references.py>}')
        for key in [keys] if isinstance(keys, str) else keys:
            out += [(variant, r) for r in lookup(key, where=f'{where}: references.{variant}.ref')]
        for metric, value in (entry.items() if isinstance(entry, dict) else ()):
            if metric in ('ref', 'source'):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f'{where}: references.{variant}.{metric}: got {value!r}; expected a number '
                                  '(percent, as published)')
            source = entry.get('source') or 'grid.json gives no source'
            out.append((variant, Reference('grid.json', '', '', '', metric, float(value), str(source))))
    return out
