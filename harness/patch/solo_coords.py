"""The "without coordinates" baseline of the SOLO paper's CoordConv ablation, derived in code.

mmdet's SOLO heads concatenate coordinate channels in `forward` and size their first mask conv for
them (mmdet's own configs would write `in_channels + 2`). Instead of forking `forward`, the first conv
of each coordinate branch is rebuilt without the coordinate input channels and made to ignore them:
the model is then exactly a SOLO without coordinates, with 2 (1 for the decoupled x/y branches) fewer
input channels in that conv.
"""

import torch.nn as nn

from ..errors import ConfigError
from .modules import rebuild_as, replace_module

# head class name -> [(conv path inside the head, number of trailing coordinate channels)]
_COORD_CONVS = {
    'SOLOHead': [('mask_convs.0.conv', 2)],
    'DecoupledSOLOHead': [('mask_convs_x.0.conv', 1), ('mask_convs_y.0.conv', 1)],
    'DecoupledSOLOLightHead': [('mask_convs.0.conv', 2)],
    'SOLOV2Head': [('kernel_convs.0.conv', 2)],
    'MaskFeatModule': [('convs_all_levels.{last}.conv0.conv', 2)],  # SOLOv2's mask feature head
}


class DropCoordMixin:
    """Ignores the last `coord_dropped` input channels (the coordinates the head concatenates)."""

    prefix = 'NoCoord'

    def forward(self, x):
        return super().forward(x[:, : -self.coord_dropped])


def remove_solo_coords(model: nn.Module) -> list[dict]:
    """Remove the coordinate inputs of every SOLO-family head in `model`. Returns the report."""
    report = []
    for head_name, head in list(model.named_modules()):
        for path, n in _COORD_CONVS.get(type(head).__name__, []):
            path = path.format(last=len(getattr(head, 'convs_all_levels', [])) - 1)
            conv = head.get_submodule(path)
            new = rebuild_as(conv, DropCoordMixin, coord_dropped=n, in_channels=conv.in_channels - n)
            new.weight = nn.Parameter(conv.weight.detach()[:, :-n].clone())
            replace_module(head, path, new)
            report.append(dict(name=f'{head_name}.{path}', in_channels=[conv.in_channels, new.in_channels]))
    if not report:
        raise ConfigError(
            f'solo_coords: false needs a SOLO-family head ({", ".join(_COORD_CONVS)}); {type(model).__name__} has none'
        )
    return report
