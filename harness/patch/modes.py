"""The vocabulary of a padding setting: modes, their aliases, scopes, mode none's resample rules and
each mode's input canvas. `spec.PaddingSpec` is the one place that reads a setting with them.

PyTorch says `zeros` where mmcv says `zero`; users write the PyTorch spelling and `zero` (and `valid`
for `none`) are accepted as aliases, resolved by `PaddingSpec` and nowhere else.
"""

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
ALIASES = {'zero': 'zeros', 'valid': 'none'}
# How `none` gets a valid layer's output back to the padded layer's size (see border_layers.py):
# resample the layer's input, or its output (bilinear, align_corners False / True), or replicate-pad
# the output. The default is the one that leaked least in the probe (docs/PROBE.md).
NONE_RESAMPLE = ('input', 'output', 'output-corners', 'replicate')
DEFAULT_RESAMPLE = 'output-corners'

# How the batch canvas outside each image is filled (harness/patch/canvas.py), and the input policy of
# each padding mode (README, "Padding modes"; patch_report.json `input.canvas`).
CANVAS_RULES = ('zeros', 'replicate', 'reflect', 'circular')
INPUT_CANVAS = dict(
    zeros='zeros', reflect='reflect', replicate='replicate', circular='circular', none='replicate', partial='replicate'
)
