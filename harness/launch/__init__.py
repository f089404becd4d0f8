"""Launching a grid's runs: the crash-safe runner (locally, torchrun, srun), Slurm job arrays, `--status`,
the GPU-hour estimate, and the grid's lock."""

from ..exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        'launcher': ['Launcher'],
        'runner': ['GridRunner'],
        'slurm': ['SlurmOptions', 'submit'],
    },
)
