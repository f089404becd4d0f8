"""The vocabulary users write in configs and grid files, in one place.

PyTorch says `zeros` where mmcv says `zero`; users write the PyTorch spelling and `zero` is accepted
as an alias here and nowhere else.
"""
from ..errors import ConfigError

PADDING_MODES = ('zeros', 'none', 'reflect', 'replicate', 'circular', 'partial')
# Named padding scopes, each a list of module-name globs (`modules.matches`: a glob also selects what is
# below the module it names); `head` is computed per model (every top-level child named `*head`). The
# model-specific presets name the padded convs of one architecture and match nothing elsewhere (a scope
# that matches no padded layer is refused with the closest names):
# - patch_embed: SegFormer's MixVisionTransformer (mmseg), the overlapping patch embedding that opens
#   each stage (7x7/s4/p3, then 3x3/s2/p1);
# - mixffn: the same backbone, the 3x3 depth-wise conv inside every Mix-FFN (`ffn.layers.1`);
# - dwconv: ConvNeXt (mmpretrain, used by mmdet / mmseg as `mmpretrain.ConvNeXt`), the 7x7 depth-wise
#   conv of every block (its stem and downsampling convs have kernel = stride and no padding).
SCOPE_PRESETS = {
    'backbone': ['backbone.*'],
    'neck': ['neck.*'],
    'head': None,
    'all': ['*'],
    'patch_embed': ['backbone.layers.*.0.projection'],
    'mixffn': ['backbone.layers.*.ffn.layers.1'],
    'dwconv': ['backbone.stages.*.depthwise_conv'],
}
SCOPES = tuple(SCOPE_PRESETS)
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
