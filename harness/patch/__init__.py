"""Patching a built model: padding modes, CoordConv channels, SOLO without coordinates, `HarnessModel`,
and the check that a checkpoint was trained with the config's patch."""
from .border_layers import BorderMixin, pad_amounts, pad_circular
from .convert import classify, convert_padding, scope_globs
from .coordconv import PRESETS as COORDCONV_PRESETS
from .coordconv import inject_coordconv
from .model import HarnessModel, patch_model
from .modes import PADDING_MODES, SCOPE_PRESETS, SCOPES, canonical_mode
from .modules import matches, rebuild_as, replace_module
from .provenance import check_patch, patch_spec
from .solo_coords import remove_solo_coords

__all__ = ['BorderMixin', 'COORDCONV_PRESETS', 'HarnessModel', 'PADDING_MODES', 'SCOPE_PRESETS', 'SCOPES',
           'canonical_mode', 'check_patch', 'classify', 'convert_padding', 'inject_coordconv', 'matches', 'pad_amounts', 'pad_circular',
           'patch_model', 'patch_spec', 'rebuild_as', 'remove_solo_coords', 'replace_module', 'scope_globs']
