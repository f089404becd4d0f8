"""Probe how much absolute position a backbone's features encode (PosENet read-out, Islam et al. 2020).

Input: a config (random-init backbone unless --checkpoint) or a trained run dir work_dirs/<grid>/<run>/
(its config.py and last_checkpoint). A single unpadded 3x3 conv is trained on the frozen backbone's
multi-level features to draw five position maps (H, V, G, HS, VS) and tested on held-out images; the
same read-out on raw pixels is the "no backbone" control. See harness/probe.py and docs/PROBE.md.
"""
import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TINY_IMAGES = 'data/tiny_coco/val2017'
EPILOG = f'''examples:
  python tools/probe_position.py configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py --padding circular
  python tools/probe_position.py work_dirs/tiny_position/zeros_seed0 --out probe.json
  python tools/probe_position.py CONFIG --checkpoint model.pth --images my_photos/ --size 128 128 --seed 1

inputs: the paper's black, white and noise images (plus constant greys for training), and natural images
from --images DIR; without --images, {TINY_IMAGES} is used too when it exists.
'''


def parse_args(argv=None):
    import harness  # noqa: F401  (first: registers modules and silences import-time noise)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('source', metavar='CONFIG_OR_RUN_DIR', help='config file, or a run dir with config.py')
    parser.add_argument('--padding', metavar='MODE',
                        help='padding mode for the backbone (zeros, none, reflect, replicate, circular, partial); '
                             "default: the config's / run's own")
    parser.add_argument('--checkpoint', metavar='PTH',
                        help="weights (default: random init; for a run dir, its last_checkpoint)")
    parser.add_argument('--images', metavar='DIR', help='folder of natural jpg / png images (split 3:1 train / test)')
    parser.add_argument('--out', metavar='JSON', help='write the results here (atomically)')
    parser.add_argument('--iters', type=int, default=200, help='read-out training steps (default 200)')
    parser.add_argument('--size', type=int, nargs=2, default=(96, 96), metavar=('H', 'W'),
                        help='input size (default 96 96: the smallest square where padding none fits ResNet-18)')
    parser.add_argument('--seed', type=int, default=0, help='random init, noise images, split and read-out (default 0)')
    parser.add_argument('--kernel', type=int, default=3, help='read-out kernel size (default 3)')
    parser.add_argument('--readout-padding', type=int, default=0, help='read-out zero padding (default 0: none)')
    parser.add_argument('--lr', type=float, default=1e-3, help='read-out Adam learning rate (default 1e-3)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from harness.errors import ConfigError
    from harness.run.jsonio import write_json
    from harness.diagnose import format_table, load_backbone, natural_inputs, probe_backbone, synthetic_inputs
    from harness.run.environment import hardware

    if args.iters < 1 or min(args.size) < 8 or args.kernel < 1 or args.readout_padding < 0:
        raise ConfigError(f'--iters {args.iters}, --size {args.size}, --kernel {args.kernel}, --readout-padding '
                          f'{args.readout_padding}: expected iters >= 1, sides >= 8, kernel >= 1, padding >= 0')
    start = time.time()
    backbone, info = load_backbone(args.source, padding=args.padding, checkpoint=args.checkpoint, seed=args.seed)
    size = tuple(args.size)
    train, test = synthetic_inputs(size, args.seed)
    folder = args.images or (TINY_IMAGES if os.path.isdir(TINY_IMAGES) else None)
    if folder:
        more_train, more_test = natural_inputs(folder, size, args.seed, bgr=info['bgr'])
        train, test = train + more_train, test + more_test
    result = probe_backbone(backbone, train, test, info['mean'], info['std'], iters=args.iters, kernel=args.kernel,
                            padding=args.readout_padding, lr=args.lr, seed=args.seed)
    out = dict(metrics=result['metrics'], raw_pixels=result['raw_pixels'], config=info['config'],
               padding=info['padding'], checkpoint=info['checkpoint'],
               inputs=dict(train=_count(train), test=_count(test), images_dir=folder, size=list(size),
                           normalize=dict(mean=info['mean'], std=info['std'], bgr=info['bgr'])),
               iters=args.iters, seed=args.seed,
               readout=dict(kernel=args.kernel, padding=args.readout_padding, lr=args.lr,
                            batch_size=result['batch_size'],
                            feature_grid=result['grid'], output_size=result['out_size'], channels=result['channels']),
               spc='Spearman per held-out image, averaged over images (constant prediction: 0)',
               by_input=result['by_input'], raw_pixels_by_input=result['raw_by_input'],
               hardware=hardware(), python=platform.python_version(), seconds=round(time.time() - start, 1))
    print(f"probe: {info['config']}  padding {info['padding']}  checkpoint {info['checkpoint'] or '(random init)'}  "
          f"size {size[0]}x{size[1]}  seed {args.seed}  {args.iters} steps  {out['seconds']} s")
    print(format_table(result))
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        write_json(args.out, out)
        print(f'wrote {args.out}')
    return out


def _count(images):
    """{kind: number of images}, in first-seen order."""
    kinds = [kind for kind, _ in images]
    return {k: kinds.count(k) for k in dict.fromkeys(kinds)}


if __name__ == '__main__':
    from harness.run.cli import run_cli
    run_cli(main)
