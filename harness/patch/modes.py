"""The vocabulary of a padding setting: modes, their aliases, scopes, mode none's resample rules and
each mode's input canvas. `spec.PaddingSpec` is the one place that reads a setting with them.

PyTorch says `zeros` where mmcv says `zero`; users write the PyTorch spelling and `zero` (and `valid`
for `none`) are accepted as aliases, resolved by `PaddingSpec` and nowhere else.
"""

PADDING_MODES = ('zeros', 'none', 'reflect', 'replicate', 'circular', 'partial')
SCOPES = ('backbone', 'neck', 'head', 'all')
ALIASES = {'zero': 'zeros', 'valid': 'none'}
# How `none` gets a valid layer's output back to the padded layer's size (see border_layers.py):
# resample the layer's input, or its output (bilinear, align_corners False / True), or replicate-pad
# the output. The default is the one that leaked least in the probe (docs/PROBE.md).
NONE_RESAMPLE = ('input', 'output', 'output-corners', 'replicate')
DEFAULT_RESAMPLE = 'output-corners'

# How the batch canvas outside each image is filled (harness/patch/canvas.py), and the input policy of
# each padding mode (README, "Padding modes"; patch_report.json `input.canvas`).
CANVAS_RULES = ('zeros', 'replicate', 'reflect', 'circular')
INPUT_CANVAS = dict(zeros='zeros', reflect='reflect', replicate='replicate', circular='circular',
                    none='replicate', partial='replicate')
