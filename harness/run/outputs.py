"""What a finished run leaves: the names of its files, and `results.json`, written last and atomically.

A run is done when its `results.json` exists: a killed runner leaves either no result (the run is
resumed from its last checkpoint next time) or a whole one (the run is skipped). The file gathers the
training summary (`train_meta.json`), the test metrics (`metrics.json`), the probe (`probe.json`) and
where, when and at what scale the run ran.
"""

import json
import os.path as osp
from datetime import datetime, timezone

from ..jsonio import read_json, write_json
from ..patch.provenance import PATCH_REPORT
from .timing import summarize

RESULTS = 'results.json'
TRAIN_DONE = 'train_meta.json'
METRICS = 'metrics.json'
PROBE = 'probe.json'
PROBE_FAILED = 'probe_failed.json'  # why the probe failed (the run itself is done)
INIT = 'init.json'  # how the backbone was initialised (harness/run/pretrain.py)


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
            return f'resized to {step["scale"]}'
    return 'as stored'


def write_result(run, d, cfg, env, started, wall_s, failure, probe=None, preflight_s=0.0):
    """Write `<d>/results.json` for `run` (status done, or failed with `failure['reason']`); return the status.
    `probe`: the grid's probe settings with its status ('done' / 'failed') and error, or None when the grid
    has none. A run without a readable metrics.json fails, with why; one whose COCO model predicted nothing
    is done, with AP 0, `no_detections: true` and a note (tools/test.py, evaluation.empty). `timing`: where the
    run's wall time and its `preflight_s` share of the grid's checks went (harness/run/timing.py), or None."""
    train = read_json(osp.join(d, TRAIN_DONE)) or {}
    test, problem = _read_metrics(osp.join(d, METRICS))
    if failure is None and problem:  # evaluated-but-unrecorded is a failure, never an empty result
        failure = dict(reason=problem)
    metrics = dict(test.get('metrics', {}))
    probed = read_json(osp.join(d, PROBE)) or {}
    if failure is None:
        metrics.update(probed.get('metrics', {}))
    if probe is not None and probed:  # what it ran at, when the settings left the size to the run
        probe = dict(probe, input_size=(probed.get('inputs') or {}).get('size'))
    meta = dict(
        env,
        config=osp.join(d, 'config.py'),
        iterations=train.get('iterations'),
        max_iters=cfg.get('train_cfg', {}).get('max_iters'),
        train_images=train.get('train_images'),
        val_images=test.get('test_images'),
        batch_size=train.get('batch_size'),
        gpus=train.get('world_size'),
        image_size=image_size(cfg),
        wall_s=round(wall_s, 1),
        started=started.isoformat(timespec='seconds'),
        finished=datetime.now(timezone.utc).isoformat(timespec='seconds'),
        patch_report=PATCH_REPORT if osp.exists(osp.join(d, PATCH_REPORT)) else None,
        init=read_json(osp.join(d, INIT)),
    )
    write_json(
        osp.join(d, RESULTS),
        dict(
            run=run.name,
            variant=run.variant.name,
            seed=run.seed,
            task=dataset_of(cfg),
            status='failed' if failure else 'done',
            error=failure and failure['reason'],
            iteration=failure and failure.get('iteration'),
            metrics=metrics,
            probe=probe,
            meta=meta,
            no_detections=bool(test.get('no_detections')) and failure is None,
            notes=list(test.get('notes') or []),
            timing=summarize(d, wall_s, preflight_s),
        ),
    )
    return 'failed' if failure else 'done'


def _read_metrics(path):
    """(metrics.json content, '') or ({}, why it cannot be used)."""
    if not osp.exists(path):
        return {}, f'{path} is missing: the evaluation (tools/test.py) recorded no metrics'
    try:
        with open(path, encoding='utf-8') as f:
            test = json.load(f)
    except (OSError, ValueError) as e:
        return {}, f'{path} is unreadable ({type(e).__name__}: {e})'
    if not isinstance(test, dict) or not isinstance(test.get('metrics'), dict):
        return {}, f'{path} has no "metrics" object'
    return test, ''
