"""AP per class (BorderCocoMetric `classwise=True`, the position control's evaluator) in a report: every
`coco/<bbox|segm>_mAP_<class>` key reaches results.csv and the "Other metrics" table, shown x100 like
the other COCO AP keys, n/a for a model without boxes."""

import csv
import json

import harness.report as report

# (variant, seed) -> box_top AP; disk AP 0.7 everywhere; SOLO (masks only) reports segm keys alone
BOX_TOP = {('zeros', 0): 0.50, ('zeros', 1): 0.60, ('circular', 0): 0.30, ('circular', 1): 0.32}


def test_class_ap_keys_reach_results_csv_and_the_report(tmp_path):
    work = tmp_path / 'work' / 'g'
    work.mkdir(parents=True)
    variants = [
        {
            'name': n,
            'baseline': 'zeros',
            'base': 'c.py',
            'padding': None,
            'coordconv': None,
            'solo_coords': True,
            'cfg_options': {},
        }
        for n in ('zeros', 'circular', 'solo')
    ]
    (work / 'grid.json').write_text(
        json.dumps({'name': 'g', 'baseline': 'zeros', 'seeds': [0, 1], 'metrics': [], 'variants': variants})
    )
    for variant in ('zeros', 'circular', 'solo'):
        for seed in (0, 1):
            metrics = {}
            for kind in ('segm',) if variant == 'solo' else ('bbox', 'segm'):
                metrics.update(
                    {
                        f'coco/{kind}_mAP': 0.4,
                        f'coco/{kind}_mAP_disk': 0.7,
                        f'coco/{kind}_mAP_box_top': BOX_TOP.get((variant, seed), 0.1),
                    }
                )
            folder = work / f'{variant}_seed{seed}'
            folder.mkdir()
            (folder / 'results.json').write_text(
                json.dumps(
                    {
                        'run': folder.name,
                        'variant': variant,
                        'seed': seed,
                        'task': 'coco',
                        'status': 'done',
                        'error': None,
                        'metrics': metrics,
                        'meta': {},
                    }
                )
            )
    report.write_report_files(work, tmp_path / 'out')
    with open(tmp_path / 'out' / 'results.csv', newline='') as f:
        rows = {r['run']: r for r in csv.DictReader(f)}
    assert float(rows['circular_seed1']['coco/bbox_mAP_box_top']) == 0.32
    assert rows['solo_seed0']['coco/bbox_mAP_box_top'] == '' and float(rows['solo_seed0']['coco/segm_mAP_disk']) == 0.7
    md = (tmp_path / 'out' / 'report.md').read_text()
    other = md.split('\n## Other metrics\n')[1].split('\n## ')[0]
    assert 'COCO AP keys (e.g. AP per class) x100' in other
    table = {
        line.split(' | ')[0].strip('| '): [c.strip(' |') for c in line.split(' | ')[1:]]
        for line in other.splitlines()
        if line.startswith('| coco/')
    }
    # zeros 50, 60 -> 55.0 +- 7.1; circular 30, 32 -> 31.0 +- 1.4, delta -24.0
    assert table['coco/bbox_mAP_box_top'] == ['55.0 ± 7.1', '31.0 ± 1.4 (−24.0)', 'n/a (model has no boxes)']
    assert table['coco/segm_mAP_disk'] == ['70.0 ± 0.0', '70.0 ± 0.0 (±0.0)', '70.0 ± 0.0 (±0.0)']
