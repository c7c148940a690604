"""strangler's runtime: installed into the monolith and its workers.

Light by contract (see ``[tool.importlinter]``): no libcst, networkx, click,
analyzers or strangler imports, so importing it costs the monolith little.
"""

from shims.routing import BUCKETS, Mode, Path, Route, bucket, decide

__all__ = ["BUCKETS", "Mode", "Path", "Route", "bucket", "decide"]
