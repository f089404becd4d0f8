"""configs/ablations/smoke_transformers.yaml through the real grid runner, cut to suite size: SegFormer
MiT-b0 and Mask R-CNN with a narrow ConvNeXt, each at zeros and one other mode (SegFormer `none`, whose
maps shrink; ConvNeXt `partial`, whose convs are replaced), 2 iterations, 1 seed, no probe, 4 test images,
two runs at a time (`jobs=2`, as the main job runs the smoke grid). Every mode on both families trains and
predicts in tests/patch/test_transformers.py, in process; this checks the grid's plumbing for the two.

Each run must patch every padded conv with its mode (patch_report.json), train with a finite loss at
every iteration (a NaN / inf stops a run as failed: NonFiniteLossHook) and evaluate (its metric keys
in results.json), and reach the report.
"""

import json
import math

import pytest
import yaml

from harness.paths import REPO_ROOT as REPO

GRID = REPO / 'configs/ablations/smoke_transformers.yaml'
ITERS = 2
EVAL_IMAGES = 4  # the first images of each val set: the suite checks that evaluation runs, not its numbers
# padded convs: MiT-b0's 4 patch embeddings + 8 Mix-FFN convs; ConvNeXt's 1/1/2/1 depth-wise + FPN, RPN, mask head
PADDED = {'segformer': 12, 'convnext': 14}
RUNS = ('segformer', 'segformer-none', 'convnext', 'convnext-partial')


@pytest.fixture(scope='module')
def grid_run(repo_tiny_data, tmp_path_factory):
    from harness.launch.runner import GridRunner
    from harness.report.write import write_report

    tmp = tmp_path_factory.mktemp('transformers')
    data = yaml.safe_load(GRID.read_text())  # its relative `base` paths are taken from the repository root
    assert len(data['variants']) == 12  # every mode of both families in the grid as shipped
    data['variants'] = [v for v in data['variants'] if v['name'] in RUNS]
    data['probe'] = False  # the probe and the border metrics on these models: reports/transformers_position/,
    data['border'] = False  # reports/segformer_control/ (the suite's time goes to training and evaluating)
    data['cfg_options'].pop('test_evaluator.border_bins')  # a BorderIoUMetric / BorderCocoMetric setting
    data['cfg_options'].update(
        {
            'train_cfg.max_iters': ITERS,
            'default_hooks.checkpoint.interval': ITERS,
            'default_hooks.logger.interval': 1,
            'test_dataloader.dataset.indices': EVAL_IMAGES,
        }
    )  # plumbing, not numbers
    path = tmp / 'smoke_transformers.yaml'
    path.write_text(yaml.safe_dump(data))
    lines = []
    GridRunner(str(path), tmp / 'work', log=lines.append, jobs=2).run()
    write_report(tmp / 'work' / data['name'], tmp / 'report')  # what the CLI does after the runs
    return tmp / 'work' / data['name'], data, lines, (tmp / 'report' / 'report.md').read_text()


def test_segformer_and_convnext_patch_train_and_evaluate_through_the_grid(grid_run):
    work, data, lines, report = grid_run
    assert [v['name'] for v in data['variants']] == list(RUNS)
    for v in data['variants']:
        run = f'{v["name"]}_seed0'
        result = json.loads((work / run / 'results.json').read_text())
        assert result['status'] == 'done' and result['meta']['iterations'] == ITERS, (run, result['error'], lines)
        mode = (v.get('padding') or {}).get('mode', 'zeros')
        layers = json.loads((work / run / 'patch_report.json').read_text())['padding']['layers']
        family = v['name'].split('-')[0]
        assert len(layers) == PADDED[family] and {e['action'] for e in layers} == {mode}, (run, layers)
        scalars = next(work.joinpath(run).glob('*/vis_data/scalars.json')).read_text().splitlines()
        losses = [json.loads(line)['loss'] for line in scalars if '"loss"' in line]
        assert len(losses) == ITERS and all(math.isfinite(x) for x in losses), (run, losses)
        assert run in report
        metrics = result['metrics']
        if family == 'segformer':
            assert 0 <= metrics['mIoU'] <= 100 and 'IoU.road' in metrics, metrics
        else:
            assert all(0 <= metrics[k] <= 1 for k in ('coco/bbox_mAP', 'coco/segm_mAP')), metrics
