"""The report states each run's effective padding and input policy from its patch_report.json, not from
what grid.json asked for."""

import json

import harness.report as report

LAYERS = [
    dict(name='backbone.conv1', action='reflect'),
    dict(name='backbone.layer1.0.conv1', action='reflect'),
    dict(name='rpn_head.rpn_conv', action='unchanged'),
    dict(name='x.dcn', action='skipped'),
]


def _run(work, variant, seed, patch):
    folder = work / f'{variant}_seed{seed}'
    folder.mkdir(parents=True)
    (folder / 'results.json').write_text(
        json.dumps(
            dict(
                run=folder.name,
                variant=variant,
                seed=seed,
                task='coco',
                status='done',
                error=None,
                metrics={'coco/bbox_mAP': 0.3, 'coco/segm_mAP': 0.2},
                meta={},
            )
        )
    )
    if patch is not None:
        (folder / 'patch_report.json').write_text(json.dumps(patch))


def test_runs_table_shows_effective_padding_and_input_canvas(tmp_path):
    work = tmp_path / 'g'
    work.mkdir()
    variants = [
        dict(
            name=n,
            baseline='zeros',
            base='b.py',
            padding=dict(mode=m, scope='all'),
            coordconv=None,
            solo_coords=True,
            cfg_options={},
        )
        for n, m in (('zeros', 'zeros'), ('reflect', 'reflect'))
    ]
    (work / 'grid.json').write_text(
        json.dumps(dict(name='g', baseline='zeros', seeds=[0, 1], metrics=[], variants=variants))
    )
    _run(
        work,
        'zeros',
        0,
        dict(
            padding=dict(mode='zeros', scope='all', layers=[]),
            input=dict(canvas='zeros', preprocessor='DetDataPreprocessor'),
        ),
    )
    _run(work, 'zeros', 1, None)
    _run(
        work,
        'reflect',
        0,
        dict(
            padding=dict(mode='reflect', scope='all', layers=LAYERS),
            input=dict(canvas='reflect', preprocessor='CanvasDetDataPreprocessor'),
            coordconv=[dict(name='roi_head.mask_head.convs.0.conv')],
        ),
    )
    # a run from before the input policy was recorded
    _run(work, 'reflect', 1, dict(padding=dict(mode='reflect', scope='all', layers=LAYERS)))
    out = report.write_report(work, tmp_path / 'out')
    md = (out / 'report.md').read_text(encoding='utf-8')
    runs = md.split('\n## Runs\n')[1].split('\n## ')[0]
    header = next(line for line in runs.splitlines() if line.startswith('| Run |'))
    col = [c.strip() for c in header.strip('|').split(' | ')].index('Padding (patch_report.json)')

    def cell(run):
        line = next(line for line in runs.splitlines() if line.startswith(f'| {run} |'))
        return [c.strip() for c in line.strip('|').split(' | ')][col]

    assert cell('zeros_seed0') == 'zeros (scope all); input canvas zeros'
    assert cell('zeros_seed1') == 'no patch_report.json'
    assert cell('reflect_seed0') == (
        'reflect (scope all): 2 converted, 1 skipped; input canvas reflect; '
        'coordconv on roi_head.mask_head.convs.0.conv'
    )
    assert cell('reflect_seed1') == 'reflect (scope all): 2 converted, 1 skipped; input canvas not recorded'
