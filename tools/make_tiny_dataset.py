"""Write the tiny position-dependent COCO and Cityscapes sets the smoke runs and tests train on.

Why a tool: configs point `data_root` at `data/tiny_coco` or `data/tiny_cityscapes`; this makes
them in seconds, in the real layouts (see harness/data/tiny_coco.py and tiny_cityscapes.py for what the
images contain), and is idempotent so scripts can call it before every run.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).absolute().parents[1]))  # import harness without `pip install -e`

from harness.data import check_cityscapes, check_coco, check_tiny_args, make_tiny_cityscapes, make_tiny_coco, read_stamp  # noqa: E402
from harness.data.image_folders import check_image_folders  # noqa: E402
from harness.data.tiny_quadrants import make_tiny_quadrants  # noqa: E402
from harness.errors import DatasetError, HarnessError  # noqa: E402

DEFAULTS = {  # dataset: (folder under --out, n_train, n_val, (H, W))
    'coco': ('tiny_coco', 64, 16, (128, 128)),
    'cityscapes': ('tiny_cityscapes', 32, 8, (128, 256)),
    'quadrants': ('tiny_quadrants', 512, 256, (64, 64)),  # ImageNet-format classes: which quadrant (pretraining)
}
EPILOG = """examples:
  python tools/make_tiny_dataset.py all                      # data/tiny_coco, data/tiny_cityscapes
  python tools/make_tiny_dataset.py quadrants                # data/tiny_quadrants (classification: pretraining)
  python tools/make_tiny_dataset.py coco --train 200 --val 50 --size 160 160 --seed 1
  python tools/make_tiny_dataset.py cityscapes --out /tmp/data --force

An existing complete set made with the same parameters is kept (and re-checked); pass --force to
regenerate it or to replace one made with other parameters. Folders not made by this tool are
never overwritten.
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('dataset', choices=('coco', 'cityscapes', 'quadrants', 'all'))
    parser.add_argument('--out', default='data', help='parent folder (default: data)')
    parser.add_argument('--train', type=int, help='training images (default: 64 coco, 32 cityscapes, 512 quadrants)')
    parser.add_argument('--val', type=int, help='validation images (default: 16 coco, 8 cityscapes, 256 quadrants)')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='image size (default: 128 128 coco, 128 256 cityscapes, 64 64 quadrants)',
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--force', action='store_true', help='regenerate even if complete')
    return parser.parse_args(argv)


def _one(kind, args):
    folder, n_train, n_val, size = DEFAULTS[kind]
    root = Path(args.out) / folder
    n_train = n_train if args.train is None else args.train
    n_val = n_val if args.val is None else args.val
    size = list(size if args.size is None else args.size)
    check_tiny_args(n_train, n_val, size)
    params = dict(n_train=n_train, n_val=n_val, size=size, seed=args.seed)
    stamp = read_stamp(root)
    if stamp and stamp.get('kind') == kind and stamp.get('complete') and not args.force:
        if stamp.get('params') != params:
            raise DatasetError(
                f'{root} holds a tiny {kind} set made with {_describe(stamp["params"])}, '
                f'not {_describe(params)}; pass --force to regenerate it'
            )
        try:
            _check(kind, root)
        except DatasetError as e:
            raise DatasetError(
                f'{root} is marked complete but fails its check ({e}); pass --force to regenerate it'
            ) from None
        print(f'skip {root}: already complete ({_describe(params)})')
        return
    start = time.perf_counter()
    make = {'coco': make_tiny_coco, 'cityscapes': make_tiny_cityscapes, 'quadrants': make_tiny_quadrants}[kind]
    made = make(root, n_train=n_train, n_val=n_val, size=tuple(size), seed=args.seed)
    _check(kind, root)
    counts = ', '.join(f'{split} {n} images / {k} objects' for split, (n, k) in made.counts.items())
    print(f'wrote {root}: {counts} ({_describe(params)}) in {time.perf_counter() - start:.1f} s')
    if kind == 'coco':
        print(
            f"  data_root='{root}/', ann_file='{made.ann_files['train']}', "
            f"data_prefix=dict(img='{made.img_dirs['train']}'), metainfo=dict(classes={made.classes})"
        )
    elif kind == 'quadrants':
        print(f"  data_root='{root}/', data_prefix='train' (mmpretrain CustomDataset), classes {made.classes}")
    else:
        print(
            f"  data_root='{root}/', data_prefix=dict(img_path='{made.img_dirs['train']}', "
            f"seg_map_path='{made.ann_files['train']}')"
        )


def _check(kind, root):
    for split in ('train', 'val'):
        if kind == 'coco':
            check_coco(root, f'annotations/instances_{split}2017.json', f'{split}2017')
        elif kind == 'quadrants':
            check_image_folders(root, split)
        else:
            check_cityscapes(root, split)


def _describe(params):
    try:
        h, w = params['size']
        return f'{params["n_train"]}+{params["n_val"]} images, {h}x{w}, seed {params["seed"]}'
    except (KeyError, TypeError, ValueError):
        return repr(params)


def main(argv=None):
    args = parse_args(argv)
    try:
        for kind in (
            ('coco', 'cityscapes') if args.dataset == 'all' else (args.dataset,)
        ):  # all: what the smoke configs read
            _one(kind, args)
    except (HarnessError, OSError) as e:
        print(f'error: {" ".join(str(e).split())}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
