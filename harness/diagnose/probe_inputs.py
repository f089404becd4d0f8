"""What the position probe looks at: which images, at which size, with which seeds.

The settings come from a grid's `probe:` key or tools/probe_position.py's options, with the same
defaults (`harness.grid.spec.PROBE_DEFAULTS`): the size the model trains at (`run.input_size`), the
config's own val images, seed 0. A probe of small synthetic images says how much position a backbone
gives away on inputs it never sees, at a scale it was not trained at; a grid asks how much its trained
features carry on its own data, so that is the default. The seed paper's images stay a choice
(`synthetic`): black and white images have no content, so any ramp read out of them comes from the
borders. Several seeds give one probe each (backbone init for a config, noise images, the image
draw and split, the read-out's init and batches); the reported value is their mean.
"""

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data.input_size import image_folder, train_input_size
from ..errors import ConfigError, DatasetError
from .probe import natural_inputs, synthetic_inputs

SOURCES = ('val', 'synthetic')


def val_folder(cfg: Any) -> str | None:
    """The image folder of the set the config is evaluated on (test_dataloader, else val_dataloader)."""
    for key in ('test_dataloader', 'val_dataloader'):
        ds = (cfg.get(key) or {}).get('dataset')
        if isinstance(ds, dict):
            while isinstance(ds.get('dataset'), dict):
                ds = ds['dataset']
            return image_folder(ds)
    raise ConfigError(
        'probe images val: the config has no test_dataloader or val_dataloader dataset; expected a '
        'config with an evaluation set, or images synthetic / a folder'
    )


def probe_size(cfg: Any, size: Any = None) -> tuple[tuple[int, ...], str]:
    """((h, w), where it came from): `size` when given, else the size the config trains at."""
    if size:
        return tuple(int(s) for s in size), 'set'
    trained, how = train_input_size(cfg)
    if trained is None:
        raise ConfigError(
            f'probe size: cannot tell the size the config trains at ({how}); expected a size '
            '(--size H W, or probe.size in the grid)'
        )
    return trained, f'the training input size: {how}'


def probe_inputs(
    sources: list[str], cfg: Any, size: Sequence[int], seed: int, bgr: bool = False, max_images: int | None = None
) -> tuple[list, list, list]:
    """(train, test, used): (kind, uint8 (3, h, w)) lists from `sources` in order, and what each gave."""
    train: list = []
    test: list = []
    used: list = []
    folder: Any
    for source in sources:
        if source == 'synthetic':
            more_train, more_test = synthetic_inputs(tuple(size), seed)
            folder = None
        else:
            folder = val_folder(cfg) if source == 'val' else source
            if not os.path.isdir(folder):
                what = f"the config's evaluation images {folder}" if source == 'val' else folder
                raise DatasetError(
                    f'probe images {source}: {what}: folder not found; expected a folder of jpg / '
                    'png images (or images synthetic)'
                )
            more_train, more_test = natural_inputs(folder, tuple(size), seed, bgr=bgr, max_images=max_images)
        train, test = train + more_train, test + more_test
        used.append(dict(source=source, folder=folder, train=len(more_train), test=len(more_test)))
    return train, test, used


def mean_over_seeds(dicts: list[dict]) -> dict:
    """{key: mean over `dicts`} for flat {key: number} dicts, nested one level for {kind: {key: number}}."""
    first = dicts[0]
    if all(isinstance(v, dict) for v in first.values()):
        return {k: mean_over_seeds([d[k] for d in dicts]) for k in first}
    return {k: float(np.mean([d[k] for d in dicts])) for k in first}
