"""The vocabulary users write in configs and grid files, in one place.

PyTorch says `zeros` where mmcv says `zero`; users write the PyTorch spelling and `zero` is accepted
as an alias here and nowhere else.
"""
from ..errors import ConfigError

PADDING_MODES = ('zeros', 'none', 'reflect', 'replicate', 'circular', 'partial')
SCOPES = ('backbone', 'neck', 'head', 'all')
_ALIASES = {'zero': 'zeros', 'valid': 'none'}


def canonical_mode(mode, where='padding.mode'):
    """Return the canonical spelling of a padding mode or raise ConfigError naming `where`."""
    mode = _ALIASES.get(mode, mode)
    if mode not in PADDING_MODES:
        raise ConfigError(f'{where}: unknown padding mode {mode!r}; expected one of {", ".join(PADDING_MODES)}')
    return mode
