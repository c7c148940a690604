"""strangler's runtime: installed into the monolith and its workers.

Light by contract (see ``[tool.importlinter]``): no libcst, networkx, click,
analyzers or strangler imports, so importing it costs the monolith little.
"""

from shims.config import Settings, load_settings, mask_url
from shims.context import current_key, use_key
from shims.dispatch import BreakerOpen, FunctionPathError, dispatch_only, routed
from shims.encoding import UnencodableArgument
from shims.events import Event
from shims.handlers import DeadLettered, handler
from shims.routing import BUCKETS, Mode, Path, Route, bucket, decide
from shims.runtime import Runtime, configure, get_runtime, reset_runtime

__all__ = [
    "BUCKETS",
    "BreakerOpen",
    "DeadLettered",
    "Event",
    "FunctionPathError",
    "Mode",
    "Path",
    "Route",
    "Runtime",
    "Settings",
    "UnencodableArgument",
    "bucket",
    "configure",
    "current_key",
    "decide",
    "dispatch_only",
    "get_runtime",
    "handler",
    "load_settings",
    "mask_url",
    "reset_runtime",
    "routed",
    "use_key",
]
