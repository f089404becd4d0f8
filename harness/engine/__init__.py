"""The harness as mmengine runs it: one hook per `*_hook.py` (mmengine's convention), the samplers put at
a resumed batch, the logging backends. `harness.engine.register` (a config's `custom_imports`) registers
the harness's models, metrics and hooks."""

from ..exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        'checkpoint_timer_hook': ['CheckpointTimerHook'],
        'harness_hooks': ['HARNESS_HOOKS', 'add_harness_hooks'],
        'non_finite_loss_hook': ['NonFiniteLossHook'],
        'patch_report_hook': ['PatchReportHook'],
        'preemption_hook': ['PreemptionHook'],
        'rng_state_hook': ['RngStateHook'],
        'tracking': ['add_vis_backends'],
        'train_timer_hook': ['TrainTimerHook'],
    },
)
