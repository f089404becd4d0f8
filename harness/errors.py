"""User-facing errors, and the two ways a run stops early that every tool's exit code is read from.

A `HarnessError` is bad input or an impossible request: the tools print its message as one line
(`error: ...`) and exit non-zero without a traceback. Messages name the file, field or layer and
say what was expected. `NonFiniteLossError` (a diverged run) and `Preempted` (SIGTERM after saving) are
raised by their hooks in harness/engine/ and caught by `run_cli` (harness/run/cli.py); they live here,
without torch, so that a tool that only reads a grid or its results does not import torch to catch them.
"""


def one_line(x):
    """`str(x)` with every run of whitespace, newlines included, as one space: the tools print an error as
    one line, and the grid runner reads a child's last `error: ` line as its reason."""
    return ' '.join(str(x).split())


class HarnessError(Exception):
    """An error whose message is meant for the user as it is."""


class ConfigError(HarnessError, ValueError):
    """A grid file, config field or CLI value is malformed."""


class DatasetError(HarnessError):
    """A dataset folder, annotation file or image is missing or malformed."""


class PaddingError(HarnessError, ValueError):
    """A padding mode cannot be applied to a layer (e.g. `none` on a layer larger than its input)."""


FAILURE = 'failure.json'  # a run dir's record of why training stopped (NonFiniteLossHook writes it)


class NonFiniteLossError(HarnessError):
    """Training produced a NaN / inf loss (harness/engine/non_finite_loss_hook.py)."""

    def __init__(self, iteration: int, losses: dict[str, float]) -> None:
        self.iteration = iteration
        shown = ', '.join(f'{k}={v:.4g}' for k, v in losses.items())
        super().__init__(f'loss is not finite at iteration {iteration} ({shown})')


class Preempted(Exception):
    """Training or a grid stopped on SIGTERM (Slurm preemption, scancel, kill) after saving its state
    (harness/engine/preemption_hook.py)."""
