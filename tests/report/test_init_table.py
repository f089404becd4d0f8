"""The report's "Backbone initialisation" table (harness/report/init_table.py) says what each run's
backbone really started from, as its init.json (results.json `meta.init`) records it.

The grid key `init: imagenet` (the default) means "keep the base config's own backbone init": ImageNet
weights for the shipped COCO / Cityscapes configs, random weights for the smoke and control configs
(`init_cfg=None`). The table used to print the design name, so reports/position_control said
"imagenet" for random-init ResNets.
"""

import json

import harness.report as report

META = {
    'config': 'c.py',
    'iterations': 10,
    'train_images': 4,
    'val_images': 2,
    'batch_size': 2,
    'commit': 'abc',
    'hardware': 'cpu',
    'gpus': 0,
    'wall_s': 1.0,
}
TORCHVISION = 'torchvision://resnet50'
# variant -> (grid init, the run's init.json)
CASES = {
    'config-random': ('imagenet', {'design': 'imagenet', 'checkpoint': None, 'load_from': None, 'pretrain': None}),
    'config-imagenet': (
        'imagenet',
        {'design': 'imagenet', 'checkpoint': TORCHVISION, 'load_from': None, 'pretrain': None},
    ),
    'config-load-from': (
        'imagenet',
        {'design': 'imagenet', 'checkpoint': None, 'load_from': '/ckpt/model.pth', 'pretrain': None},
    ),
    'scratch': ('scratch', {'design': 'scratch', 'checkpoint': None, 'load_from': None, 'pretrain': None}),
    'old-record': ('imagenet', {'design': 'imagenet', 'checkpoint': None, 'pretrain': None}),  # before load_from
}


def _rows(md):
    section = md.split('### Backbone initialisation\n')[1].split('\n#')[0]
    rows = [line.strip('|').split(' | ') for line in section.splitlines() if line.startswith('| ')]
    return {cells[0].strip(): [c.strip() for c in cells[1:3]] for cells in rows[1:]}


def test_each_backbone_is_labelled_by_what_it_started_from(tmp_path):
    work = tmp_path / 'work' / 'g'
    work.mkdir(parents=True)
    variants = [
        {
            'name': name,
            'baseline': 'config-random',
            'base': 'configs/x.py',
            'padding': None,
            'coordconv': None,
            'solo_coords': True,
            'cfg_options': {},
            'init': init,
        }
        for name, (init, _) in CASES.items()
    ]
    variants.append(dict(variants[0], name='not-run'))
    (work / 'grid.json').write_text(
        json.dumps({'name': 'g', 'baseline': 'config-random', 'seeds': [0], 'metrics': [], 'variants': variants})
    )
    for name, (_, init) in CASES.items():
        folder = work / f'{name}_seed0'
        folder.mkdir()
        (folder / 'results.json').write_text(
            json.dumps(
                {
                    'run': folder.name,
                    'variant': name,
                    'seed': 0,
                    'task': 'coco',
                    'status': 'done',
                    'error': None,
                    'metrics': {'coco/bbox_mAP': 0.3, 'coco/segm_mAP': 0.2},
                    'meta': dict(META, init=init),
                }
            )
        )
    report.write_report_files(work, tmp_path / 'out')
    rows = _rows((tmp_path / 'out' / 'report.md').read_text())
    random = 'random init: the base config loads no backbone weights'
    assert rows['config-random'] == [random, 'random init (the config loads no backbone weights)']
    assert rows['old-record'] == rows['config-random']
    assert rows['config-imagenet'] == [
        "imagenet: the base config's own backbone init",
        f'{TORCHVISION} (a stock model-zoo checkpoint: trained with zero padding)',
    ]
    assert rows['config-load-from'] == [
        "imagenet: the base config's own backbone init",
        'load_from /ckpt/model.pth (the whole model, after init)',
    ]
    assert rows['scratch'] == ['scratch: random init, no pretrained weights', 'random init']
    assert rows['not-run'] == ["imagenet: the base config's own backbone init", 'not recorded (no finished run)']
