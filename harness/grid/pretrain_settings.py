"""The `init:` and `pretrain:` keys of a grid file: where each variant's backbone weights come from.

    init: imagenet | matched | scratch       # top level (default imagenet); a variant may override it
    pretrain:                                # required when some variant has init: matched
      config: configs/pretrain/resnet50_8xb32_in1k.py   # an mmpretrain config (file or mmpretrain::...)
      data_root: data/imagenet/              # optional: replaces every dataloader's data_root
      seed: 0                                # the pretraining's seed (shared by every downstream seed)
      cfg_options: {train_cfg.max_epochs: 100}
      cache_dir: work_dirs/pretrained        # optional; default <work-dir>/pretrained, shared by grids

`imagenet` keeps the base config's own backbone init (torchvision's zero-padded ImageNet weights in
the shipped configs); `matched` starts each variant from a classifier pretrained with its own
backbone padding (`harness.run.pretrain`); `scratch` starts from random weights (mmdet's
"Rethinking ImageNet Pre-training" recipe: configs/scratch/). A mixin of the grid file parser, so
its errors read like every other field's.
"""

import dataclasses

from .spec import _show

INIT_DESIGNS = ('imagenet', 'matched', 'scratch')
PRETRAIN_KEYS = ('config', 'data_root', 'seed', 'cfg_options', 'cache_dir')
PRETRAIN_SCOPES = ('mmpretrain::',)


class PretrainFields:
    """Needs the parser's `fail`, `_mapping`, `_keys`, `_cfg_options`, `_text` and `root`."""

    def _with_init(self, data, raw_variants, variants):
        """`variants` with their `init` (the variant's own, else the grid's) and, for `matched`, `pretrain`."""
        grid_init = self._init(data.get('init', 'imagenet'), 'init')
        pretrain = self._pretrain(data['pretrain']) if 'pretrain' in data else None
        out = []
        for i, (raw, v) in enumerate(zip(raw_variants, variants)):
            init = self._init(raw['init'], f'variants[{i}].init') if 'init' in raw else grid_init
            out.append(dataclasses.replace(v, init=init, pretrain=pretrain if init == 'matched' else None))
        matched = [v.name for v in out if v.init == 'matched']
        if matched and pretrain is None:
            self.fail(
                'pretrain',
                f'missing required key (variants {", ".join(matched)} have init matched)',
                'a top-level mapping like {config: configs/pretrain/resnet50_8xb32_in1k.py, data_root: data/imagenet/}',
            )
        if pretrain is not None and not matched:
            self.fail(
                'pretrain',
                'given, but no variant has init matched',
                "init: matched (top level or in a variant), or no 'pretrain' key",
            )
        return out

    def _init(self, value, where):
        if value not in INIT_DESIGNS:
            self.fail(where, f'got {_show(value)}', f'one of {", ".join(INIT_DESIGNS)}')
        return value

    def _pretrain(self, raw):
        self._mapping(raw, 'pretrain', 'a mapping like {config: <mmpretrain config>, data_root: data/imagenet/}')
        self._keys(raw, 'pretrain', PRETRAIN_KEYS)
        if 'config' not in raw:
            self.fail('pretrain.config', 'missing required key', 'an mmpretrain config file or mmpretrain::<name>')
        config = raw['config']
        if not isinstance(config, str) or not config:
            self.fail('pretrain.config', f'got {_show(config)}', 'an mmpretrain config file or mmpretrain::<name>')
        if not config.startswith(PRETRAIN_SCOPES):
            resolved = (self.root / config).resolve()
            if not resolved.is_file():
                self.fail(
                    'pretrain.config',
                    f'config file {config!r} not found (resolved to {resolved})',
                    f'an existing file (relative paths are taken from {self.root})',
                )
            config = str(resolved)
        out = {
            'config': config,
            'seed': raw.get('seed', 0),
            'cfg_options': self._cfg_options(raw.get('cfg_options', {}), 'pretrain.cfg_options'),
        }
        if isinstance(out['seed'], bool) or not isinstance(out['seed'], int) or out['seed'] < 0:
            self.fail('pretrain.seed', f'got {_show(out["seed"])}', 'a non-negative integer')
        for key in ('data_root', 'cache_dir'):
            if key in raw:
                if not isinstance(raw[key], str) or not raw[key]:
                    self.fail(f'pretrain.{key}', f'got {_show(raw[key])}', 'a folder path')
                out[key] = raw[key]
        return out
