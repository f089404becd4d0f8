"""The pretraining stage of a grid with `init: matched`: one classifier per backbone padding, cached.

Before any downstream run, the grid runner trains, once per distinct backbone patch in the grid
(mode, resample rule, scope as it reaches the backbone: `init_design.classifier_padding`), the
mmpretrain classifier of `pretrain.config` built through `HarnessModel` with that patch, evaluates its
top-1 on the config's test split, and exports its weights with the patch report in their meta
(`backbone.pth`); every downstream run of those variants then starts from it (backbone `init_cfg`
Pretrained, prefix `backbone.`), and its `init.json` (-> results.json `meta.init` -> the report)
records which classifier and its top-1.

Cache: `<cache>/<config stem>_<mode>_<key>/`, `key` a hash of the resolved classifier config
(`init_design.content_key`: base config and its `_base_` files, patch, data_root, cfg_options, seed),
so seeds and grids under one work root (or one `pretrain.cache_dir`) share it. An entry is done when
its `pretrain.json` exists, written last and atomically. Training and evaluation are one child
(harness/run/worker.py) through the grid's launcher, as for downstream runs: the same
crash-safety, SIGTERM preemption (the runner passes it on; rerun to resume) and `srun` under
`--launcher slurm`. A lock file per entry keeps two runners (two grids) from training it at once.
A pretraining that diverged or got bad input is recorded as failed and fails its variants' runs;
one that crashed is retried by the next run of the grid.
"""

import copy
import fcntl
import io
import os
import os.path as osp
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from ..checkpoints import resume_point
from ..errors import FAILURE
from ..jsonio import read_json, write_atomic, write_json
from ..patch.pretrained import pretrained_backbone
from ..patch.provenance import META_KEY, PATCH_REPORT
from .cli import EXIT_BAD_INPUT, EXIT_NON_FINITE
from .config import check_model
from .init_design import (
    apply_init,
    check_backbone_keys,
    check_scratch_backbone,
    classifier_config,
    classifier_padding,
    content_key,
    state_shapes,
)
from .outputs import INIT, METRICS, TRAIN_DONE
from .worker import MODULE as WORKER

PRETRAIN_DIR = 'pretrained'  # the default cache, under the runner's work root
RECORD = 'pretrain.json'
BACKBONE_FILE = 'backbone.pth'
META_PRETRAIN = 'harness_pretrain'
# What init.json (and the report) keeps of a pretraining's record.
SUMMARY = (
    'name',
    'key',
    'config',
    'data_root',
    'seed',
    'padding',
    'top1',
    'iterations',
    'train_images',
    'val_images',
    'batch_size',
)


@dataclass
class Entry:
    """One classifier to pretrain (or found in the cache), and the variants that start from it."""

    key: str
    dir: str
    padding: dict
    cfg: object  # mmengine Config
    spec: dict
    variants: list = field(default_factory=list)

    @property
    def name(self):
        return osp.basename(self.dir)

    @property
    def checkpoint(self):
        return osp.abspath(osp.join(self.dir, BACKBONE_FILE))

    def record(self):
        return read_json(osp.join(self.dir, RECORD))


class PretrainStage:
    """The matched pretrainings of a grid's runs: plan (`entries`), config changes (`apply`), checks
    before anything runs (`check_variant`, `check_data`), training (`run`) and each run's `prepare`."""

    def __init__(self, runs: list, cache_root: str, launcher: Any, log: Callable[[str], object] = print) -> None:
        self.launcher, self.log = launcher, log
        self.entries: dict[str, Entry] = {}
        self.of: dict[str, Entry] = {}
        self._records: dict[str, dict] = {}
        self._shapes: dict = {}
        for run in runs:
            v = run.variant
            if v.init != 'matched' or v.name in self.of:
                continue
            padding = classifier_padding(v.padding)
            cfg = classifier_config(v.pretrain, padding)
            key = content_key(cfg)
            if key not in self.entries:
                stem = osp.splitext(osp.basename(v.pretrain['config'].split('::')[-1]))[0]
                root = v.pretrain.get('cache_dir') or cache_root
                self.entries[key] = Entry(
                    key, osp.join(root, f'{stem}_{padding["mode"]}_{key}'), padding, cfg, v.pretrain
                )
            self.entries[key].variants.append(v.name)
            self.of[v.name] = self.entries[key]

    def apply(self, run: Any, cfg: Any) -> Any:
        """The run's resolved config with its variant's backbone init (`init_design.apply_init`)."""
        entry = self.of.get(run.variant.name)
        return apply_init(cfg, run.variant, entry.checkpoint if entry else None)

    def check_variant(self, name: str, variant: Any, model: Any) -> None:
        """Before anything runs, on the variant's built model: a scratch backbone must be able to learn; a
        matched one must be filled exactly by its classifier's backbone (built here once per entry)."""
        if variant.init == 'scratch':
            check_scratch_backbone(name, model.backbone)
        entry = self.of.get(variant.name)
        if entry is None:
            return
        if entry.key not in self._shapes:
            classifier = check_model(f'pretraining {entry.name}', entry.cfg)
            self._shapes[entry.key] = state_shapes(classifier, 'backbone.')
        check_backbone_keys(
            name, state_shapes(model, 'backbone.'), self._shapes[entry.key], f'{entry.spec["config"]} ({entry.name})'
        )

    def check_data(self) -> None:
        from ..data.checks import check_data
        from ..errors import DatasetError

        for entry in self.entries.values():
            if entry.record() is None:
                try:
                    check_data(entry.cfg, ('train', 'test'))
                except DatasetError as e:
                    raise DatasetError(f'pretraining {entry.name} ({entry.spec["config"]}): {e}') from None

    def describe(self) -> Iterator[str]:
        """One line per entry, for --dry-run."""
        for entry in self.entries.values():
            rec = entry.record()
            state = (
                f'cached, top-1 {rec.get("top1")}'
                if rec and rec.get('status') == 'done'
                else (rec.get('status') if rec else 'new' if not resume_point(entry.dir)[0] else 'resume')
            )
            cmd = self.launcher.command(
                WORKER, [osp.join(entry.dir, 'config.py'), '--work-dir', entry.dir, '--no-data-check']
            )
            yield (
                f'pretrain {entry.name} ({state}; {entry.padding["mode"]} for {", ".join(entry.variants)}): '
                f'{" ".join(cmd)}'
            )

    def run(self, spawn: Callable, stopped: Callable[[], bool]) -> bool:
        """Train, evaluate and export every entry not in the cache. False when stopped by SIGTERM."""
        for i, entry in enumerate(self.entries.values(), 1):
            head = f'[pretrain {i}/{len(self.entries)}] {entry.name}'
            rec = entry.record()
            if rec is None:
                self.log(f'{head}: pretraining for {", ".join(entry.variants)} ...')
                t = time.time()
                rec = self._locked(entry, spawn, stopped)
                if rec is None:
                    return False
                self.log(
                    f'{head}: {rec["status"]} in {time.time() - t:.0f} s'
                    + (f', top-1 {rec["top1"]}' if rec['status'] == 'done' else f' ({rec["reason"]})')
                )
            else:
                self.log(f'{head}: cached ({rec["status"]}, top-1 {rec.get("top1")}), nothing to train')
            self._records[entry.key] = rec
        return True

    def _locked(self, entry, spawn, stopped):
        os.makedirs(entry.dir, exist_ok=True)
        with open(osp.join(entry.dir, '.lock'), 'w') as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.log(f'    {entry.name}: another runner is pretraining it; waiting for it ...')
                fcntl.flock(lock, fcntl.LOCK_EX)
            return entry.record() or self._train(entry, spawn, stopped)

    def _train(self, entry, spawn, stopped):
        """Train + test + export one entry; its record, or None when stopped by SIGTERM."""
        d, started = entry.dir, time.time()
        cfg = copy.deepcopy(entry.cfg)
        cfg.work_dir = d
        cfg_path, log_path = osp.join(d, 'config.py'), osp.join(d, 'run.log')
        cfg.dump(cfg_path + '.tmp.py')
        os.replace(cfg_path + '.tmp.py', cfg_path)
        if not (osp.exists(osp.join(d, TRAIN_DONE)) and read_json(osp.join(d, METRICS)) is not None):
            # one child trains (resuming) and evaluates (harness/run/worker.py); the data were checked before
            code, error = spawn(self.launcher.command(WORKER, [cfg_path, '--work-dir', d, '--no-data-check']), log_path)
            if stopped():
                return None
            if code != 0:
                failure = read_json(osp.join(d, FAILURE)) if code == EXIT_NON_FINITE else None
                reason = (
                    (failure or {}).get('reason')
                    or error
                    or f'python -m {WORKER} exited with code {code}; see {log_path}'
                )
                rec = dict(status='failed', key=entry.key, name=entry.name, reason=reason)
                if code in (EXIT_BAD_INPUT, EXIT_NON_FINITE):  # it would fail again: recorded
                    write_json(osp.join(d, RECORD), rec)
                else:  # killed, OOM, a bug: not recorded, retried next time
                    rec['status'] = 'crashed'
                return rec
        return self._export(entry, time.time() - started)

    def _export(self, entry, wall_s):
        d = entry.dir
        ckpt_path = resume_point(d)[0]
        ckpt = torch.load(ckpt_path, map_location='cpu', weights_only=False)
        metrics, train = read_json(osp.join(d, METRICS)), read_json(osp.join(d, TRAIN_DONE)) or {}
        scores = metrics.get('metrics') or {}
        rec = dict(
            status='done',
            key=entry.key,
            name=entry.name,
            config=entry.spec['config'],
            data_root=entry.spec.get('data_root'),
            seed=entry.spec.get('seed', 0),
            cfg_options=entry.spec.get('cfg_options') or {},
            padding=entry.padding,
            top1=scores.get('accuracy/top1'),
            metrics=scores,
            iterations=train.get('iterations'),
            train_images=train.get('train_images'),
            val_images=metrics.get('test_images'),
            batch_size=train.get('batch_size'),
            checkpoint=entry.checkpoint,
            trained_from=ckpt_path,
            wall_s=round(wall_s, 1),
            variants=list(entry.variants),
        )
        meta = {
            META_KEY: (ckpt.get('meta') or {}).get(META_KEY) or read_json(osp.join(d, PATCH_REPORT)),
            META_PRETRAIN: {k: rec[k] for k in SUMMARY},
        }
        buf = io.BytesIO()
        torch.save({'state_dict': ckpt['state_dict'], 'meta': meta}, buf)
        write_atomic(entry.checkpoint, buf.getvalue())
        write_json(osp.join(d, RECORD), rec)
        return rec

    def prepare(self, run: Any, d: str, cfg: Any) -> dict | None:
        """Write the run's init.json (how its backbone starts). Returns None, or a failure dict when its
        matched pretraining failed (`retry`: it crashed, so the run waits for the next grid run)."""
        entry = self.of.get(run.variant.name)
        rec = None
        if entry is not None:
            rec = self._records.get(entry.key) or entry.record()
            if not rec or rec.get('status') != 'done':
                why = (rec or {}).get('reason') or 'it did not finish'
                return dict(
                    reason=f'matched pretraining {entry.name} failed: {why}',
                    retry=(rec or {}).get('status') != 'failed',
                )
        checkpoint, _ = pretrained_backbone(cfg.model)
        if checkpoint is None and isinstance(cfg.model.get('pretrained'), str):
            checkpoint = cfg.model.pretrained  # mmseg's model-level `pretrained`
        write_json(
            osp.join(d, INIT),
            dict(
                design=run.variant.init,
                checkpoint=checkpoint,
                load_from=cfg.get('load_from'),  # replaces every weight after init
                pretrain={k: rec.get(k) for k in SUMMARY} if rec else None,
            ),
        )
        return None
