"""strangler: the user's side of the toolkit (CLI, configuration, plans, codemods, reports)."""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
