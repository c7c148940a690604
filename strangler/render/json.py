"""The machine format: ``analyzers.analysis.to_json`` plus who generated it.

Validated by ``strangler/schemas/analysis.schema.json`` (see docs/analysis.md).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from analyzers.analysis import Analysis, Capability, to_json
from strangler import __version__

__all__ = ["analysis_document", "analysis_json", "explain_json"]


def analysis_document(analysis: Analysis, top: int | None = None) -> dict[str, Any]:
    document = to_json(analysis, top=top)
    document["generator"] = {"name": "strangler", "version": __version__}
    return document


def analysis_json(analysis: Analysis, top: int | None = None) -> str:
    return json.dumps(analysis_document(analysis, top), indent=2) + "\n"


def explain_json(analysis: Analysis, capability: Capability) -> str:
    """Same schema as ``analyze``, with exactly one capability in ``capabilities``."""
    return analysis_json(replace(analysis, capabilities=(capability,)))
