"""The rows of the benchmark's table (`python -m benchmarks.cli`, tools/benchmark.py) and what they share: the
targets, and the load of the machine sampled while they run. The code that times them: benchmarks/timed.py
(train steps, COCO evaluation), benchmarks/measured.py (memory, resume, bootstrap, coverage, smoke grid).
"""

import os

MODE_TARGETS = {'reflect': 1.10, 'replicate': 1.10, 'circular': 1.10, 'none': 1.10, 'partial': 1.15}


COCO_STATS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl')


SMOKE_TARGET_S = 360  # the main job on a 2-core CPU with the data present: at most 6 minutes


OVERHEAD_TARGET = 0.25


def measurements():
    """Every measurement the script knows, in table order."""
    from benchmarks.models import FAMILIES

    rows = []
    for fam in FAMILIES:
        label, scope = FAMILIES[fam]['label'], FAMILIES[fam]['padding_scope']
        rows.append(
            dict(
                name=f'{fam}/stock-vs-stock',
                kind='step',
                family=fam,
                num='stock-copy',
                den='stock',
                target=None,
                what=f'{label} train step, stock / stock (a second identical model: the noise floor)',
            )
        )
        rows.append(
            dict(
                name=f'{fam}/zeros-vs-stock',
                kind='step',
                family=fam,
                num='zeros',
                den='stock',
                target=1.01,
                what=f'{label} train step, zeros-patched / stock',
            )
        )
        for mode, target in MODE_TARGETS.items():
            rows.append(
                dict(
                    name=f'{fam}/{mode}-vs-zeros',
                    kind='step',
                    family=fam,
                    num=mode,
                    den='zeros',
                    target=target,
                    what=f'{label} train step, {mode} / zeros (scope {scope})',
                )
            )
        rows.append(
            dict(
                name=f'{fam}/reflect-vs-torch-reflect',
                kind='step',
                family=fam,
                num='reflect',
                den='torch-reflect',
                target=None,
                what=f"{label} train step, reflect / PyTorch's own "
                f"padding_mode='reflect' on the same convs (pools: zeros)",
            )
        )
        if fam == 'mask-rcnn':
            rows.append(
                dict(
                    name=f'{fam}/coordconv-vs-stock',
                    kind='step',
                    family=fam,
                    num='coordconv',
                    den='stock',
                    target=1.03,
                    what=f'{label} train step, CoordConv in mask head / stock',
                )
            )
    for iou in ('bbox', 'segm'):
        rows.append(
            dict(
                name=f'coco-eval/{iou}',
                kind='coco',
                path='metric',
                iou_type=iou,
                target=4.0,
                higher=True,
                what=f'COCO {iou} evaluation through BorderCocoMetric, pycocotools / faster (speed-up)',
            )
        )
    for iou in ('bbox', 'segm'):
        rows.append(
            dict(
                name=f'coco-eval-direct/{iou}',
                kind='coco',
                path='direct',
                iou_type=iou,
                target=4.0,
                higher=True,
                what=f'COCO {iou} COCOeval alone, pycocotools / faster-coco-eval (speed-up)',
            )
        )
    rows.append(
        dict(
            name='partial-cache/sizes',
            kind='memory',
            target=None,
            what='Mask R-CNN R-18-FPN backbone + neck, partial padding: ratio-cache bytes after N distinct '
            'input sizes, 2-D map per size (before) / 1-D row + column ratios (now)',
        )
    )
    rows.append(
        dict(
            name='resume/k2000-vs-k20',
            kind='resume',
            target=1.10,
            what='FCN R-18 tiny Cityscapes, resume at iteration 2,000 / at 20 (build, load, skip, one step), '
            'samplers positioned',
        )
    )
    rows.append(
        dict(
            name='bootstrap/images-seeds-variants',
            kind='bootstrap',
            target=0.10,
            what='Paired image bootstrap (B = 1000, box + mask AP) plus keeping per-image matches / COCO '
            'evaluation of the same runs (BorderCocoMetric, faster-coco-eval, 1 thread), 2 variants x 3 '
            'seeds',
        )
    )
    rows.append(
        dict(
            name='intervals/coverage',
            kind='coverage',
            target=0.93,
            higher=True,
            what="Coverage of the report's nominal 95% interval in simulated grids with known \u0394 "
            '(benchmarks/interval_coverage.py), worst of 4 noise regimes x 2, 3, 5 seeds',
        )
    )
    rows.append(
        dict(
            name='smoke-grid',
            kind='grid',
            target=SMOKE_TARGET_S,
            what='CPU smoke grid end to end (tools/run_ablation.sh), wall seconds',
        )
    )
    rows.append(
        dict(
            name='smoke-overhead',
            kind='overhead',
            target=OVERHEAD_TARGET,
            what='CPU smoke grid: harness overhead per smoke run = 1 − (training loop + evaluation + '
            'probe) / run wall time (the worst run; timing in each results.json)',
        )
    )
    return rows


class LoadSampler:
    """1-minute load averages sampled at start, after every timed round and at the end."""

    def __init__(self):
        self.start, self.samples = os.getloadavg(), []

    def __call__(self, *_):
        self.samples.append(os.getloadavg()[0])

    def summary(self):
        import statistics

        end = os.getloadavg()
        one = [self.start[0]] + self.samples + [end[0]]
        fmt = lambda t: ' / '.join(f'{v:.2f}' for v in t)  # noqa: E731
        return (
            f'1-min load average over {len(one)} samples: median {statistics.median(one):.2f}, '
            f'max {max(one):.2f}; at start {fmt(self.start)}, at end {fmt(end)} (1 / 5 / 15 min)'
        )
