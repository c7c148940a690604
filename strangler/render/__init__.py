"""Renderers for analysis results: rich tables, markdown and JSON. Pure: values in, text out."""

from strangler.render.json import analysis_json, explain_json
from strangler.render.markdown import analysis_markdown, explain_markdown
from strangler.render.table import analysis_table, explain_table

__all__ = [
    "analysis_json",
    "analysis_markdown",
    "analysis_table",
    "explain_json",
    "explain_markdown",
    "explain_table",
]
