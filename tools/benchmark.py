"""Measure what the harness costs and write reports/benchmarks.md (see `--help`).

A thin entry point: the measurement code is in benchmarks/ (benchmarks/cli.py, benchmarks/suite.py), which
`python -m benchmarks.cli` runs the same way.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # benchmarks/ and harness/

from benchmarks.cli import main, parse_args, selected  # noqa: E402,F401

if __name__ == '__main__':
    sys.exit(main())
