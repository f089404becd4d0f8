"""Audit a config for position leaks: padded layers, uneven stride-2 padding, leak score per mode.

Builds the model (random init, pretrained weights dropped: nothing is downloaded; or --checkpoint),
lists every layer that pads and where stride-2 padding is uneven at the given input size ("Mind the
Pad", Alsallakh et al. 2021), and measures for each padding mode how far a constant image's backbone
and neck features are from constant. See harness/audit.py and docs/PROBE.md.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

EPILOG = """examples:
  python tools/audit_position.py configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py
  python tools/audit_position.py configs/fcn/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py --padding zeros none
  python tools/audit_position.py CONFIG --size 225 225 --out audit.json     # 32n+1: even padding in ResNet

default --size: 256 256 for mmdet configs, 128 256 for mmseg configs (R-50 models: about 30 s on 2 cores).
"""


def parse_args(argv=None):
    import harness.engine.register  # noqa: F401  (first: registers modules and silences import-time noise)
    from harness.patch import PADDING_MODES

    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--padding',
        nargs='+',
        metavar='MODE',
        default=list(PADDING_MODES),
        help=f'padding modes to measure (default: all of {", ".join(PADDING_MODES)})',
    )
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='network input size (default 256 256 for mmdet, 128 256 for mmseg)',
    )
    parser.add_argument('--scope', help="padding scope for the modes (default: the config's, else all)")
    parser.add_argument(
        '--resample',
        nargs='+',
        metavar='RULE',
        help="mode none's resample rules to measure, one column none:RULE each "
        '(input, output, output-corners, replicate; default: the default rule only)',
    )
    parser.add_argument('--checkpoint', metavar='PTH', help='weights to load (default: random init)')
    parser.add_argument('--out', metavar='JSON', help='write the audit here (atomically)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from harness.checkpoints import check_checkpoint
    from harness.configs import check_config_file
    from harness.diagnose import audit, format_report
    from harness.errors import ConfigError
    from harness.jsonio import write_json
    from harness.run.environment import hardware

    check_config_file(args.config)
    if args.size is not None and min(args.size) < 1:
        raise ConfigError(f'--size {args.size}: expected two positive sides')
    if args.checkpoint is not None:
        check_checkpoint(args.checkpoint)
    start = time.time()
    if args.resample:
        from harness.patch.spec import PaddingSpec

        for rule in args.resample:
            PaddingSpec.from_flags('none', resample=rule)
        if 'none' not in {PaddingSpec.from_flags(m).mode for m in args.padding}:
            raise ConfigError(
                f'--resample {" ".join(args.resample)}: mode none is not among --padding; expected --padding ... none'
            )
    result = audit(args.config, args.padding, args.size, args.checkpoint, args.scope, resample=args.resample)
    result.update(hardware=hardware(), seconds=round(time.time() - start, 1))
    print(format_report(result))
    print(f'({result["seconds"]} s)')
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        write_json(args.out, result)
        print(f'wrote {args.out}')
    return result


if __name__ == '__main__':
    from harness.run.cli import run_and_exit

    run_and_exit(main)
