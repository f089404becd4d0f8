"""The vocabulary users write in configs and grid files, in one place.

PyTorch says `zeros` where mmcv says `zero`; users write the PyTorch spelling and `zero` is accepted
as an alias here and nowhere else.
"""
from ..errors import ConfigError

PADDING_MODES = ('zeros', 'none', 'reflect', 'replicate', 'circular', 'partial')
SCOPES = ('backbone', 'neck', 'head', 'all')
_ALIASES = {'zero': 'zeros', 'valid': 'none'}
# How `none` gets a valid layer's output back to the padded layer's size (see border_layers.py):
# resample the layer's input, or its output (bilinear, align_corners False / True), or replicate-pad
# the output. The default is the one that leaked least in the probe (docs/PROBE.md).
NONE_RESAMPLE = ('input', 'output', 'output-corners', 'replicate')
DEFAULT_RESAMPLE = 'output-corners'


def canonical_mode(mode, where='padding.mode'):
    """Return the canonical spelling of a padding mode or raise ConfigError naming `where`."""
    mode = _ALIASES.get(mode, mode)
    if mode not in PADDING_MODES:
        raise ConfigError(f'{where}: unknown padding mode {mode!r}; expected one of {", ".join(PADDING_MODES)}')
    return mode


def canonical_resample(resample, mode, where='padding.resample'):
    """The resample rule of padding mode `mode` (None for every mode but `none`), or ConfigError naming `where`."""
    if mode != 'none':
        if resample is not None:
            raise ConfigError(f'{where}: got {resample!r} with mode {mode!r}; expected resample only with mode none')
        return None
    if resample is None:
        return DEFAULT_RESAMPLE
    if resample not in NONE_RESAMPLE:
        raise ConfigError(f'{where}: unknown resample rule {resample!r}; expected one of {", ".join(NONE_RESAMPLE)}')
    return resample
