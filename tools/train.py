"""Train an MMDetection or MMSegmentation config (plain or patched by the harness).

A thin entry point: the code is harness/commands/train.py, which an installed harness runs as
`python -m harness.commands.train` (see `--help`).
"""

import os
import sys

sys.path.insert(
    0, os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)  # import harness without `pip install -e`

from harness.commands.train import main, parse_args  # noqa: E402,F401

if __name__ == '__main__':
    from harness.run.cli import run_and_exit

    run_and_exit(main)
