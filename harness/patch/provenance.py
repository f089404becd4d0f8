"""A checkpoint knows how its model was patched: the patch report in its meta, and the one comparison.

Weights trained with reflect padding and evaluated as a `none` model give a number that measures
neither. `harness.engine.patch_report_hook.PatchReportHook` writes the model's patch report (mode, scope, per-layer
actions, CoordConv sites, SOLO coordinates, input canvas) into every checkpoint's `meta` under
`META_KEY`; whatever loads a checkpoint into a config — tools/test.py, `load_from` / resume (the same
hook), the probe and the audit (`harness.diagnose.loading`) — calls `check_patch`, the one place
that decides whether the two fit:

- same patch: loaded; a checkpoint with a different patch: refused (ConfigError naming both);
- no harness meta (a stock checkpoint, e.g. from a model zoo): taken as trained with the stock
  model; into a stock (zeros) config with a note, as a `load_from` starting point for fine-tuning
  under any patch with a note (README: stock weights load into patched models), else refused.

Fields a saved report does not have (e.g. the input canvas) are not compared, and the note says so.
The padding part of a report is read and put into words by `PaddingSpec`, as everywhere else.
"""

from typing import Any

from ..errors import ConfigError
from .spec import PaddingSpec

META_KEY = 'harness_patch'
PATCH_REPORT = 'patch_report.json'
PURPOSES = ('evaluate', 'finetune', 'resume')
_LISTS = ('coordconv', 'solo coords removed')


def saved_patch(checkpoint):
    """The patch report in a loaded checkpoint dict's meta, or None (a stock checkpoint)."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    return meta.get(META_KEY) if isinstance(meta, dict) else None


def patch_spec(report: dict | None) -> dict:
    """What must agree between a checkpoint and a config, from a patch report ({} or None: stock)."""
    report = report or {}
    pad = PaddingSpec.parse(report.get('padding') or None, 'patch report padding')
    # zeros leaves every layer stock whatever its scope; the rule in effect, whether or not it was spelled out
    spec: dict[str, Any] = dict(
        padding=PaddingSpec() if pad.mode == 'zeros' else PaddingSpec(pad.mode, pad.scope, pad.rule)
    )
    if 'input' in report:
        spec['input canvas'] = (report['input'] or {}).get('canvas')
    spec['coordconv'] = sorted(e['name'] for e in report.get('coordconv') or [])
    spec['solo coords removed'] = sorted(e['name'] for e in report.get('solo_coords_removed') or [])
    return spec


def _is_stock(spec):
    return (
        spec['padding'].mode == 'zeros'
        and not spec['coordconv']
        and not spec['solo coords removed']
        and spec.get('input canvas') in (None, 'zeros', 'unpadded')
    )


def describe(spec):
    """'padding none (scope all), input canvas replicate, coordconv on a, b' for messages."""
    pad = spec['padding']
    parts = [f'padding {pad.describe() if pad.mode != "zeros" else "zeros"}']
    if spec.get('input canvas') is not None:
        parts.append(f'input canvas {spec["input canvas"]}')
    parts += [f'{k.replace("coordconv", "coordconv on")} {", ".join(spec[k])}' for k in _LISTS if spec[k]]
    return ', '.join(parts)


def check_patch(
    saved: dict | None, report: dict | None, checkpoint: str, config: str, purpose: str = 'evaluate'
) -> str:
    """Compare the patch a checkpoint was trained with (`saved`, None for a stock checkpoint) with the
    config's (`report`, the built model's `harness_report`; None or {} for a stock model).

    Returns a note for the log ('' when nothing needs saying); raises ConfigError naming both on a
    mismatch. `purpose`: 'evaluate' (test, probe, audit), 'finetune' (`load_from` for training), 'resume'.
    """
    if purpose not in PURPOSES:
        raise ValueError(f'purpose {purpose!r}; expected one of {PURPOSES}')
    want = patch_spec(report)
    if saved is None:
        if _is_stock(want):
            return (
                f'checkpoint {checkpoint} has no harness patch report (a stock checkpoint); '
                f'loaded into {config}, a stock (zeros padding) config'
            )
        if purpose == 'finetune':
            return (
                f'checkpoint {checkpoint} has no harness patch report (a stock checkpoint); '
                f'fine-tuning it under {describe(want)} ({config})'
            )
        raise ConfigError(
            f'checkpoint {checkpoint}: no harness patch report (a stock checkpoint, trained with zeros '
            f'padding), but config {config} has {describe(want)}; expected a checkpoint trained with '
            'this config (a stock checkpoint only as load_from to fine-tune)'
        )
    have = patch_spec(saved)
    unrecorded = sorted(set(want) ^ set(have))  # e.g. the input canvas, not in reports saved before it was
    if any(have[k] != want[k] for k in set(want) & set(have)):
        raise ConfigError(
            f'checkpoint {checkpoint} was trained with {describe(have)}, but config {config} has '
            f'{describe(want)}; expected the config the checkpoint was trained with'
        )
    if unrecorded:
        return f'checkpoint {checkpoint}: patch matches {config} (not recorded, not compared: {", ".join(unrecorded)})'
    return ''
