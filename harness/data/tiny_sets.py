"""The tiny generated sets the smoke configs read, made once per checkout: the one place that calls every
generator (they import `tiny` for what they share, never each other or this module)."""

from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from .tiny import read_stamp
from .tiny_cityscapes import make_tiny_cityscapes
from .tiny_coco import make_tiny_coco
from .tiny_quadrants import make_tiny_quadrants  # the matched-pretraining smoke grid's classifier data


def ensure_tiny_data(repo: str | Path = '.', log: Callable[[str], object] = print) -> None:
    """Generate the tiny sets the smoke configs read (`data/tiny_coco`, `data/tiny_cityscapes`,
    `data/tiny_quadrants` under `repo`) unless a complete one is there already. Processes that call it at once
    (two main jobs, the suite's workers) wait on `data/.tiny.lock`: one generates, the others find it made."""
    data = Path(repo) / 'data'
    data.mkdir(parents=True, exist_ok=True)
    with FileLock(data / '.tiny.lock'):
        _make_missing(data, log)


def _make_missing(data: Path, log: Callable[[str], object]) -> None:
    for name, make in (
        ('tiny_coco', make_tiny_coco),
        ('tiny_cityscapes', make_tiny_cityscapes),
        ('tiny_quadrants', make_tiny_quadrants),
    ):
        root = data / name
        if not (read_stamp(root) or {}).get('complete'):
            log(f'generating {root} ...')
            make(root)
