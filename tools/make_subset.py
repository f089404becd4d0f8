"""Cut a small random subset out of a real COCO 2017 or Cityscapes tree, in the same layout.

Why a tool: real-data smoke runs and CPU-sized experiments need a few dozen real images that the
unchanged mmdet/mmseg configs can read by switching `data_root`. COCO: the instances JSON is
filtered to the sampled images and their annotations (all categories, info and licenses kept).
Cityscapes: each sampled `*_leftImg8bit.png` is copied with every `gtFine` file of its stem
(labelIds, labelTrainIds, instanceIds, color, polygons). The output is checked before exit.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).absolute().parents[1]))  # import harness without `pip install -e`

from harness.data import subset_cityscapes, subset_coco  # noqa: E402
from harness.errors import DatasetError, HarnessError, one_line  # noqa: E402

EPILOG = """examples:
  python tools/make_subset.py coco --src data/coco --out data/coco_subset --train 50 --val 20
  python tools/make_subset.py cityscapes --src data/cityscapes --out data/cityscapes_subset \\
      --train 40 --val 10 --seed 1
  python tools/make_subset.py coco --src /data/coco --out data/coco_val100 --train 0 --val 100 --symlink

`--train 0` skips a split. Cityscapes sources need the `_gtFine_labelTrainIds.png` files that
mmseg's tools/dataset_converters/cityscapes.py writes. An existing output split is replaced only
with --force.
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('dataset', choices=('coco', 'cityscapes'))
    parser.add_argument('--src', required=True, help='root of the real dataset')
    parser.add_argument('--out', required=True, help='root of the subset to write')
    parser.add_argument('--train', type=int, default=50, help='training images (default: 50)')
    parser.add_argument('--val', type=int, default=20, help='validation images (default: 20)')
    parser.add_argument('--seed', type=int, default=0, help='sampling seed (default: 0)')
    parser.add_argument('--symlink', action='store_true', help='link images instead of copying')
    parser.add_argument('--force', action='store_true', help='replace existing output splits')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    src, out = Path(args.src), Path(args.out)
    try:
        if not src.is_dir():
            raise DatasetError(f'source folder {src} does not exist')
        if out.exists() and out.resolve() == src.resolve():
            raise DatasetError(f'--out {out} is the source folder; pick another one')
        subset = subset_coco if args.dataset == 'coco' else subset_cityscapes
        done = subset(
            src, out, dict(train=args.train, val=args.val), seed=args.seed, symlink=args.symlink, force=args.force
        )
    except (HarnessError, OSError) as e:
        print(f'error: {one_line(e)}', file=sys.stderr)
        return 2
    unit = 'annotations' if args.dataset == 'coco' else 'gtFine files'
    parts = ', '.join(f'{split} {n} images / {k} {unit}' for split, (n, k) in done.items())
    print(f'wrote {out} from {src} (seed {args.seed}): {parts or "nothing (all counts are 0)"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
