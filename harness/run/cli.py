"""What every tool shares at its edges: the runner options, the exit codes, one-line errors.

Exit codes, defined here once: 0 done, 2 bad input (`HarnessError`: one line `error: <message>` on
stderr, no traceback), 3 a diverged run (`NonFiniteLossError`), 143 stopped by SIGTERM after saving
its state.
"""

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Callable

from mmengine.config import DictAction

from ..errors import HarnessError, NonFiniteLossError, Preempted, one_line

EXIT_BAD_INPUT = 2
EXIT_NON_FINITE = 3
EXIT_PREEMPTED = 128 + 15  # what a shell reports for SIGTERM; Slurm requeues on it


class CfgOptionsAction(DictAction):
    """mmengine's `--cfg-options` action, with a usage error (not a traceback) for an item without `=`."""

    def __call__(self, parser, namespace, values, option_string=None):
        for kv in values or []:
            if '=' not in kv or not kv.split('=', 1)[0]:
                raise argparse.ArgumentError(self, f'got {kv!r}; expected KEY=VALUE items, e.g. train_cfg.max_iters=20')
        super().__call__(parser, namespace, values, option_string)


def add_runner_args(parser, data_check_help):
    """The options tools/train.py and tools/test.py share, after their own."""
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, help='key=value overrides of the config')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none', help='job launcher')
    parser.add_argument('--no-data-check', action='store_true', help=data_check_help)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0, help=argparse.SUPPRESS)


def parse_runner_args(parser, argv=None):
    """Parse; torch.distributed.launch's --local-rank goes to LOCAL_RANK, as torchrun sets it."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def run_cli(main: Callable[[], object]) -> None:
    """Run `main()` with library warnings on stdout. A HarnessError becomes one line `error: <message>`
    on stderr and exit 2 (3 for a diverged run); a run or grid stopped by SIGTERM after saving its state
    prints `preempted: <message>` and exits 143."""
    _warnings_to_stdout()
    try:
        main()
    except Preempted as e:
        print(f'preempted: {one_line(e)}', file=sys.stderr, flush=True)
        sys.exit(EXIT_PREEMPTED)
    except NonFiniteLossError as e:
        print(f'error: {one_line(e)}', file=sys.stderr, flush=True)
        sys.exit(EXIT_NON_FINITE)
    except HarnessError as e:
        print(f'error: {one_line(e)}', file=sys.stderr, flush=True)
        sys.exit(EXIT_BAD_INPUT)


def run_and_exit(main: Callable[[], object]) -> None:
    """`run_cli(main)` as a process's entry point (`if __name__ == '__main__'`), which then leaves with
    `os._exit`: the interpreter's teardown, freeing every module of torch, mmengine, mmdet and mmseg, took
    1.3 CPU-seconds a process here (a 4-iteration smoke run's child costs ~15), and nothing a tool writes
    waits for it: its files are written atomically and closed (mmengine's LoggerHook closes the visualizer
    and the log files after a run), and stdout, stderr and the logging handlers are flushed here. An
    uncaught exception ends the process the normal way, with its traceback."""
    code = None
    try:
        run_cli(main)
    except SystemExit as e:
        code = e.code
    if code is not None and not isinstance(code, int):  # sys.exit('message'), as the interpreter ends it
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


def _warnings_to_stdout():
    """Library warnings go to stdout, with the logs (the grid runner keeps both in run.log): stderr is
    left for the one line that says how the command ended."""

    def show(message, category, filename, lineno, file=None, line=None):
        sys.stdout.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show
