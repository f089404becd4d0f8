"""Write the comparison report of an ablation grid: report.md, self-contained report.html, CSVs, plots.

A thin entry point: the code is harness/commands/report.py, which an installed harness runs as
`python -m harness.commands.report` (see `--help`).
"""

import os
import sys

sys.path.insert(
    0, os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)  # import harness without `pip install -e`

from harness.commands.report import main, parse_args  # noqa: E402,F401

if __name__ == '__main__':
    sys.exit(main())
