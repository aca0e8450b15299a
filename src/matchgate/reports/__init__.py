"""Oversight reports: one self-contained HTML page that says first whether the batch was lawful
and accurate, then shows the volumes, reasons, scores, officials and anomalies behind that."""

from matchgate.reports.facts import ReportData, gather
from matchgate.reports.render import render_report, write_report

__all__ = ["ReportData", "gather", "render_report", "write_report"]
