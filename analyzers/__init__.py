"""Static analysis of a legacy Python/Django code base.

Pure by contract (see ``[tool.importlinter]``): source text in, frozen facts out. The
analysed code is never imported or executed.
"""

# ``collect`` the function shadows ``analyzers.collect`` the module as an attribute of
# this package: import its other names with ``from analyzers.collect import ...``.
from analyzers._gc import paused_gc
from analyzers.collect import (
    Collection,
    CollectOptions,
    CollectStats,
    NothingToAnalyse,
    collect,
)
from analyzers.facts import Diagnostic, Location, ModuleFacts
from analyzers.parse import facts_from_source

__all__ = [
    "CollectOptions",
    "CollectStats",
    "Collection",
    "Diagnostic",
    "Location",
    "ModuleFacts",
    "NothingToAnalyse",
    "collect",
    "facts_from_source",
    "paused_gc",
]
