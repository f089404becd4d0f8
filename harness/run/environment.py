"""What a run records about where it ran: the commit of this checkout, library versions, the hardware."""

import os
import platform
import subprocess

import torch

from ..paths import REPO_ROOT


def environment():
    import mmcv
    import mmdet
    import mmengine
    import mmseg
    import torch

    return dict(
        commit=commit(),
        hardware=hardware(),
        versions=dict(
            torch=torch.__version__,
            mmcv=mmcv.__version__,
            mmengine=mmengine.__version__,
            mmdet=mmdet.__version__,
            mmseg=mmseg.__version__,
        ),
    )


def commit():
    """This checkout's commit, `-dirty` when it has uncommitted changes (`git describe`), or 'unknown'."""
    try:
        return (
            subprocess.run(
                ['git', 'describe', '--always', '--dirty'], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or 'unknown'
        )
    except (OSError, subprocess.TimeoutExpired):
        return 'unknown'


def hardware():
    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        return f'{n}x {torch.cuda.get_device_name(0)}'
    return f'{os.cpu_count()}-core {platform.machine()} CPU, no GPU'
