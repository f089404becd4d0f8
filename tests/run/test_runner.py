"""The harness inside a real mmengine Runner: patch report in the work dir, resume under torch >= 2.6."""

import json
import pickle

import pytest
import torch
from mmengine.runner import Runner
from toy_regressor import ToyRegressor  # noqa: F401  (registers it)


def _runner(work_dir, max_epochs, resume=False):
    data = [dict(inputs=torch.randn(3, 16, 16), targets=torch.tensor(float(i % 2))) for i in range(8)]
    return Runner(
        model=dict(type='HarnessModel', base_type='ToyRegressor', padding=dict(mode='reflect', scope='backbone')),
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
        resume=resume,
        randomness=dict(seed=0),
        default_scope='mmengine',
    )


def test_patch_report_saved_and_resume_works_under_weights_only_default(tmp_path):
    runner = _runner(tmp_path, max_epochs=2)
    runner.train()
    report = json.loads((tmp_path / 'patch_report.json').read_text())
    assert report['padding']['mode'] == 'reflect'
    assert [e['name'] for e in report['padding']['layers']] == ['backbone.0', 'backbone.3', 'backbone.4']

    ckpt = tmp_path / 'epoch_2.pth'
    # torch >= 2.6 refuses mmengine checkpoints by default: this is what the shim works around
    with pytest.raises(pickle.UnpicklingError):
        torch.load(ckpt)

    resumed = _runner(tmp_path, max_epochs=3, resume=True)
    resumed.train()
    assert resumed.epoch == 3 and (tmp_path / 'epoch_3.pth').exists()
    state = torch.load(tmp_path / 'epoch_3.pth', weights_only=False)
    assert state['meta']['epoch'] == 3
