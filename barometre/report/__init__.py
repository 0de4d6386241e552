"""The barometer report: a static site (``index.html`` + one page per indicator) generated from
the published DuckDB file, openable from disk without a server. See :mod:`barometre.report.build`."""

from barometre.report.build import ReportResult, build_report

__all__ = ["ReportResult", "build_report"]
