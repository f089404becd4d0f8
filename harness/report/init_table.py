"""The report's account of where each variant's backbone weights came from (a grid's `init:`).

A padding variant fine-tuned from zero-padded ImageNet weights, one fine-tuned from a backbone
pretrained with its own padding, and one trained from scratch measure different things. So the setup
section says, per variant, how its backbone was initialised, read from the runs' `meta.init`
(harness/run/pretrain.py writes it as init.json); for a matched pretraining the classifier's top-1 on
its own test split stands next to the variant: a pretraining that lost accuracy explains part of a
downstream drop. Grids written before `init` existed get no table.
"""

import os.path as osp

from ..patch.spec import PaddingSpec

DESIGNS = {
    'imagenet': "the base config's own backbone init",
    'matched': 'pretrained with the same backbone padding (mmpretrain classifier)',
    'scratch': 'random init, no pretrained weights',
}
_ZERO_PADDED = ('torchvision://', 'open-mmlab://', 'https://download.pytorch.org', 'https://download.openmmlab.com')


def _design(design, rec):
    """The Init cell. `imagenet` keeps whatever the base config does, which for the smoke and control
    configs (`init_cfg=None`) is random init: a run that recorded no backbone checkpoint and no
    `load_from` is labelled by what happened, not by the grid's design name."""
    if not design:
        return 'not recorded'
    if design == 'imagenet' and rec is not None and not rec.get('checkpoint') and not rec.get('load_from'):
        return 'random init: the base config loads no backbone weights'
    return f'{design}: {DESIGNS.get(design, "not recorded")}'


def _weights(rec):
    checkpoint = rec.get('checkpoint')
    if rec.get('load_from') and rec.get('design') == 'imagenet':  # replaces every weight after init
        return f'load_from {rec["load_from"]} (the whole model, after init)'
    if rec.get('design') == 'scratch' or not checkpoint:
        return 'random init' + ('' if rec.get('design') == 'scratch' else ' (the config loads no backbone weights)')
    if rec.get('design') == 'matched':
        return (rec.get('pretrain') or {}).get('name') or osp.basename(osp.dirname(checkpoint))
    stock = ' (a stock model-zoo checkpoint: trained with zero padding)' if checkpoint.startswith(_ZERO_PADDED) else ''
    return f'{checkpoint}{stock}'


def _pretraining(rec):
    pre = rec.get('pretrain') or {}
    if not pre:
        return ['', '', '']
    padding = PaddingSpec.parse(pre.get('padding') or None, 'init.json pretrain.padding').describe(rule=False)
    top1 = pre.get('top1')
    top1 = 'not recorded' if top1 is None else f'{float(top1):.1f}%'
    scale = ', '.join(
        x
        for x in (
            f'{pre["iterations"]} iterations' if pre.get('iterations') else '',
            f'batch {pre["batch_size"]}' if pre.get('batch_size') else '',
            f'{pre["train_images"]} train / {pre.get("val_images")} test images' if pre.get('train_images') else '',
            osp.basename(str(pre.get('config') or '')),
            f'data {pre["data_root"]}' if pre.get('data_root') else '',
            f'seed {pre.get("seed", 0)}',
        )
        if x
    )
    return [padding, top1, scale]


def init_blocks(res):
    """A 'Backbone initialisation' table (one row per variant), or [] when nothing records an init."""
    rows, recorded = [], False
    for v in res.grid['variants']:
        records = [r.meta['init'] for r in res.of(v['name']) if isinstance(r.meta.get('init'), dict)]
        recorded = recorded or bool(records) or 'init' in v
        design = v.get('init') or (records[0].get('design') if records else '')
        texts = {}
        for rec in records:
            texts.setdefault((_design(design, rec), _weights(rec), *_pretraining(rec)), []).append(rec)
        if not records:
            texts = {(_design(design, None), 'not recorded (no finished run)', '', '', ''): []}
        for cells in texts:
            rows.append([v['name'], *cells])
    if not recorded:
        return []
    caption = (
        "How each variant's backbone was initialised (grid key init). For a matched pretraining: the "
        'padding the classifier was trained with, its top-1 on its own test split (a pretraining that lost '
        'accuracy explains part of a downstream drop) and its scale. A variant listed twice had seeds '
        'starting from different weights.'
    )
    return [
        ('h', 3, 'Backbone initialisation'),
        (
            'table',
            caption,
            ['Variant', 'Init', 'Backbone weights', 'Pretraining padding', 'Pretraining top-1', 'Pretraining scale'],
            rows,
        ),
    ]
