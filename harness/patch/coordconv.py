"""CoordConv injection (Liu et al. 2018; SOLO, Wang et al. 2020): explicit coordinates for chosen convs.

An injected conv keeps its `weight` / `bias` and gains `coord_weight`, a zero-initialised kernel over
the coordinate channels (x and y in [-1, 1] across the conv's input, as mmdet's
`generate_coordinate`, and optionally r = sqrt(x² + y²)). Its output is the stock output plus the
convolution of the coordinate channels, which equals one conv over the concatenated input; with the
coordinate kernel at zero the model is bit-identical to the stock one and stock checkpoints load with
only `coord_weight` keys missing.

On full-image feature maps (sites under backbone, neck, decode_head, auxiliary_head) of a model with a
backbone, x and y span each image's own region of the padded batch canvas, not the canvas
(`image_regions`): otherwise a pixel's coordinates would depend on the sizes of its batch-mates.
"""

import difflib

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError
from .border_layers import BorderMixin, pad_amounts
from .image_regions import ImageRegions, region_coordinates
from .modules import matches, rebuild_as, replace_module

# Named sites: each a list of module-name globs; a preset applies to the models where one matches.
PRESETS = {
    'mask_head_first': ['roi_head.mask_head.convs.0.conv'],  # Mask R-CNN FCN mask head, first conv
    # ResNet stem / ResNetV1c deep stem / MiT's first patch embedding (SegFormer) / ConvNeXt's 4x4 stem
    'backbone_stem': [
        'backbone.conv1',
        'backbone.stem.0',
        'backbone.layers.0.0.projection',
        'backbone.downsample_layers.0.0',
    ],
    'fpn_out': ['neck.fpn_convs.*.conv'],  # FPN 3x3 output convs
    # FCN / ASPP; SegFormer's head: the 1x1 conv of its stride-4 level
    'decode_head_first': ['decode_head.convs.0.conv', 'decode_head.bottleneck.conv'],
}
# Children whose convs see whole images (not RoIs): their coordinates follow each image's region.
FULL_IMAGE = ('backbone', 'neck', 'decode_head', 'auxiliary_head')


def coordinates(n, h, w, with_r, device, dtype):
    """(n, 2 or 3, h, w): x then y in [-1, 1] (mmdet's `generate_coordinate` order), then r."""
    y, x = torch.meshgrid(
        torch.linspace(-1, 1, h, device=device, dtype=dtype),
        torch.linspace(-1, 1, w, device=device, dtype=dtype),
        indexing='ij',
    )
    chans = [x, y] + ([torch.sqrt(x * x + y * y)] if with_r else [])
    return torch.stack(chans).unsqueeze(0).expand(n, -1, -1, -1)


class CoordMixin:
    """Adds conv(coordinates, coord_weight) with the layer's own stride, dilation and zero padding."""

    prefix = 'Coord'

    coord_regions = None  # an ImageRegions on full-image sites

    def forward(self, x):
        y = super().forward(x)
        coords = self.coordinate_map(x)
        extra = F.conv2d(
            F.pad(coords, self.coord_pad), self.coord_weight.to(x.dtype), stride=self.stride, dilation=self.dilation
        )
        return y + extra

    def coordinate_map(self, x):
        """The coordinate channels for input x: over each image's region of the canvas when known."""
        n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
        fractions = self.coord_regions.fractions(n) if self.coord_regions is not None else None
        if fractions is None:
            return coordinates(n, h, w, self.coord_with_r, x.device, x.dtype)
        return region_coordinates(fractions, h, w, self.coord_with_r, x.device, x.dtype)


def inject_coordconv(model: nn.Module, sites: list[str], with_r: bool = False) -> tuple[nn.Module, list[dict]]:
    """Give every conv matched by `sites` (preset names or module-name globs) coordinate channels."""
    if isinstance(sites, str):
        sites = [sites]
    convs = {n: m for n, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    chosen = []
    for site in sites:
        globs = PRESETS.get(site, [site])
        hits = [n for n in convs if matches(n, globs)]  # a ConvModule's name selects its `.conv`
        if not hits:
            close = difflib.get_close_matches(site, list(convs), n=5, cutoff=0.3)
            raise ConfigError(
                f'coordconv.sites: {site!r} matches no conv of {type(model).__name__}; expected a preset '
                f'({", ".join(PRESETS)}) or a glob over conv names; closest names: {", ".join(close) or "(none)"}'
            )
        chosen += [n for n in hits if n not in chosen]
    report = []
    regions = None
    if isinstance(getattr(model, 'backbone', None), nn.Module) and any(n.split('.')[0] in FULL_IMAGE for n in chosen):
        regions = ImageRegions()
        regions.install(model)
    for name in chosen:
        conv = convs[name]
        if conv.groups != 1:
            raise ConfigError(
                f'coordconv.sites: {name} is a grouped conv (groups={conv.groups}); expected a conv with groups=1'
            )
        # A border-patched conv keeps its original amounts in border_pad; coordinates are zero-padded
        # by those amounts, as the concatenated channels would be in a stock CoordConv.
        pad = conv.border_pad if isinstance(conv, BorderMixin) else pad_amounts(conv)
        n_coord = 3 if with_r else 2
        full_image = regions is not None and name.split('.')[0] in FULL_IMAGE
        new = rebuild_as(
            conv, CoordMixin, coord_with_r=with_r, coord_pad=pad, coord_regions=regions if full_image else None
        )
        new.coord_weight = nn.Parameter(conv.weight.new_zeros(conv.out_channels, n_coord, *conv.kernel_size))
        model = replace_module(model, name, new)
        report.append(
            dict(
                name=name,
                type=type(conv).__name__,
                coord_channels=n_coord,
                coordinates='per-image region' if full_image else 'whole input',
            )
        )
    return model, report
