"""Where each image of a batch lies on the padded batch canvas, for CoordConv on full-image feature maps.

mmdet's / mmseg's data preprocessors pad every image of a batch to one canvas (the largest image, then a
multiple of 32 or a fixed crop size). A CoordConv in the backbone, the neck or a segmentation decode
head that took x / y in [-1, 1] across the whole canvas would give a pixel coordinates that depend on
its batch-mates. `ImageRegions` records, for each model forward that has data samples, every image's
`img_shape` as a fraction of the canvas; a CoordConv then spans [-1, 1] over its image's own region
(extrapolating linearly into the canvas padding), at whatever resolution its feature map has.

It applies only while the backbone runs on that very canvas (same batch size and spatial size): a
direct `model.backbone(x)` call, mmseg's sliding-window crops, or RoI features (Mask R-CNN's mask
head) keep coordinates over their whole input, as stock CoordConv does. When every image fills the
canvas (one image, or all the same padded size) the coordinates are exactly the stock ones.
"""

import torch


class ImageRegions:
    """Hook target: the model's forward records regions, the backbone's forward arms them."""

    def __init__(self):
        self.pending = None  # (n, canvas (H, W), [(fy, fx)]) of the running model forward
        self.active = None  # [(fy, fx)] while the backbone runs on that canvas, else None

    def install(self, model):
        model.register_forward_pre_hook(self._model_start, with_kwargs=True)
        model.register_forward_hook(self._model_end, always_call=True)
        model.backbone.register_forward_pre_hook(self._backbone_start)

    def _model_start(self, module, args, kwargs):
        inputs = kwargs.get('inputs', args[0] if args else None)
        samples = kwargs.get('data_samples', args[1] if len(args) > 1 else None)
        self.pending = self.active = None
        if not torch.is_tensor(inputs) or inputs.dim() != 4 or not samples or len(samples) != inputs.shape[0]:
            return
        canvas = tuple(inputs.shape[-2:])
        shapes = [getattr(s, 'metainfo', {}).get('img_shape') for s in samples]
        if any(s is None for s in shapes):
            return
        fractions = [(min(h / canvas[0], 1.0), min(w / canvas[1], 1.0)) for h, w in (s[:2] for s in shapes)]
        self.pending = (inputs.shape[0], canvas, fractions)

    def _model_end(self, *_):
        self.pending = self.active = None

    def _backbone_start(self, module, args):
        x = args[0] if args else None
        p = self.pending
        on_canvas = p is not None and torch.is_tensor(x) and x.shape[0] == p[0] and tuple(x.shape[-2:]) == p[1]
        self.active = p[2] if on_canvas and any(f != (1.0, 1.0) for f in p[2]) else None

    def fractions(self, n):
        """[(fy, fx)] per image for a feature map of batch size n, or None (coordinates over the whole map)."""
        return self.active if self.active is not None and len(self.active) == n else None


def region_coordinates(fractions, h, w, with_r, device, dtype):
    """(n, 2 or 3, h, w): per image, x and y run from -1 at the first pixel to 1 at the last pixel of its
    region (fraction of the map), continuing linearly beyond it; then r = sqrt(x² + y²)."""
    maps = []
    for fy, fx in fractions:
        ys = _axis(h, h * fy, device)
        xs = _axis(w, w * fx, device)
        y, x = torch.meshgrid(ys, xs, indexing='ij')
        maps.append(torch.stack([x, y] + ([torch.sqrt(x * x + y * y)] if with_r else [])))
    return torch.stack(maps).to(dtype)


def _axis(length, region, device):
    if region >= length:  # the image fills the map: the stock coordinates
        return torch.linspace(-1, 1, length, device=device, dtype=torch.float32)
    steps = torch.arange(length, device=device, dtype=torch.float32)
    return -1 + 2 * steps / max(region - 1, 1.0)  # a region of one pixel or less: slope 2 per pixel
