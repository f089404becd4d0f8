"""Reporting: one grid's results read back, compared with statistics, as report.md / report.html / CSVs /
plots. Imports no torch, mmengine or mmdet."""

from ..exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        'plan': ['plan_lines'],
        'stats': ['read_results'],
        'write': ['default_out_dir', 'write_report', 'write_report_files'],
    },
)
