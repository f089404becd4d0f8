"""One padding setting as a value: the only place one is validated, canonicalised and put into words.

A padding setting is written in a config (`model.padding=dict(mode=..., scope=..., resample=...,
canvas=...)`), a grid file (`padding: {mode: none, scope: backbone}`), on a tool's command line
(`--padding none --resample input`) and read back from a run's `patch_report.json`. Each of them goes
through `PaddingSpec.parse`, so the schema, the model patcher, the converter, the loaders and every report
table agree on what `zero`, `valid` or a missing resample rule mean (timm's `layers/padding.py` is the
one place timm interprets padding; detectron2 parses a config once into typed values).

Canonical: the mode's alias resolved (`zero` -> `zeros`, `valid` -> `none`), the scope a preset name or a
tuple of presets / module-name globs, `resample` only for mode none, `canvas` only when asked for
(`rule` and `input_canvas` give the values in effect). `as_config()` is the dict a config or grid.json
holds; the patch report records the same mode, scope and rule.
"""

from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .modes import (
    ALIASES,
    CANVAS_RULES,
    DEFAULT_RESAMPLE,
    INPUT_CANVAS,
    NONE_RESAMPLE,
    PADDING_MODES,
    SCOPE_PRESETS,
    SCOPES,
)

KEYS = ('mode', 'scope', 'resample', 'canvas')


@dataclass(frozen=True)
class PaddingSpec:
    """A padding setting, canonical (see the module docstring); `PaddingSpec()` is the stock model."""

    mode: str = 'zeros'
    scope: str | tuple[str, ...] = 'all'
    resample: str | None = None  # mode none's rule as asked for; None: DEFAULT_RESAMPLE (see `rule`)
    canvas: str | None = None  # the input canvas as asked for; None: the mode's policy (see `input_canvas`)

    @classmethod
    def parse(cls, raw: Any, where: str = 'model.padding', presets_only: bool = False) -> 'PaddingSpec':
        """The spec of `raw`: a PaddingSpec, a mode name, or a dict with KEYS (a patch report's padding entry:
        its `layers` are ignored); None is the stock model. ConfigError names `where` and the field.

        `presets_only`: a single scope string must name a preset (grid files, checked before anything runs);
        otherwise it may be one module-name glob, checked against the model's layers when it is built."""
        if raw is None:
            return cls()
        if isinstance(raw, PaddingSpec):
            return raw
        if isinstance(raw, str):
            raw = {'mode': raw}
        fields = {k: v for k, v in raw.items() if k != 'layers'} if isinstance(raw, dict) else None
        if fields is None or 'mode' not in fields or set(fields) - set(KEYS):
            raise ConfigError(f'{where}: got {raw!r}; expected dict(mode=..., scope=..., resample=..., canvas=...)')
        mode = canonical_mode(fields['mode'], f'{where}.mode')
        return cls(
            mode,
            _scope(fields.get('scope', 'all'), f'{where}.scope', presets_only),
            _resample(fields.get('resample'), mode, f'{where}.resample'),
            _canvas(fields.get('canvas'), f'{where}.canvas'),
        )

    @classmethod
    def from_flags(cls, mode: str, scope: Any = 'all', resample: str | None = None) -> 'PaddingSpec':
        """The spec a tool's `--padding MODE [--scope S] [--resample R]` asks for; ConfigError names the flag."""
        mode = canonical_mode(mode, '--padding')
        return cls(mode, _scope(scope, '--scope', False), _resample(resample, mode, '--resample'))

    @property
    def rule(self) -> str | None:
        """Mode none's resample rule in effect (None for every other mode)."""
        return (self.resample or DEFAULT_RESAMPLE) if self.mode == 'none' else None

    @property
    def input_canvas(self) -> str:
        """How the batch canvas outside each image is filled: the one asked for, else the mode's policy."""
        return self.canvas or INPUT_CANVAS[self.mode]

    def scope_globs(self, heads: list[str] | None = None) -> list[tuple[str, list[str]]]:
        """[(scope item, module-name globs)]: a preset's globs (modes.SCOPE_PRESETS; `head` is `heads`, the
        model's top-level `*head` children), any other item its own glob."""
        items = [self.scope] if isinstance(self.scope, str) else list(self.scope)
        presets = {name: list(heads or []) if globs is None else globs for name, globs in SCOPE_PRESETS.items()}
        return [(item, presets.get(item, [item])) for item in items]

    def as_config(self) -> dict:
        """The dict a config's `model.padding` (and grid.json) holds: what was asked for, canonical."""
        out: dict[str, Any] = dict(
            mode=self.mode, scope=self.scope if isinstance(self.scope, str) else list(self.scope)
        )
        if self.resample is not None:
            out['resample'] = self.resample
        if self.canvas is not None:
            out['canvas'] = self.canvas
        return out

    def describe(self, rule: bool = True) -> str:
        """'none (scope all, resample output-corners)' — every table and message says a setting this way.
        `rule=False` leaves out a resample rule that was not asked for (grid tables: what the grid says)."""
        scope = self.scope if isinstance(self.scope, str) else f'[{", ".join(self.scope)}]'
        extra = [f'scope {scope}']
        if self.rule is not None and (rule or self.resample is not None):
            extra.append(f'resample {self.rule}')
        if self.canvas is not None:
            extra.append(f'canvas {self.canvas}')
        return f'{self.mode} ({", ".join(extra)})'


def canonical_mode(mode: Any, where: str = 'padding.mode') -> str:
    """The canonical spelling of a padding mode, or ConfigError naming `where`."""
    mode = ALIASES.get(mode, mode) if isinstance(mode, str) else mode
    if mode not in PADDING_MODES:
        raise ConfigError(f'{where}: unknown padding mode {mode!r}; expected one of {", ".join(PADDING_MODES)}')
    return mode


def _scope(scope: Any, where: str, presets_only: bool) -> str | tuple[str, ...]:
    if isinstance(scope, (list, tuple)):
        if not scope:
            raise ConfigError(f'{where}: got {list(scope)!r}; expected a non-empty list of scopes / module-name globs')
        for i, item in enumerate(scope):
            if not isinstance(item, str) or not item:
                raise ConfigError(f'{where}[{i}]: got {item!r}; expected a non-empty string')
        return tuple(scope)
    if not isinstance(scope, str) or not scope or (presets_only and scope not in SCOPES):
        raise ConfigError(
            f'{where}: got {scope!r}; expected one of {", ".join(SCOPES)} or a list of scopes / module-name globs'
        )
    return scope


def _resample(resample: Any, mode: str, where: str) -> str | None:
    if resample is None:
        return None
    if mode != 'none':
        raise ConfigError(f'{where}: got {resample!r} with mode {mode!r}; expected resample only with mode none')
    if resample not in NONE_RESAMPLE:
        raise ConfigError(f'{where}: unknown resample rule {resample!r}; expected one of {", ".join(NONE_RESAMPLE)}')
    return resample


def _canvas(canvas: Any, where: str) -> str | None:
    if canvas is not None and canvas not in CANVAS_RULES:
        raise ConfigError(f'{where}: got {canvas!r}; expected one of {", ".join(CANVAS_RULES)}')
    return canvas
