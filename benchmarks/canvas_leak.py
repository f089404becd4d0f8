"""How much position a mixed-size batch of constant images leaks through a model's own data preprocessor.

A measurement, not a timing (tools/benchmark.py does not run it): the batch goes through the model's
real `data_preprocessor` (mmdet pads it to the largest image and a multiple of 32) and its backbone +
neck, per padding mode, once with the stock zero canvas (`padding.canvas='zeros'`: what every mode got
before the canvas followed the mode) and once with the mode's own input policy
(harness/patch/canvas.py). The number is the normalised spatial std of the features (per image:
spatial std of each channel averaged over channels, over the image's RMS), worst level, worst image,
worst grey; 0 means no position signal. Random init (seed 0), CPU.

    python -m benchmarks.canvas_leak [CONFIG] [--sizes 97x123 115x83]
"""

import argparse
import copy

import torch

from harness.testing import constant_batch, feature_levels, spatial_std

GREYS = (0, 128, 255)


@torch.no_grad()
def leak(model, scope, sizes):
    """(worst normalised spatial std over levels, images and greys, canvas h x w)."""
    worst, canvas = 0.0, None
    for grey in GREYS:
        # mmseg stacks (and pads) a batch only in training mode; mmdet pads in both
        x = model.data_preprocessor(constant_batch(scope, sizes, grey), scope == 'mmseg')['inputs']
        canvas = tuple(x.shape[-2:])
        worst = max(worst, *(spatial_std(f) for _, f in feature_levels(model, x)))
    return worst, canvas


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='?', default='configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py')
    parser.add_argument('--sizes', nargs='+', default=['97x123', '115x83'], help='image sizes HxW of the batch')
    parser.add_argument('--scope', default='all', help='padding scope (default all)')
    args = parser.parse_args(argv)
    from mmengine.registry import MODELS, init_default_scope

    from harness.configs import quiet_logs, read_config
    from harness.diagnose.loading import drop_pretrained
    from harness.patch.model import harness_model
    from harness.patch.modes import INPUT_CANVAS, PADDING_MODES

    cfg = read_config(args.config)
    scope = cfg.get('default_scope') or 'mmdet'
    init_default_scope(scope)
    sizes = [tuple(int(v) for v in s.split('x')) for s in args.sizes]
    base = copy.deepcopy(cfg.model)
    drop_pretrained(base)
    print(
        f'{args.config}: batch of constant images {", ".join(args.sizes)}, greys {GREYS}, scope {args.scope}, '
        f'random init seed 0, {torch.get_num_threads()} CPU threads'
    )
    print(f'{"mode":<10}{"input policy":>14}{"before (zero canvas)":>22}{"after":>12}  canvas')
    for mode in PADDING_MODES:
        row = []
        for canvas in ('zeros', INPUT_CANVAS[mode]):
            model_cfg = harness_model(copy.deepcopy(base), padding=dict(mode=mode, scope=args.scope, canvas=canvas))
            torch.manual_seed(0)
            with quiet_logs():
                model = MODELS.build(model_cfg)
                model.init_weights()
            row.append(leak(model.eval(), scope, sizes))
        print(f'{mode:<10}{INPUT_CANVAS[mode]:>14}{row[0][0]:>22.3g}{row[1][0]:>12.3g}  {row[1][1][0]}x{row[1][1][1]}')


if __name__ == '__main__':
    main()
