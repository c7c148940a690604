"""Static analysis of a legacy Python/Django code base.

Pure by contract (see ``[tool.importlinter]``): source text in, frozen facts out. The
analysed code is never imported or executed.
"""

from analyzers.facts import Diagnostic, Location, ModuleFacts

__all__ = ["Diagnostic", "Location", "ModuleFacts"]
