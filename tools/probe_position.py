"""Probe how much absolute position a backbone's features encode (PosENet read-out, Islam et al. 2020).

Input: a config (random-init backbone unless --checkpoint) or a trained run dir work_dirs/<grid>/<run>/
(its config.py and last_checkpoint). A single unpadded 3x3 conv is trained on the frozen backbone's
multi-level features to draw five position maps (H, V, G, HS, VS) and tested on held-out images; the
same read-out on raw pixels is the "no backbone" control. Defaults (the same as a grid's `probe: true`):
the config's own val images at the size it trains at, seed 0. See harness/diagnose/ and docs/PROBE.md.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

EPILOG = """examples:
  python tools/probe_position.py configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py --padding circular
  python tools/probe_position.py work_dirs/tiny_position/zeros_seed0 --out probe.json
  python tools/probe_position.py CONFIG --checkpoint model.pth --images synthetic my_photos/ --size 128 128 \\
      --seeds 0 1 2

inputs (--images, one or more, in this order): val = the config's own evaluation images (test_dataloader,
else val_dataloader; at most --max-images, drawn with the seed); synthetic = the paper's black, white and
noise images (plus constant greys for training); DIR = jpg / png images under DIR. Natural images are
split 3:1 into read-out training and test images. Everything is resized to --size (default: the size the
config trains at).
"""


def parse_args(argv=None):
    import harness.engine.register  # noqa: F401  (first: registers modules and silences import-time noise)

    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('source', metavar='CONFIG_OR_RUN_DIR', help='config file, or a run dir with config.py')
    parser.add_argument(
        '--padding',
        metavar='MODE',
        help='padding mode for the backbone (zeros, none, reflect, replicate, circular, partial); '
        "default: the config's / run's own",
    )
    parser.add_argument(
        '--resample',
        metavar='RULE',
        help="with --padding none: how a valid layer's output gets back to size (input, output, "
        'output-corners, replicate; default: the harness default, see docs/PROBE.md)',
    )
    parser.add_argument(
        '--scope',
        metavar='SCOPE',
        nargs='+',
        help='where --padding applies (default backbone): a scope preset (e.g. mixffn, patch_embed, '
        'dwconv) or module-name globs',
    )
    parser.add_argument(
        '--checkpoint', metavar='PTH', help='weights (default: random init; for a run dir, its last_checkpoint)'
    )
    parser.add_argument(
        '--images',
        nargs='+',
        metavar='SOURCE',
        default=None,
        help='val (default), synthetic, and / or folders of jpg / png images',
    )
    parser.add_argument(
        '--max-images', type=int, default=None, metavar='N', help='at most N natural images per source (default 32)'
    )
    parser.add_argument('--out', metavar='JSON', help='write the results here (atomically)')
    parser.add_argument('--iters', type=int, default=200, help='read-out training steps (default 200)')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=None,
        metavar=('H', 'W'),
        help='input size (default: the size the config trains at, e.g. its crop or Resize scale)',
    )
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument(
        '--seed', type=int, default=None, help='random init, noise images, image draw and split, read-out (default 0)'
    )
    seeds.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        default=None,
        metavar='SEED',
        help='one probe per seed; the results are their mean (per seed in per_seed)',
    )
    parser.add_argument('--kernel', type=int, default=3, help='read-out kernel size (default 3)')
    parser.add_argument('--readout-padding', type=int, default=0, help='read-out zero padding (default 0: none)')
    parser.add_argument('--lr', type=float, default=1e-3, help='read-out Adam learning rate (default 1e-3)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from harness.run.probe import run_probe

    return run_probe(
        args.source,
        padding=args.padding,
        resample=args.resample,
        checkpoint=args.checkpoint,
        images=args.images,
        max_images=args.max_images,
        out=args.out,
        iters=args.iters,
        size=args.size,
        seeds=args.seeds or ([args.seed] if args.seed is not None else None),
        kernel=args.kernel,
        readout_padding=args.readout_padding,
        lr=args.lr,
        scope=args.scope[0] if args.scope and len(args.scope) == 1 else args.scope,
    )


if __name__ == '__main__':
    from harness.run.cli import run_and_exit

    run_and_exit(main)
