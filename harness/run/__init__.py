"""Running: grids (schema, grid.json), configs, the crash-safe grid runner, its launchers and the child process
of each run, the runner hooks, checkpoints, where a run's time goes, the files a run leaves, and the exit codes
every tool shares."""
from .checkpoint_timer import CheckpointTimerHook
from .checkpoints import check_checkpoint, resume_point
from .cli import EXIT_BAD_INPUT, EXIT_NON_FINITE, EXIT_PREEMPTED, run_cli
from .grid import Grid, Run, Variant
from .grid_json import dump_resolved, load_resolved, read_grid_json
from .grid_schema import load_grid
from .hooks import (NonFiniteLossError, NonFiniteLossHook, PatchReportHook, Preempted, PreemptionHook,
                    RngStateHook)
from .jsonio import read_json, write_json
from .pretrain import PretrainStage
from .train_timer import TrainTimerHook

__all__ = ['CheckpointTimerHook', 'EXIT_BAD_INPUT', 'EXIT_NON_FINITE', 'EXIT_PREEMPTED', 'Grid', 'NonFiniteLossError', 'NonFiniteLossHook',
           'PatchReportHook', 'Preempted', 'PreemptionHook', 'RngStateHook', 'Run', 'Variant', 'check_checkpoint',
           'dump_resolved', 'load_grid', 'load_resolved', 'read_grid_json', 'read_json', 'resume_point', 'run_cli',
           'write_json', 'PretrainStage', 'TrainTimerHook']
