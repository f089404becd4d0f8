"""Every shipped config loads and builds its (patched) model on CPU, without downloading weights."""

import pytest
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from harness.diagnose import drop_pretrained
from harness.paths import REPO_ROOT

REPO = REPO_ROOT
CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if not p.name.startswith('_') and '_base_' not in p.parts)
GRIDS = sorted((REPO / 'configs' / 'ablations').glob('*.yaml'))


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(REPO / 'configs')))
def test_config_builds_its_patched_model(path):
    cfg = Config.fromfile(str(path))
    assert cfg.model.type == 'HarnessModel' and 'harness.engine.register' in cfg.custom_imports.imports
    assert {'PatchReportHook', 'NonFiniteLossHook'} <= {h['type'] for h in cfg.custom_hooks}
    init_default_scope(cfg.default_scope)
    model_cfg = cfg.model
    drop_pretrained(model_cfg)  # nothing downloaded
    model = MODELS.build(model_cfg)
    assert model.harness_report and type(model).__name__ == cfg.model.base_type


def test_config_names_follow_the_mmdet_convention():
    for path in CONFIGS:
        fields = path.stem.split('_')
        assert len(fields) >= 3 and all(f and f == f.lower() for f in fields), path.name


@pytest.mark.parametrize('path', GRIDS, ids=lambda p: p.name)
def test_shipped_grids_parse_and_resolve(path):
    from harness.launch.runner import GridRunner

    runner = GridRunner(str(path), work_root='/nonexistent-work-dir')
    configs = runner.resolve_all()
    assert len(configs) == len(runner.runs) > 0
    if path.stem != 'pretrain_smoke':  # every detector / segmenter grid keeps per-image data for the image bootstrap
        assert {cfg.test_evaluator.type for cfg in configs.values()} <= {'BorderCocoMetric', 'BorderIoUMetric'}, (
            path.name
        )


@pytest.mark.parametrize(
    'name', ['deeplabv3/deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024.py', 'mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']
)
def test_packaged_bases_load_as_with_mmengine_alone_and_parse_each_metafile_once(name, monkeypatch):
    """harness/configs.py keeps each parsed metafile of mmseg / mmdet for the process (mmengine parses all
    of them at every `mmseg::` / `mmdet::` base lookup): a config loads to the same dict as with mmengine's
    own lookup, and loading it again parses no metafile."""
    import mmengine.config.utils as config_utils
    from mmengine.fileio import YamlHandler, load

    from harness.configs import read_config

    path = str(REPO / 'configs' / name)
    ours = read_config(path).to_dict()
    parsed = []
    parse = YamlHandler.load_from_fileobj
    monkeypatch.setattr(
        YamlHandler, 'load_from_fileobj', lambda self, f, **kw: parsed.append(f) or parse(self, f, **kw)
    )
    assert read_config(path).to_dict() == ours and parsed == []
    monkeypatch.setattr(config_utils, 'load', load)  # mmengine's own lookup
    assert Config.fromfile(path).to_dict() == ours and len(parsed) > 10
