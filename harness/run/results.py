"""What a finished run leaves: the names of its files, and `results.json`, written last and atomically.

A run is done when its `results.json` exists: a killed runner leaves either no result (the run is
resumed from its last checkpoint next time) or a whole one (the run is skipped). The file gathers the
training summary (`train_meta.json`), the test metrics (`metrics.json`), the probe (`probe.json`) and
where, when and at what scale the run ran.
"""
import os.path as osp
from datetime import datetime, timezone

from .hooks import PATCH_REPORT
from .jsonio import read_json, write_json

RESULTS = 'results.json'
TRAIN_DONE = 'train_meta.json'
METRICS = 'metrics.json'
PROBE = 'probe.json'


def dataset_of(cfg):
    """The dataset a run is evaluated on ('coco', 'cityscapes', or the dataset type in lower case):
    the report groups variants by it."""
    ds = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    while 'dataset' in ds:  # RepeatDataset / ClassBalancedDataset wrappers
        ds = ds['dataset']
    kind = str(ds.get('type', ''))
    if kind.endswith('CocoDataset'):
        return 'coco'
    return kind.removesuffix('Dataset').lower() or ('cityscapes' if cfg.get('default_scope') == 'mmseg' else 'coco')


def image_size(cfg):
    size = cfg.model.get('data_preprocessor', {}).get('size')
    if size:
        return f'{size[0]}x{size[1]} (crop)'
    for step in cfg.get('train_dataloader', {}).get('dataset', {}).get('pipeline', []):
        if step.get('type') == 'Resize':
            return f"resized to {step['scale']}"
    return 'as stored'


def write_result(run, d, cfg, env, started, wall_s, failure):
    """Write `<d>/results.json` for `run` (status done, or failed with `failure['reason']`)."""
    train = read_json(osp.join(d, TRAIN_DONE)) or {}
    test = read_json(osp.join(d, METRICS)) or {}
    metrics = dict(test.get('metrics', {}))
    if failure is None:
        metrics.update((read_json(osp.join(d, PROBE)) or {}).get('metrics', {}))
    meta = dict(env, config=osp.join(d, 'config.py'), iterations=train.get('iterations'),
                max_iters=cfg.get('train_cfg', {}).get('max_iters'),
                train_images=train.get('train_images'), val_images=test.get('test_images'),
                batch_size=train.get('batch_size'), gpus=train.get('world_size'), image_size=image_size(cfg),
                wall_s=round(wall_s, 1), started=started.isoformat(timespec='seconds'),
                finished=datetime.now(timezone.utc).isoformat(timespec='seconds'),
                patch_report=PATCH_REPORT if osp.exists(osp.join(d, PATCH_REPORT)) else None)
    write_json(osp.join(d, RESULTS), dict(
        run=run.name, variant=run.variant.name, seed=run.seed, task=dataset_of(cfg),
        status='failed' if failure else 'done', error=failure and failure['reason'],
        iteration=failure and failure.get('iteration'), metrics=metrics, meta=meta))
