"""Memory of `partial` padding's ratio cache over many input sizes: before and after issue 9.

Before, each partial conv cached its full 2-D ratio map (window size / real pixels) per input size,
device and dtype, for the whole run: COCO's hundreds of canvas sizes made that grow without bound.
Now (harness/patch/border_layers.py) it caches 1-D row / column ratios, a bounded number per layer, and
builds the 2-D map as their outer product. `two_d_ratio` below is the old method, kept only as the
"before" side of this measurement; both sides run the same model on the same sizes, interleaved, and
their outputs must agree.
"""

import random
import time

import torch
import torch.nn.functional as F

from harness.patch import BorderMixin


def two_d_ratio(self, x):
    """The pre-issue-9 `BorderMixin._partial_ratio`: a 2-D map per (H, W, device, dtype), never dropped."""
    key = (tuple(x.shape[-2:]), x.device, x.dtype)
    cache = self.__dict__.setdefault('_partial_cache_2d', {})
    if key not in cache:
        (kh, kw), stride, dilation, _ = self._geometry()
        ones = torch.ones(1, 1, *x.shape[-2:], device=x.device, dtype=torch.float32)
        count = F.conv2d(
            F.pad(ones, self.border_pad), torch.ones(1, 1, kh, kw, device=x.device), stride=stride, dilation=dilation
        )
        cache[key] = (kh * kw / count.clamp(min=1)).to(x.dtype)
    return cache[key]


def use_two_d_cache(model):
    """Give every partial conv of `model` the old 2-D cache (an instance attribute shadows the method)."""
    layers = [m for m in model.modules() if isinstance(m, BorderMixin) and m.border_mode == 'partial']
    for m in layers:
        m._partial_ratio = two_d_ratio.__get__(m)
    return len(layers)


def cache_bytes(model):
    """Bytes held by the ratio caches (old 2-D and new 1-D) of every layer of `model`."""
    total = 0
    for m in model.modules():
        for key in ('_partial_cache', '_partial_cache_2d'):
            total += sum(t.numel() * t.element_size() for t in m.__dict__.get(key, {}).values())
    return total


def distinct_sizes(n, low=64, high=192, seed=0):
    """`n` distinct (h, w) pairs with sides in [low, high], in a seeded random order."""
    rng = random.Random(seed)
    pairs = [(h, w) for h in range(low, high + 1) for w in range(low, high + 1)]
    return rng.sample(pairs, n)


@torch.no_grad()
def measure(before, after, sizes, device='cpu'):
    """Backbone + neck of both models on every size, interleaved (order alternating per size).

    Returns bytes held by the caches (exact, any device), on CUDA the allocator's growth per side (memory
    still allocated after each forward, minus the returned features), seconds per side, and the largest
    relative difference between the two sides' features.
    """
    use_two_d_cache(before)
    sides = {'2d': before.eval(), '1d': after.eval()}
    cuda = torch.device(device).type == 'cuda'
    out = dict(
        sizes=len(sizes),
        max_rel_diff=0.0,
        seconds=dict.fromkeys(sides, 0.0),
        cuda_growth=dict.fromkeys(sides, 0) if cuda else None,
    )
    for i, (h, w) in enumerate(sizes):
        x = torch.randn(1, 3, h, w, device=device)
        feats = {}
        for name in ('2d', '1d') if i % 2 == 0 else ('1d', '2d'):
            if cuda:
                torch.cuda.synchronize(device)
                held = torch.cuda.memory_allocated(device)
            t = time.perf_counter()
            feats[name] = _features(sides[name], x)
            if cuda:
                torch.cuda.synchronize(device)
                out['cuda_growth'][name] += (
                    torch.cuda.memory_allocated(device) - held - sum(f.numel() * f.element_size() for f in feats[name])
                )
            out['seconds'][name] += time.perf_counter() - t
        diff = max(
            ((a - b).abs().max() / b.abs().max().clamp(min=1e-12)).item() for a, b in zip(feats['2d'], feats['1d'])
        )
        out['max_rel_diff'] = max(out['max_rel_diff'], diff)
        del feats
    out['cache_bytes'] = {name: cache_bytes(model) for name, model in sides.items()}
    out['layers'] = sum(isinstance(m, BorderMixin) and m.border_mode == 'partial' for m in after.modules())
    return out


def _features(model, x):
    feats = list(model.backbone(x))
    if getattr(model, 'with_neck', False):
        feats += list(model.neck(tuple(feats)))
    return feats
