"""The position probe as a command runs it (tools/probe_position.py, and a grid run's child process after its
evaluation, harness/run/worker.py): load the backbone, draw the inputs, probe once per seed, average the
seeds, and write the record (probe.json in a run dir). The probe itself is harness/diagnose/probe.py.
"""

import os
import platform
import time

from ..configs import read_config
from ..diagnose.loading import load_backbone
from ..diagnose.probe import format_table, probe_backbone
from ..diagnose.probe_inputs import mean_over_seeds, probe_inputs, probe_size
from ..errors import ConfigError
from ..grid.spec import PROBE_DEFAULTS
from ..jsonio import write_json
from .environment import hardware


def run_probe(
    source,
    padding=None,
    resample=None,
    checkpoint=None,
    images=None,
    max_images=None,
    out=None,
    iters=200,
    size=None,
    seeds=None,
    kernel=3,
    readout_padding=0,
    lr=1e-3,
    scope=None,
):
    """Probe the backbone of `source` (a config, or a run dir: its config.py and last checkpoint); print the
    table, write `out` (JSON, atomically) if given, and return the record. The options are
    tools/probe_position.py's; None takes the grid defaults (`PROBE_DEFAULTS`)."""
    seeds = list(seeds or PROBE_DEFAULTS['seeds'])
    images = list(images or PROBE_DEFAULTS['images'])
    max_images = max_images if max_images is not None else PROBE_DEFAULTS['max_images']
    if (
        iters < 1
        or kernel < 1
        or readout_padding < 0
        or max_images < 2
        or min(seeds) < 0
        or (size is not None and min(size) < 8)
    ):
        raise ConfigError(
            f'--iters {iters}, --size {size}, --kernel {kernel}, --readout-padding '
            f'{readout_padding}, --max-images {max_images}, --seeds {seeds}: expected iters >= 1, '
            'sides >= 8, kernel >= 1, padding >= 0, max images >= 2, seeds >= 0'
        )
    start = time.time()

    def load(seed):
        return load_backbone(source, padding=padding, checkpoint=checkpoint, seed=seed, resample=resample, scope=scope)

    backbone, info = load(seeds[0])
    cfg = read_config(info['config'])
    size, size_from = probe_size(cfg, size)
    runs = []
    for seed in seeds:
        if runs and info['checkpoint'] is None:  # random init: each seed its own weights
            backbone, info = load(seed)
        train, test, used = probe_inputs(images, cfg, size, seed, bgr=info['bgr'], max_images=max_images)
        result = probe_backbone(
            backbone,
            train,
            test,
            info['mean'],
            info['std'],
            iters=iters,
            kernel=kernel,
            padding=readout_padding,
            lr=lr,
            seed=seed,
        )
        runs.append((seed, result))
    results = [r for _, r in runs]
    result = dict(
        results[0],
        **{
            key: mean_over_seeds([r[key] for r in results])
            for key in ('metrics', 'raw_pixels', 'by_input', 'raw_by_input')
        },
    )
    record = dict(
        metrics=result['metrics'],
        raw_pixels=result['raw_pixels'],
        config=info['config'],
        padding=info['padding'],
        scope=info.get('scope'),
        resample=info.get('resample'),
        checkpoint=info['checkpoint'],
        patch_note=info.get('patch_note') or None,
        inputs=dict(
            train=_count(train),
            test=_count(test),
            images=used,
            size=list(size),
            size_from=size_from,
            max_images=max_images,
            normalize=dict(mean=info['mean'], std=info['std'], bgr=info['bgr']),
        ),
        iters=iters,
        seed=seeds[0] if len(seeds) == 1 else None,
        seeds=list(seeds),
        readout=dict(
            kernel=kernel,
            padding=readout_padding,
            lr=lr,
            batch_size=result['batch_size'],
            feature_grid=result['grid'],
            output_size=result['out_size'],
            channels=result['channels'],
        ),
        spc='Spearman per held-out image, averaged over images (constant prediction: 0); with several '
        "seeds, the mean of the seeds' values (each seed in per_seed)",
        by_input=result['by_input'],
        raw_pixels_by_input=result['raw_by_input'],
        per_seed=[dict(seed=seed, metrics=r['metrics'], raw_pixels=r['raw_pixels']) for seed, r in runs],
        hardware=hardware(),
        python=platform.python_version(),
        seconds=round(time.time() - start, 1),
    )
    print(
        f'probe: {info["config"]}  padding {info["padding"]}  scope {info.get("scope")}  '
        f'checkpoint {info["checkpoint"] or "(random init)"}  '
        f'size {size[0]}x{size[1]} ({size_from})  images {" ".join(images)}  seeds {" ".join(map(str, seeds))}  '
        f'{iters} steps  {record["seconds"]} s'
    )
    print(format_table(result) + (f'\n(mean of {len(seeds)} seeds)' if len(seeds) > 1 else ''))
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        write_json(out, record)
        print(f'wrote {out}')
    return record


def _count(images):
    """{kind: number of images}, in first-seen order."""
    kinds = [kind for kind, _ in images]
    return {k: kinds.count(k) for k in dict.fromkeys(kinds)}
