"""Where a variant's backbone weights come from, in its config: `init: imagenet | matched | scratch`.

Every shipped COCO / Cityscapes config starts from an ImageNet ResNet trained with zero padding, so a
`none` or `circular` variant fine-tuned from it measures two things at once: the position information
its padding no longer leaks, and filters learned under one border rule running under another. The
seed paper trained from scratch instead (Islam et al., ICLR 2020). A grid chooses (grid_pretrain.py):

- `imagenet`: the base config as it is (its own backbone init_cfg);
- `matched`: the backbone starts from an mmpretrain classifier pretrained with the variant's own
  backbone padding (`classifier_config` builds that classifier's config; `harness.run.pretrain` trains
  it once per padding and caches it); `HarnessModel` refuses weights pretrained with another padding;
- `scratch`: every Pretrained init is removed; a backbone that cannot learn from random weights
  (BN statistics frozen by `norm_eval`, frozen stages) is refused at preflight — mmdet's recipe for
  this ("Rethinking ImageNet Pre-training", He et al. 2019) is GroupNorm / SyncBN everywhere and a
  6x schedule (configs/scratch/).
"""

import copy
import hashlib
import json

from ..configs import read_config
from ..engine.harness_hooks import add_harness
from ..errors import ConfigError
from ..patch.model import harness_model
from ..patch.pretrained import BACKBONE
from ..patch.spec import PaddingSpec

# Scope items that put the whole backbone in scope.
_WHOLE_BACKBONE = ('all', 'backbone', '*', 'backbone.*', 'backbone*')
_SPLITS = ('train', 'val', 'test')


def classifier_padding(padding):
    """The classifier's `padding` for a variant's: the same mode (and resample rule) on the part of its
    scope that reaches the backbone; `zeros` on the backbone when the variant leaves its backbone stock."""
    spec = PaddingSpec.parse(padding or None)
    if spec.mode == 'zeros':
        return {'mode': 'zeros', 'scope': 'backbone'}
    items = [spec.scope] if isinstance(spec.scope, str) else list(spec.scope)
    if any(item in _WHOLE_BACKBONE for item in items):
        kept = 'backbone'
    else:  # backbone presets (patch_embed, mixffn, dwconv), globs naming backbone layers or that could (a wildcard)
        kept = sorted(
            i for i, globs in spec.scope_globs() if any(g.startswith(('backbone', '*', '?', '[')) for g in globs or [i])
        )
        if not kept:
            return {'mode': 'zeros', 'scope': 'backbone'}
    return PaddingSpec(spec.mode, kept if isinstance(kept, str) else tuple(kept), spec.resample).as_config()


def _dataset(loader):
    ds = loader.get('dataset') if isinstance(loader, dict) else None
    while isinstance(ds, dict) and isinstance(ds.get('dataset'), dict):  # RepeatDataset and friends
        ds = ds['dataset']
    return ds


def classifier_config(spec, padding):
    """The config of the classifier pretrained for backbone padding `padding` (`classifier_padding`):
    `spec['config']` built through HarnessModel with that padding, `spec['data_root']` in every
    dataloader, `spec['cfg_options']` merged, `spec['seed']`."""
    where = f'pretrain.config {spec["config"]}'
    cfg = read_config(spec['config'])
    model = cfg.get('model')
    if not isinstance(model, dict) or not isinstance(model.get('backbone'), dict):
        raise ConfigError(
            f'{where}: its model has no backbone; expected an mmpretrain classifier config '
            '(e.g. ImageClassifier with a ResNet backbone)'
        )
    cfg.model = harness_model(model, padding)
    if cfg.get('data_preprocessor') and 'data_preprocessor' not in cfg.model:
        cfg.model.data_preprocessor = copy.deepcopy(cfg.data_preprocessor)  # as mmengine's Runner does
    add_harness(cfg)
    if spec.get('data_root'):
        for split in _SPLITS:
            ds = _dataset(cfg.get(f'{split}_dataloader'))
            if isinstance(ds, dict):
                ds['data_root'] = spec['data_root']
    try:
        cfg.merge_from_dict(copy.deepcopy(spec.get('cfg_options') or {}))
    except Exception as e:  # mmengine raises many types for a key it cannot apply
        raise ConfigError(
            f'pretrain.cfg_options {spec.get("cfg_options")}: cannot apply to {spec["config"]} '
            f'({type(e).__name__}: {e}); expected keys of that config'
        ) from None
    cfg.randomness = dict(seed=spec.get('seed', 0), deterministic=False)
    return cfg


def content_key(cfg):
    """16 hex digits of sha256 over the resolved config (its `_base_` files, patch, data, seed included),
    without its work dir: equal keys mean the same pretraining."""
    d = cfg.to_dict()
    d.pop('work_dir', None)
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=repr).encode()).hexdigest()[:16]


def apply_init(cfg, variant, checkpoint=None):
    """`cfg` (a resolved run config) with the backbone init of `variant.init`; `checkpoint`: the matched
    classifier's weights. `imagenet` leaves the config as it is."""
    if variant.init == 'imagenet':
        return cfg
    model = cfg.model
    backbone = model.get('backbone')
    if not isinstance(backbone, dict):
        raise ConfigError(
            f'{variant.name}: init {variant.init}: the model has no backbone; expected a model with '
            'model.backbone (a detector or segmenter)'
        )
    for holder in (model, backbone):  # mmseg / old mmdet style `pretrained=` would add its own init_cfg
        if holder.get('pretrained') is not None:
            holder['pretrained'] = None
    if variant.init == 'matched':
        backbone['init_cfg'] = dict(type='Pretrained', checkpoint=checkpoint, prefix=BACKBONE)
    else:
        backbone['init_cfg'] = None
        left = _pretrained_inits(model, 'model')
        if left:
            raise ConfigError(
                f'{variant.name}: init scratch, but {left[0]} still loads pretrained weights; expected '
                'no Pretrained init_cfg in the model (see configs/scratch/)'
            )
    if cfg.get('load_from'):
        raise ConfigError(
            f'{variant.name}: init {variant.init}, but the config sets load_from={cfg.load_from}, which '
            'replaces every weight after init; expected load_from None'
        )
    return cfg


def _pretrained_inits(node, where):
    found = []
    if isinstance(node, dict):
        if node.get('type') == 'Pretrained':
            found.append(where)
        for k, v in node.items():
            found += _pretrained_inits(v, f'{where}.{k}')
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            found += _pretrained_inits(v, f'{where}[{i}]')
    return found


def check_scratch_backbone(name, backbone):
    """Refuse a built backbone that cannot learn from random weights: BN layers kept in eval mode by
    `norm_eval` (their statistics stay at init), or stages frozen by `frozen_stages`."""
    from torch.nn.modules.batchnorm import _BatchNorm

    has_bn = any(isinstance(m, _BatchNorm) for m in backbone.modules())
    if getattr(backbone, 'norm_eval', False) and has_bn:
        raise ConfigError(
            f'{name}: init scratch with model.backbone.norm_eval=True: its BatchNorm statistics would '
            'stay at their random-init values; expected norm_eval=False, or GroupNorm / SyncBN as in '
            "mmdet's from-scratch recipe (configs/scratch/)"
        )
    frozen = getattr(backbone, 'frozen_stages', -1)
    if isinstance(frozen, int) and frozen >= 0:
        raise ConfigError(
            f'{name}: init scratch with model.backbone.frozen_stages={frozen}: random weights would stay '
            'frozen; expected frozen_stages=-1'
        )


def state_shapes(module, prefix=''):
    """{name without `prefix`: shape} of `module`'s state dict entries under `prefix`."""
    return {k[len(prefix) :]: tuple(v.shape) for k, v in module.state_dict().items() if k.startswith(prefix)}


def check_backbone_keys(name, downstream, pretrained, source):
    """Refuse a matched backbone whose pretrained weights would not fill it exactly: `downstream` and
    `pretrained` are `state_shapes` of the two backbones."""
    missing = sorted(set(downstream) - set(pretrained))
    unexpected = sorted(set(pretrained) - set(downstream))
    shapes = sorted(k for k in set(downstream) & set(pretrained) if downstream[k] != pretrained[k])
    if missing or unexpected or shapes:
        parts = [
            f'{what} {", ".join(keys[:4])}{" ..." if len(keys) > 4 else ""} ({len(keys)})'
            for what, keys in (('missing', missing), ('unexpected', unexpected), ('shape differs', shapes))
            if keys
        ]
        raise ConfigError(
            f"{name}: init matched: the backbone pretrained by {source} does not fit this model's "
            f'backbone ({"; ".join(parts)}); expected the same backbone in both configs (type, depth, '
            "widths: pretrain.cfg_options or the grid's cfg_options can align them)"
        )
