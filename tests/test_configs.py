"""Every shipped config loads and builds its (patched) model on CPU, without downloading weights."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

REPO = Path(__file__).resolve().parent.parent
CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if not p.name.startswith('_') and '_base_' not in p.parts)
GRIDS = sorted((REPO / 'configs' / 'ablations').glob('*.yaml'))


def _offline(model):
    """Drop pretrained-weight downloads (init_cfg / pretrained) from a model config."""
    model.pop('pretrained', None)
    for value in model.values():
        if isinstance(value, dict):
            if value.get('init_cfg', {}) and value['init_cfg'].get('type') == 'Pretrained':
                value['init_cfg'] = None
    return model


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(REPO / 'configs')))
def test_config_builds_its_patched_model(path):
    cfg = Config.fromfile(str(path))
    assert cfg.model.type == 'HarnessModel' and 'harness' in cfg.custom_imports.imports
    assert {'PatchReportHook', 'NonFiniteLossHook'} <= {h['type'] for h in cfg.custom_hooks}
    init_default_scope(cfg.default_scope)
    model = MODELS.build(_offline(cfg.model))
    assert model.harness_report and type(model).__name__ == cfg.model.base_type


def test_config_names_follow_the_mmdet_convention():
    for path in CONFIGS:
        fields = path.stem.split('_')
        assert len(fields) >= 3 and all(f and f == f.lower() for f in fields), path.name


@pytest.mark.parametrize('path', GRIDS, ids=lambda p: p.name)
def test_shipped_grids_parse_and_resolve(path):
    from harness.ablation import GridRunner
    runner = GridRunner(str(path), work_root='/nonexistent-work-dir')
    configs = runner.resolve_all()
    assert len(configs) == len(runner.runs) > 0
