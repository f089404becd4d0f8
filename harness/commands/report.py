"""Write the comparison report of an ablation grid: report.md, self-contained report.html, CSVs, plots.

Reads work_dirs/<grid>/grid.json and every <variant>_seed<k>/results.json (see harness/report.py for
the rules) and prints the path of every file it wrote. Bad input is one line on stderr, exit 2.
"""

import argparse
import sys

from harness.errors import HarnessError
from harness.report import write_report_files

EPILOG = """examples:
  # report of a finished (or half-finished) grid, into reports/<grid name>/
  python tools/report.py work_dirs/padding_mask-rcnn
  # somewhere else
  python tools/report.py work_dirs/padding_mask-rcnn --out /tmp/padding_report
  # open the result: one HTML file with its plots inside
  xdg-open reports/padding_mask-rcnn/report.html
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('work_dir', metavar='WORK_DIR', help='grid work directory holding grid.json and the runs')
    parser.add_argument(
        '--out', metavar='DIR', default=None, help='output folder (default: reports/<grid name>/ in the repository)'
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        paths = write_report_files(args.work_dir, args.out)
    except HarnessError as e:
        print(f'error: {" ".join(str(e).split())}', file=sys.stderr)
        return 2
    except OSError as e:  # e.g. the output folder cannot be created
        print(f'error: {e.filename or args.out}: {e.strerror or e}', file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
