"""The probe inside a grid: the grid's probe settings reach the probe of a run's child process
(harness/run/worker.py), and a probe that fails is recorded as failed in results.json and shown in the
report, while its run stays done.

The run dir is made by hand (the FCN smoke config resolved by the grid runner, random weights saved as
its checkpoint), so only the probe step runs, in this process; the smoke pipeline test covers the probe
after training.
"""

import json
from datetime import datetime, timezone

import pytest
import torch
from mmengine.registry import MODELS, init_default_scope

from harness.grid.grid_json import GRID_JSON, dump_resolved
from harness.jsonio import write_json
from harness.launch.runner import GridRunner
from harness.run.outputs import METRICS, PROBE, RESULTS, write_result
from harness.run.worker import probe as probe_step

pytestmark = pytest.mark.usefixtures('repo_tiny_data')  # the probe reads the config's val images in data/
HEAD = 'base: configs/smoke/fcn_r18-d8_tiny-cityscapes.py\nbaseline: fcn\nvariants: [{name: fcn}]\n'


def _probed(tmp_path, probe):
    """Run the grid's probe step on a hand-made run dir; returns (results.json, run dir, report.md)."""
    grid = tmp_path / 'grid.yaml'
    grid.write_text(f'name: g\nprobe: {probe}\n' + HEAD)
    runner = GridRunner(str(grid), work_root=str(tmp_path / 'work'), log=lambda msg: None)
    (run,) = runner.runs
    cfg = runner.resolve_all()[run.name]
    d = tmp_path / 'work' / 'g' / run.name
    d.mkdir(parents=True)
    cfg.dump(str(d / 'config.py'))
    init_default_scope('mmseg')
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict(), 'meta': {}}, d / 'iter_2.pth')
    (d / 'last_checkpoint').write_text(str(d / 'iter_2.pth'))
    write_json(str(d / METRICS), {'metrics': {'mIoU': 12.5}})
    write_json(str(tmp_path / 'work' / 'g' / GRID_JSON), dump_resolved(runner.grid))
    probe_step(str(d), runner.grid.probe)
    record = runner._probe_record(str(d))
    write_result(run, str(d), cfg, {}, datetime.now(timezone.utc), 1.0, None, record)
    from harness.report.write import write_report

    out = write_report(str(tmp_path / 'work' / 'g'), str(tmp_path / 'report'))
    return json.loads((d / RESULTS).read_text()), d, (tmp_path / 'report' / 'report.md').read_text(), out


def test_grid_probe_settings_reach_the_probe(tmp_path):
    result, d, report, _ = _probed(tmp_path, '{size: [64, 96], images: [synthetic, val], seeds: [0, 1], max_images: 4}')
    probe = json.loads((d / PROBE).read_text())
    assert probe['inputs']['size'] == [64, 96] and probe['seeds'] == [0, 1]
    assert [(u['source'], u['train'], u['test']) for u in probe['inputs']['images']] == [
        ('synthetic', 30, 10),
        ('val', 3, 1),
    ]
    assert result['status'] == 'done' and result['probe'] == {
        'size': [64, 96],
        'images': ['synthetic', 'val'],
        'seeds': [0, 1],
        'max_images': 4,
        'status': 'done',
        'error': None,
        'input_size': [64, 96],
    }
    assert result['metrics']['mIoU'] == 12.5 and all(result['metrics'][k] == v for k, v in probe['metrics'].items())
    assert 'Probed on 64x96, images synthetic, val, seeds 0, 1' in report
    assert 'position probe failed' not in report


def test_failed_probe_is_recorded_and_reported_and_the_run_stays_done(tmp_path):
    """At 8x8 the stride-8 features are 1x1, too small for the 3x3 read-out: the probe fails (one error line)."""
    result, d, report, _ = _probed(tmp_path, '{size: 8, images: synthetic}')
    assert result['status'] == 'done' and result['metrics'] == {'mIoU': 12.5} and not (d / PROBE).exists()
    probe = result['probe']
    assert probe['status'] == 'failed' and probe['size'] == [8, 8], probe
    assert probe['error'].startswith('read-out kernel 3 does not fit the (1, 1) feature grid'), probe
    assert 'Runs whose position probe failed' in report and 'read-out kernel 3 does not fit' in report
    assert '| fcn_seed0 | done |' in report
