"""HTML and markdown reports rendered from result records (see docs/records.md)."""
from reports.render import render_report

__all__ = ["render_report"]
