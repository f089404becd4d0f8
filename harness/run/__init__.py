"""One run's life: its config, the child process that trains, evaluates and probes it, the matched
pretraining stage, where its time goes, the files it leaves, and the exit codes every tool shares."""

from ..exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        'cli': ['EXIT_BAD_INPUT', 'EXIT_NON_FINITE', 'EXIT_PREEMPTED', 'run_cli'],
        'config': ['check_model', 'load_config', 'resolve_config'],
        'pretrain': ['PretrainStage'],
    },
)
