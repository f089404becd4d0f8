"""What every harness run's config gets: the hooks (by the grid runner and by tools/train.py), each in its
own `*_hook.py` — the patch report, the stop on a non-finite loss, preemption, the random state — and the
import that registers the harness with mmengine (`REGISTER`, harness/engine/register.py)."""

from typing import Any

# Added to every run's config (by the grid runner and by tools/train.py) unless already there.
HARNESS_HOOKS = ('PatchReportHook', 'NonFiniteLossHook', 'PreemptionHook', 'RngStateHook')


REGISTER = 'harness.engine.register'


def add_harness(cfg: Any) -> Any:
    """`cfg` loading the harness: `REGISTER` in its `custom_imports` and the `HARNESS_HOOKS`."""
    imports = list(cfg.get('custom_imports', {}).get('imports', []))
    cfg.custom_imports = dict(imports=imports + [REGISTER] * (REGISTER not in imports), allow_failed_imports=False)
    return add_harness_hooks(cfg)


def add_harness_hooks(cfg: Any) -> Any:
    """Append the `HARNESS_HOOKS` missing from `cfg.custom_hooks`."""
    hooks = list(cfg.get('custom_hooks', []))
    have = {h.get('type') for h in hooks}
    cfg.custom_hooks = hooks + [dict(type=t) for t in HARNESS_HOOKS if t not in have]
    return cfg
