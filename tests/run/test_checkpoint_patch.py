"""A checkpoint knows how it was patched (harness/patch/provenance.py, PatchReportHook): the patch report
in every checkpoint's meta; load_from, resume, tools/test.py, the probe and the audit refuse a
checkpoint trained with another patch, and a stock checkpoint loads into a stock config with a note."""

import glob
import itertools
import json
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner
from toy_regressor import ToyRegressor  # noqa: F401  (registers it)

from harness.errors import ConfigError
from harness.patch.provenance import META_KEY, check_patch, patch_spec
from harness.paths import REPO_ROOT

SMOKE = 'configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py'
_RUNS = itertools.count()


def _model(mode):
    return dict(
        type='HarnessModel',
        base_type='ToyRegressor',
        **({} if mode is None else dict(padding=dict(mode=mode, scope='backbone'))),
    )


def _runner(work_dir, mode, max_epochs=1, load_from=None, resume=False):
    data = [dict(inputs=torch.randn(3, 16, 16), targets=torch.tensor(float(i % 2))) for i in range(8)]
    return Runner(
        model=_model(mode),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=data,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            batch_size=4,
            num_workers=0,
        ),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        custom_hooks=[dict(type='PatchReportHook')],
        load_from=load_from,
        resume=resume,
        randomness=dict(seed=0),
        default_scope='mmengine',
        experiment_name=f'{work_dir}-{next(_RUNS)}',
    )  # a logger of its own (runners of one second share one)


def _log(folder):
    return '\n'.join(open(p).read() for p in glob.glob(str(folder / '**' / '*.log'), recursive=True))


@pytest.fixture
def reflect_run(tmp_path):
    """A trained reflect run: its work dir, with epoch_1.pth."""
    work = tmp_path / 'reflect'
    _runner(work, 'reflect').train()
    return work


def test_every_checkpoint_carries_the_patch_report(reflect_run):
    saved = torch.load(reflect_run / 'epoch_1.pth', weights_only=False)['meta'][META_KEY]
    report = json.loads((reflect_run / 'patch_report.json').read_text())
    assert saved == report and saved['padding']['mode'] == 'reflect'
    assert [e['name'] for e in saved['padding']['layers']] == ['backbone.0', 'backbone.3', 'backbone.4']
    assert saved['input'] == dict(canvas='unpadded', preprocessor='BaseDataPreprocessor')


def test_same_patch_resumes_and_loads(reflect_run, tmp_path):
    resumed = _runner(reflect_run, 'reflect', max_epochs=2, resume=True)
    resumed.train()
    assert resumed.epoch == 2 and (reflect_run / 'epoch_2.pth').exists()
    tuned = _runner(tmp_path / 'tuned', 'reflect', load_from=str(reflect_run / 'epoch_1.pth'))
    tuned.train()
    assert (tmp_path / 'tuned' / 'epoch_1.pth').exists()


def test_other_patch_refused_on_resume_and_load_from(reflect_run, tmp_path):
    before = (reflect_run / 'patch_report.json').read_text()
    with pytest.raises(
        ConfigError,
        match=r'epoch_1.pth was trained with padding reflect \(scope backbone\).*'
        r'but config .* has padding circular \(scope backbone\)',
    ):
        _runner(reflect_run, 'circular', max_epochs=2, resume=True).train()
    assert (reflect_run / 'patch_report.json').read_text() == before  # the work dir still describes its run
    assert not (reflect_run / 'epoch_2.pth').exists()
    with pytest.raises(ConfigError, match='trained with padding reflect .* has padding zeros'):
        _runner(tmp_path / 'other', None, load_from=str(reflect_run / 'epoch_1.pth')).train()


def test_stock_checkpoint_note_and_fine_tuning(tmp_path):
    init_default_scope('mmengine')
    stock = MODELS.build(dict(type='ToyRegressor'))
    torch.save({'state_dict': stock.state_dict(), 'meta': {}}, tmp_path / 'stock.pth')
    _runner(tmp_path / 'zeros', None, load_from=str(tmp_path / 'stock.pth')).train()
    assert 'stock.pth has no harness patch report (a stock checkpoint); loaded into' in _log(tmp_path / 'zeros')
    _runner(tmp_path / 'tune', 'reflect', load_from=str(tmp_path / 'stock.pth')).train()
    assert 'fine-tuning it under padding reflect (scope backbone)' in _log(tmp_path / 'tune')


def test_the_one_comparison():
    init_default_scope('mmengine')
    none = MODELS.build(_model('none')).harness_report
    reflect = MODELS.build(_model('reflect')).harness_report
    assert check_patch(none, json.loads(json.dumps(none)), 'a.pth', 'c.py') == ''
    with pytest.raises(
        ConfigError,
        match=r'^checkpoint a.pth was trained with padding none \(scope backbone, '
        r'resample [\w-]+\), input canvas unpadded, but config c.py has padding '
        r'reflect \(scope backbone\), input canvas unpadded; expected',
    ):
        check_patch(none, reflect, 'a.pth', 'c.py')
    with pytest.raises(ConfigError, match='no harness patch report .* but config c.py has padding reflect'):
        check_patch(None, reflect, 'a.pth', 'c.py', 'evaluate')
    with pytest.raises(ConfigError, match='no harness patch report'):
        check_patch(None, reflect, 'a.pth', 'c.py', 'resume')
    assert 'fine-tuning' in check_patch(None, reflect, 'a.pth', 'c.py', 'finetune')
    assert 'a stock (zeros padding) config' in check_patch(None, {}, 'a.pth', 'c.py')
    # a report saved before the input canvas was recorded: compared without it, and the note says so
    old = {k: v for k, v in reflect.items() if k != 'input'}
    assert 'not compared: input canvas' in check_patch(old, reflect, 'a.pth', 'c.py')
    coord = dict(reflect, coordconv=[dict(name='backbone.4')])
    with pytest.raises(ConfigError, match='coordconv on backbone.4, but config'):
        check_patch(coord, reflect, 'a.pth', 'c.py')
    assert patch_spec({'padding': {'mode': 'zero', 'scope': 'all', 'layers': []}}) == patch_spec(None)


def _smoke_checkpoint(path, mode):
    """A checkpoint of the smoke Mask R-CNN built with padding `mode` (random init), as training saves it."""
    cfg = Config.fromfile(str(REPO_ROOT / SMOKE))
    cfg.model.padding = dict(mode=mode, scope='all')
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    meta = {} if mode == 'zeros' else {META_KEY: model.harness_report}
    torch.save({'state_dict': model.state_dict(), 'meta': meta}, path)
    return path


def _test_py(*args):
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / 'tools' / 'test.py'), SMOKE, *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.usefixtures('repo_tiny_data')
def test_tools_test_refuses_a_mismatch_and_notes_a_stock_checkpoint(tmp_path):
    proc = _test_py(_smoke_checkpoint(tmp_path / 'reflect.pth', 'reflect'), '--work-dir', tmp_path / 'a')
    assert proc.returncode == 2 and 'Traceback' not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: checkpoint '), proc.stderr
    assert 'reflect.pth was trained with padding reflect (scope all), input canvas reflect' in lines[0], lines[0]
    assert f'but config {SMOKE} has padding zeros, input canvas zeros; expected' in lines[0], lines[0]
    # a stock checkpoint (no harness meta) into the stock (zeros) config: evaluated, with a note
    proc = _test_py(
        _smoke_checkpoint(tmp_path / 'stock.pth', 'zeros'),
        '--work-dir',
        tmp_path / 'b',
        '--out-metrics',
        tmp_path / 'm.json',
        '--cfg-options',
        'test_dataloader.dataset.indices=2',
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'stock.pth has no harness patch report (a stock checkpoint); loaded into' in proc.stdout
    assert json.loads((tmp_path / 'm.json').read_text())['test_images'] == 2


def test_probe_and_audit_refuse_a_mismatch(tmp_path):
    from harness.diagnose import audit, load_backbone

    ckpt = _smoke_checkpoint(tmp_path / 'reflect.pth', 'reflect')
    with pytest.raises(ConfigError, match=f'trained with padding reflect .* but config {SMOKE} has padding zeros'):
        load_backbone(SMOKE, checkpoint=str(ckpt))
    with pytest.raises(ConfigError, match=f'trained with padding reflect .* but config {SMOKE} has padding zeros'):
        audit(SMOKE, ['zeros'], size=(64, 64), checkpoint=str(ckpt))
    # an explicit --padding measures the checkpoint under another padding on purpose: noted, not refused
    _, info = load_backbone(SMOKE, padding='none', checkpoint=str(ckpt))
    assert 'measured under --padding none, as asked' in info['patch_note']
