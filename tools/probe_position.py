"""Probe how much absolute position a backbone's features encode (PosENet read-out, Islam et al. 2020).

Input: a config (random-init backbone unless --checkpoint) or a trained run dir work_dirs/<grid>/<run>/
(its config.py and last_checkpoint). A single unpadded 3x3 conv is trained on the frozen backbone's
multi-level features to draw five position maps (H, V, G, HS, VS) and tested on held-out images; the
same read-out on raw pixels is the "no backbone" control. Defaults (the same as a grid's `probe: true`):
the config's own val images at the size it trains at, seed 0. See harness/diagnose/ and docs/PROBE.md.
"""
import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

EPILOG = '''examples:
  python tools/probe_position.py configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py --padding circular
  python tools/probe_position.py work_dirs/tiny_position/zeros_seed0 --out probe.json
  python tools/probe_position.py CONFIG --checkpoint model.pth --images synthetic my_photos/ --size 128 128 \\
      --seeds 0 1 2

inputs (--images, one or more, in this order): val = the config's own evaluation images (test_dataloader,
else val_dataloader; at most --max-images, drawn with the seed); synthetic = the paper's black, white and
noise images (plus constant greys for training); DIR = jpg / png images under DIR. Natural images are
split 3:1 into read-out training and test images. Everything is resized to --size (default: the size the
config trains at).
'''


def parse_args(argv=None):
    import harness  # noqa: F401  (first: registers modules and silences import-time noise)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('source', metavar='CONFIG_OR_RUN_DIR', help='config file, or a run dir with config.py')
    parser.add_argument('--padding', metavar='MODE',
                        help='padding mode for the backbone (zeros, none, reflect, replicate, circular, partial); '
                             "default: the config's / run's own")
    parser.add_argument('--resample', metavar='RULE',
                        help="with --padding none: how a valid layer's output gets back to size (input, output, "
                             "output-corners, replicate; default: the harness default, see docs/PROBE.md)")
    parser.add_argument('--scope', metavar='SCOPE', nargs='+',
                        help='where --padding applies (default backbone): a scope preset (e.g. mixffn, patch_embed, '
                             'dwconv) or module-name globs')
    parser.add_argument('--checkpoint', metavar='PTH',
                        help="weights (default: random init; for a run dir, its last_checkpoint)")
    parser.add_argument('--images', nargs='+', metavar='SOURCE', default=None,
                        help='val (default), synthetic, and / or folders of jpg / png images')
    parser.add_argument('--max-images', type=int, default=None, metavar='N',
                        help='at most N natural images per source (default 32)')
    parser.add_argument('--out', metavar='JSON', help='write the results here (atomically)')
    parser.add_argument('--iters', type=int, default=200, help='read-out training steps (default 200)')
    parser.add_argument('--size', type=int, nargs=2, default=None, metavar=('H', 'W'),
                        help="input size (default: the size the config trains at, e.g. its crop or Resize scale)")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument('--seed', type=int, default=None,
                       help='random init, noise images, image draw and split, read-out (default 0)')
    seeds.add_argument('--seeds', type=int, nargs='+', default=None, metavar='SEED',
                       help='one probe per seed; the results are their mean (per seed in per_seed)')
    parser.add_argument('--kernel', type=int, default=3, help='read-out kernel size (default 3)')
    parser.add_argument('--readout-padding', type=int, default=0, help='read-out zero padding (default 0: none)')
    parser.add_argument('--lr', type=float, default=1e-3, help='read-out Adam learning rate (default 1e-3)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from harness.errors import ConfigError
    from harness.run.config import read_config
    from harness.run.grid import PROBE_DEFAULTS
    from harness.run.jsonio import write_json
    from harness.diagnose import format_table, load_backbone, probe_backbone
    from harness.diagnose.probe_inputs import mean_over_seeds, probe_inputs, probe_size
    from harness.run.environment import hardware

    seeds = args.seeds or ([args.seed] if args.seed is not None else PROBE_DEFAULTS['seeds'])
    images = args.images or PROBE_DEFAULTS['images']
    max_images = args.max_images if args.max_images is not None else PROBE_DEFAULTS['max_images']
    if args.iters < 1 or args.kernel < 1 or args.readout_padding < 0 or max_images < 2 or min(seeds) < 0 or (
            args.size is not None and min(args.size) < 8):
        raise ConfigError(f'--iters {args.iters}, --size {args.size}, --kernel {args.kernel}, --readout-padding '
                          f'{args.readout_padding}, --max-images {max_images}, --seeds {seeds}: expected iters >= 1, '
                          'sides >= 8, kernel >= 1, padding >= 0, max images >= 2, seeds >= 0')
    start = time.time()

    def load(seed):
        scope = args.scope[0] if args.scope and len(args.scope) == 1 else args.scope
        return load_backbone(args.source, padding=args.padding, checkpoint=args.checkpoint, seed=seed,
                             resample=args.resample, scope=scope)

    backbone, info = load(seeds[0])
    cfg = read_config(info['config'])
    size, size_from = probe_size(cfg, args.size)
    runs = []
    for seed in seeds:
        if runs and info['checkpoint'] is None:  # random init: each seed its own weights
            backbone, info = load(seed)
        train, test, used = probe_inputs(images, cfg, size, seed, bgr=info['bgr'], max_images=max_images)
        result = probe_backbone(backbone, train, test, info['mean'], info['std'], iters=args.iters, kernel=args.kernel,
                                padding=args.readout_padding, lr=args.lr, seed=seed)
        runs.append((seed, result))
    results = [r for _, r in runs]
    result = dict(results[0], **{key: mean_over_seeds([r[key] for r in results])
                                 for key in ('metrics', 'raw_pixels', 'by_input', 'raw_by_input')})
    out = dict(metrics=result['metrics'], raw_pixels=result['raw_pixels'], config=info['config'],
               padding=info['padding'], scope=info.get('scope'), resample=info.get('resample'),
               checkpoint=info['checkpoint'],
               patch_note=info.get('patch_note') or None,
               inputs=dict(train=_count(train), test=_count(test), images=used, size=list(size), size_from=size_from,
                           max_images=max_images, normalize=dict(mean=info['mean'], std=info['std'], bgr=info['bgr'])),
               iters=args.iters, seed=seeds[0] if len(seeds) == 1 else None, seeds=list(seeds),
               readout=dict(kernel=args.kernel, padding=args.readout_padding, lr=args.lr,
                            batch_size=result['batch_size'],
                            feature_grid=result['grid'], output_size=result['out_size'], channels=result['channels']),
               spc='Spearman per held-out image, averaged over images (constant prediction: 0); with several '
                   'seeds, the mean of the seeds\' values (each seed in per_seed)',
               by_input=result['by_input'], raw_pixels_by_input=result['raw_by_input'],
               per_seed=[dict(seed=seed, metrics=r['metrics'], raw_pixels=r['raw_pixels']) for seed, r in runs],
               hardware=hardware(), python=platform.python_version(), seconds=round(time.time() - start, 1))
    print(f"probe: {info['config']}  padding {info['padding']}  scope {info.get('scope')}  "
          f"checkpoint {info['checkpoint'] or '(random init)'}  "
          f"size {size[0]}x{size[1]} ({size_from})  images {' '.join(images)}  seeds {' '.join(map(str, seeds))}  "
          f"{args.iters} steps  {out['seconds']} s")
    print(format_table(result) + (f'\n(mean of {len(seeds)} seeds)' if len(seeds) > 1 else ''))
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
