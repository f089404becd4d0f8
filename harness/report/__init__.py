"""Reporting: one grid's results read back, compared with statistics, as report.md / report.html / CSVs / plots."""
from .plan import plan_lines
from .stats import read_results
from .write import default_out_dir, write_report, write_report_files

__all__ = ['default_out_dir', 'plan_lines', 'read_results', 'write_report', 'write_report_files']
