"""Preflight: one forward pass of each variant's model at its training input size, on CPU, before any run.

Building a model shows that its patches match layers; only a forward pass shows that every patched layer
fits the input it gets: padding `none` on a conv whose kernel is wider than its feature map (ASPP's
dilated branches on small crops), reflect padding larger than its input. The grid runner does this
once per variant, before anything trains: one image of the training size (`input_size`) through the
model's own data_preprocessor, in tensor mode, plus the auxiliary heads that mmseg's tensor mode
leaves out, under `torch.no_grad`, with random weights. It costs seconds on a CPU; a layer that does
not fit stops the grid with one `error:` line naming it, before a GPU hour is spent.
"""

import logging
import re
import warnings

import torch

from ..configs import quiet_logs
from ..data.input_size import train_input_size
from ..errors import ConfigError, HarnessError, one_line

# An op without a CPU kernel (mmcv's RoIPool, CARAFE, ...) says so in one of these ways: the model may
# still train on GPUs, so the check is skipped with a note instead of refusing the grid.
_NO_CPU_KERNEL = re.compile(
    r'(?i)(\bcpu\b.*\bnot (found|implemented|supported)\b|'
    r'\bnot (implemented|supported)\b.*\bcpu\b|only supports? (cuda|gpu))'
)


def forward_check(name, model, cfg):
    """Run one image of `cfg`'s training input size through `model` (built from `cfg`, on CPU).

    Returns None when it ran, or a note saying why it was skipped; raises ConfigError naming run `name`,
    the size and, for a padding layer that does not fit, the layer.
    """
    size, how = train_input_size(cfg)
    if size is None:
        return f'{name}: no preflight forward pass: cannot tell the training input size ({how})'
    where = f'{name}: one forward pass at the training input size {size[0]}x{size[1]} ({how}) on CPU'
    from mmengine.model import revert_sync_batchnorm

    model = revert_sync_batchnorm(model).cpu().eval()  # SyncBN has no CPU kernel; same shapes as BN
    captured = {}
    hooks = []
    aux = _auxiliary_heads(model)
    if aux:  # mmseg's tensor mode runs the decode head only: feed the auxiliary heads what it got
        feats_from = model.neck if getattr(model, 'with_neck', False) else model.backbone
        hooks.append(feats_from.register_forward_hook(lambda m, args, out: captured.setdefault('x', out)))
    try:
        with torch.no_grad(), warnings.catch_warnings(), quiet_logs(logging.ERROR):
            warnings.simplefilter('ignore')  # the run's own log shows them when it trains
            batch = model.data_preprocessor(_one_image(cfg, size), False)
            model(**batch, mode='tensor')
            for head in aux:
                head(captured['x'])
    except HarnessError as e:
        raise ConfigError(
            f'{where}: {one_line(e)}; expected every patched layer to fit its input at the training size'
        ) from None
    except Exception as e:  # any other failure of the model itself; its first line names it
        text = one_line(str(e).splitlines()[0] if str(e) else '')
        if _NO_CPU_KERNEL.search(str(e)):
            return f'{name}: preflight forward pass skipped: an op has no CPU kernel ({type(e).__name__}: {text})'
        raise ConfigError(
            f'{where}: fails ({type(e).__name__}: {text}); expected a model that runs on one image of its training size'
        ) from e
    finally:
        for h in hooks:
            h.remove()
    return None


def _auxiliary_heads(model):
    heads = getattr(model, 'auxiliary_head', None) if getattr(model, 'with_auxiliary_head', False) else None
    if heads is None:
        return []
    return list(heads) if isinstance(heads, torch.nn.ModuleList) else [heads]


def _one_image(cfg, size):
    """dict(inputs, data_samples) as a dataloader gives it: one seeded noise image (uint8, 3 x h x w)."""
    h, w = size
    image = torch.randint(0, 256, (3, h, w), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    meta = dict(
        img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), scale_factor=(1.0, 1.0), flip=False, flip_direction=None
    )
    if cfg.get('default_scope') == 'mmseg':
        from mmseg.structures import SegDataSample

        sample = SegDataSample(metainfo=meta)
    else:
        from mmdet.structures import DetDataSample

        sample = DetDataSample(metainfo=meta)
    return dict(inputs=[image], data_samples=[sample])
