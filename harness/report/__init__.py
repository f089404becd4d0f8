"""Reporting: one grid's results read back, compared with statistics, as report.md / report.html / CSVs / plots."""
from .write import default_out_dir, write_report, write_report_files

__all__ = ['default_out_dir', 'write_report', 'write_report_files']
