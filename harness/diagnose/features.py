"""A model's feature levels and how much they vary in space: what the leak audit, the canvas measurement
(benchmarks/canvas_leak.py) and the tests read a constant image's position signal from, written once."""

from typing import Any

import torch


def feature_levels(model: Any, x: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """[(name, tensor)] of every backbone level, then every neck level, for the batch tensor `x`."""
    feats = model.backbone(x)
    feats = [feats] if torch.is_tensor(feats) else list(feats)
    out = [(f'backbone.{i}', f) for i, f in enumerate(feats)]
    if getattr(model, 'neck', None) is not None:
        neck = model.neck(tuple(feats))
        neck = [neck] if torch.is_tensor(neck) else list(neck)
        out += [(f'neck.{i}', f) for i, f in enumerate(neck)]
    return out


def spatial_std(f: torch.Tensor) -> float:
    """Normalised spatial std of features f (n, c, h, w): per image, the spatial std of each channel
    averaged over channels, over the image's RMS over channels and space; the worst image. 0: no position
    signal."""
    f = f.double()
    std = f.std((-2, -1), unbiased=False).mean(1)
    rms = f.pow(2).mean((1, 2, 3)).sqrt()
    return float((std / rms.clamp(min=1e-12)).max())
