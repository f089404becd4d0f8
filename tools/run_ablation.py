"""Run an ablation grid (variants x seeds): train, evaluate, write results.json per run, then a report.

A thin entry point: the code is harness/commands/run_ablation.py, which an installed harness runs as
`python -m harness.commands.run_ablation` (see `--help`).
"""

import os
import sys

sys.path.insert(
    0, os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)  # import harness without `pip install -e`

from harness.commands.run_ablation import main, parse_args  # noqa: E402,F401

if __name__ == '__main__':
    from harness.run.cli import run_and_exit

    run_and_exit(main)
