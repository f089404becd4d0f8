"""One shim per known incompatibility of the pinned stack, each saying why and when it can go.

Applied by `import harness.engine.register` (what configs and tools import); every shim is idempotent.
"""

import os

import numpy as np
import torch
from mmengine.runner.checkpoint import CheckpointLoader


def _load_local_checkpoint(filename, map_location=None):
    # torch >= 2.6 defaults torch.load to weights_only=True; mmengine 0.10.7 checkpoints pickle
    # HistoryBuffer / numpy objects in their message hub, so resume fails with "Unsupported global".
    # Fixed on mmengine main (PR #1670), unreleased as of 0.10.7: drop this shim when a release has it.
    # Local files only (work dirs, load_from): URL downloads stay weights_only through torch.hub.
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


def apply():
    CheckpointLoader.register_scheme(prefixes='', loader=_load_local_checkpoint, force=True)
    # numpy 2.4 removed np.in1d, which cityscapesscripts 2.3.0 still calls (cityscapesScripts#196);
    # np.isin on raveled input is its documented replacement. Drop once cityscapesscripts is fixed.
    if not hasattr(np, 'in1d'):
        np.in1d = lambda ar1, ar2, assume_unique=False, invert=False: np.isin(
            np.ravel(ar1), ar2, assume_unique=assume_unique, invert=invert
        )
