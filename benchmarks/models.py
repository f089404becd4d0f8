"""The models tools/benchmark.py times: the tests' small real R-18 models, one fixed train step.

The harness claims its patches cost (almost) nothing: a `zeros`-patched model *is* the stock model, the
other padding modes add one pad / resample / re-weighting per layer, CoordConv one small conv. On a
shared machine absolute times drift by tens of percent, so every claim is a ratio of two models timed
in the same *round* (one step of each model, back to back, in an order rotated every round) and the
report gives the median of the per-round ratios: slow drift multiplies both sides and cancels.

Models are the R-18 variants of the shipped configs that the tests build (harness/testing.py, the one
definition of them and of their batches): random init, nothing downloaded. Timing itself is in `timing`.
"""

import copy

import torch

from harness.patch.convert import classify, scope_globs
from harness.patch.modules import matches
from harness.testing import batch, build

# family -> label, test model, registry scope, overrides of the test model, padding scope of the mode variants.
# DeepLabV3 is patched in its backbone only: ASPP's dilated branches cannot be valid convs at small sizes.
FAMILIES = {
    'mask-rcnn': dict(
        label='Mask R-CNN R-18-FPN',
        model='mask_rcnn_r18',
        scope='mmdet',
        padding_scope='all',
        # Positives = the ground-truth boxes (added as proposals, IoU 1): a random-init RPN proposes
        # differently under each padding, which changed the mask head's RoIs by up to 30% between
        # variants (zeros 72, partial 95 per step); with this every variant's RoI heads do the same work.
        overrides=dict(train_cfg=dict(rcnn=dict(assigner=dict(pos_iou_thr=0.99, min_pos_iou=0.99)))),
    ),
    'deeplabv3': dict(
        label='DeepLabV3 R-18-D8', model='deeplabv3_r18', scope='mmseg', padding_scope='backbone', overrides={}
    ),
}
PATCHES = {'coordconv': dict(coordconv=dict(sites=['mask_head_first']))}


def variant_patches(family, variant):
    """HarnessModel arguments of a variant: 'stock', 'stock-copy' or 'torch-reflect' (None: no
    HarnessModel), a padding mode, 'coordconv'."""
    if variant in ('stock', 'stock-copy', 'torch-reflect'):
        return None
    if variant in PATCHES:
        return copy.deepcopy(PATCHES[variant])
    return dict(padding=dict(mode=variant, scope=FAMILIES[family]['padding_scope']))


def build_model(family, variant, seed=0, device='cpu'):
    """Model `family` as `variant`, built after `torch.manual_seed(seed)` (same seed, same weights)."""
    spec = FAMILIES[family]
    model = build(spec['model'], seed, spec['overrides'], **(variant_patches(family, variant) or {}))
    if variant == 'torch-reflect':
        torch_reflect(model, FAMILIES[family]['padding_scope'])
    return model.to(device)


def torch_reflect(model, scope):
    """PyTorch's own `padding_mode='reflect'` on every padded conv the harness would convert in `scope`
    (pools keep their zero padding: they have no padding mode): what reflect padding costs without us."""
    globs = [g for _, item_globs in scope_globs(model, scope) for g in item_globs]
    for name, module in model.named_modules():
        if name and classify(module) == 'conv' and matches(name, globs):
            module.padding_mode = 'reflect'


def make_batch(family, h, w, n=2, seed=0, objects=3):
    """A raw batch (dict(inputs=[uint8 CHW], data_samples=[...])) with ground truth, as a dataloader gives.

    Detectors get `objects` random boxes with masks per image; FAMILIES makes exactly those boxes the
    RoI heads' positives, so the mask head sees `objects` RoIs per image (with 3, as in the tests, it
    saw 6 per step and any cost there vanished; 30 is the tens of positives per image of real training).
    """
    return batch(FAMILIES[family]['model'], h, w, n, seed, objects)


def count_mask_rois(model):
    """A list that receives the number of RoIs entering the mask head at each forward (none: no mask head)."""
    counts = []
    head = getattr(getattr(model, 'roi_head', None), 'mask_head', None)
    if head is not None:
        head.register_forward_hook(lambda module, args, output: counts.append(int(args[0].shape[0])))
    return counts


class TrainStep:
    """One training step on a fixed batch: data_preprocessor + loss + backward + SGD step.

    The RNG is reseeded before every step, so proposal / RoI sampling is the same at every call and two
    identical models do identical work. The learning rate is small so that the weights (and with them the
    number of positive RoIs) barely move over a benchmark, while the optimizer still does its full update.
    """

    def __init__(self, model, data, device='cpu', lr=1e-4, seed=0):
        self.model, self.data, self.device, self.seed = model.train(), data, device, seed
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)

    def __call__(self):
        torch.manual_seed(self.seed)
        self.optimizer.zero_grad(set_to_none=True)
        data = self.model.data_preprocessor(self.data, training=True)
        losses = self.model(**data, mode='loss')
        loss, _ = self.model.parse_losses(losses)
        if not torch.isfinite(loss):
            raise FloatingPointError(f'non-finite loss {loss.item()} in the benchmark train step')
        loss.backward()
        self.optimizer.step()
