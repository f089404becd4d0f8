"""Loading what the probe and the audit look at: a config's model (random init, nothing downloaded) or a
trained run's weights, with the padding variant it was trained under, and the image statistics it expects.
"""

import copy
import os
from typing import Any

import torch

from .. import compat
from ..checkpoints import check_checkpoint
from ..configs import quiet_logs, read_config
from ..errors import ConfigError
from ..patch.model import harness_model
from ..patch.provenance import check_patch, describe, patch_spec, saved_patch
from ..patch.spec import PaddingSpec


def resolve_source(path: str, checkpoint: str | None = None) -> tuple[str, str | None]:
    """(config file, checkpoint or None) for a config file or a run dir `work_dirs/<grid>/<run>/`."""
    if not os.path.exists(path):
        raise ConfigError(f'{path}: not found; expected a config file or a run dir holding config.py')
    if os.path.isdir(path):
        config = os.path.join(path, 'config.py')
        if not os.path.isfile(config):
            raise ConfigError(f'{path}: run dir without config.py; expected work_dirs/<grid>/<run>/')
        if checkpoint is None:
            pointer = os.path.join(path, 'last_checkpoint')
            if not os.path.isfile(pointer):
                raise ConfigError(
                    f'{path}: run dir has no last_checkpoint (no checkpoint was saved); pass --checkpoint PTH'
                )
            with open(pointer) as f:
                checkpoint = f.read().strip()
            if not os.path.isabs(checkpoint) and not os.path.exists(checkpoint):
                checkpoint = os.path.join(path, os.path.basename(checkpoint))
    else:
        config = path
    if checkpoint is not None:
        check_checkpoint(checkpoint)
    return config, checkpoint


def build_model(
    cfg: Any, padding: str | None = None, scope: Any = 'backbone', seed: int = 0, resample: str | None = None
) -> tuple[Any, dict]:
    """The config's model, random init with any pretrained weights dropped; `padding` overrides its mode
    (and `resample` mode none's rule).

    Returns (model, report) with the harness patch report (empty for a stock, unpatched model).
    """
    from mmengine.registry import MODELS, init_default_scope

    model_cfg = copy.deepcopy(cfg.model)
    drop_pretrained(model_cfg)
    if resample is not None and padding is None:
        raise ConfigError(f'--resample {resample}: needs --padding none; expected both or neither')
    if padding is not None:
        model_cfg = harness_model(model_cfg, padding=PaddingSpec.from_flags(padding, scope, resample))
    elif model_cfg.get('type') == 'HarnessModel' and model_cfg.get('padding'):
        PaddingSpec.parse(model_cfg['padding'], 'model.padding')
    init_default_scope(cfg.get('default_scope') or 'mmdet')
    torch.manual_seed(seed)
    with quiet_logs():
        model = MODELS.build(model_cfg)
        model.init_weights()
    model.eval()
    return model, getattr(model, 'harness_report', {})


def drop_pretrained(node: Any) -> None:
    """Remove `pretrained` paths and `init_cfg=dict(type='Pretrained')` everywhere: nothing is downloaded."""
    if isinstance(node, dict):
        if node.get('pretrained') is not None:
            node['pretrained'] = None
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            node['init_cfg'] = None
        elif isinstance(init, list):
            node['init_cfg'] = [i for i in init if not (isinstance(i, dict) and i.get('type') == 'Pretrained')] or None
        for v in node.values():
            drop_pretrained(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            drop_pretrained(v)


def load_state(path: str, with_patch: bool = False) -> Any:
    """The state dict of a checkpoint file (mmengine's `state_dict` entry, `module.` prefixes dropped);
    with `with_patch`, (state dict, the patch report it was trained with or None)."""
    from mmengine.runner import CheckpointLoader

    compat.apply()  # torch >= 2.6 refuses mmengine's own checkpoints otherwise
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ConfigError(f'checkpoint {path}: no state dict inside; expected a file saved by mmengine')
    state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
    return (state, saved_patch(ckpt)) if with_patch else state


def check_checkpoint_patch(path, saved, report, config, override=None):
    """The probe's and the audit's checkpoint check (`harness.patch.provenance.check_patch`): the patch
    the checkpoint was trained with must be the config's. With `override` (an explicit --padding) it
    is only noted. Returns the note ('' when nothing needs saying)."""
    if override is not None:
        trained = describe(patch_spec(saved)) if saved is not None else 'no harness patch report (stock)'
        note = f'checkpoint {path} ({trained}) measured under --padding {override}, as asked'
    else:
        note = check_patch(saved, report, path, config, 'evaluate')
    if note:
        from mmengine.logging import print_log

        print_log(f'[harness] {note}', logger='current')
    return note


def preprocess_stats(cfg: Any) -> tuple[list[float], list[float], bool]:
    """(mean, std, bgr) of the config's data_preprocessor: what the probe normalises images with."""
    pre = cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor') or {}
    mean = list(pre.get('mean') or (0.0, 0.0, 0.0))
    std = list(pre.get('std') or (1.0, 1.0, 1.0))
    # Images are read BGR; a flip in either direction means the statistics are in RGB order.
    return mean, std, not (pre.get('bgr_to_rgb') or pre.get('rgb_to_bgr'))


def load_backbone(
    config_or_run_dir: str,
    padding: str | None = None,
    checkpoint: str | None = None,
    seed: int = 0,
    resample: str | None = None,
    scope: Any = None,
) -> tuple[Any, dict]:
    """(backbone, info): the backbone of a config (random init) or of a trained run dir (its weights).

    A run dir's config already holds its padding variant; `padding` overrides it, on `scope` (default
    backbone; e.g. mixffn, patch_embed, dwconv, or module-name globs). A
    checkpoint trained with another patch than the config's is refused unless `padding` is given
    (then `info['patch_note']` says what it was trained with).
    `info`: config, checkpoint, padding mode actually on the backbone, mean / std / bgr for images.
    """
    if scope is not None and padding is None:
        raise ConfigError(f'--scope {scope}: needs --padding; expected both or neither')
    config, checkpoint = resolve_source(config_or_run_dir, checkpoint)
    cfg = read_config(config)
    model, report = build_model(cfg, padding=padding, scope=scope or 'backbone', seed=seed, resample=resample)
    backbone = model.backbone
    note = ''
    if checkpoint is not None:
        state, saved = load_state(checkpoint, with_patch=True)
        note = check_checkpoint_patch(checkpoint, saved, report, config, padding)
        state = {k[len('backbone.') :]: v for k, v in state.items() if k.startswith('backbone.')}
        if not state:
            raise ConfigError(f'checkpoint {checkpoint}: no backbone.* weights; expected a checkpoint of this config')
        try:
            backbone.load_state_dict(state, strict=True)
        except RuntimeError as e:
            lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
            raise ConfigError(
                f'checkpoint {checkpoint} does not fit the backbone of {config}: {" ".join(lines[1:3])[:300]}'
            ) from e
    mean, std, bgr = preprocess_stats(cfg)
    modes = {
        e['action']
        for e in report.get('padding', {}).get('layers', [])
        if e['name'].startswith('backbone.') and e['action'] not in ('skipped', 'unchanged')
    }
    info = dict(
        config=config,
        checkpoint=checkpoint,
        padding=modes.pop() if len(modes) == 1 else ('zeros' if not modes else sorted(modes)),
        mean=mean,
        std=std,
        bgr=bgr,
        resample=report.get('padding', {}).get('resample'),
        scope=report.get('padding', {}).get('scope'),
        patch_note=note,
    )
    backbone.eval()  # mmdet's ResNet.train() returns None: no chaining
    return backbone.requires_grad_(False), info
