"""CloudEvents 1.0 envelopes for the function path, as plain JSON dicts.

Events are built and validated with the ``cloudevents`` SDK (``cloudevents.core.v1``),
then flattened into the JSON *structured mode* dict (attributes at the top level, the
payload under ``data``, ``time`` as RFC 3339) that travels as the single argument of the
Celery task: the message body stays plain JSON, never a pickled object.

``traceparent`` (W3C Trace Context, the CloudEvents distributed-tracing extension) is
added when a trace is active: either set with :func:`use_traceparent` (e.g. by a
middleware that read the incoming header) or, when the optional ``opentelemetry-api``
is installed, injected from the current OpenTelemetry span.

On the handler side :func:`parse_event` checks a received dict and returns either an
:class:`Event` or an :class:`InvalidEvent` carrying the reason (missing attributes, data
not matching the registered JSON schema, oversize), so the caller can dead-letter it
without running the handler.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.v1.event import CloudEvent

from shims.encoding import decode_arguments

__all__ = [
    "FEATURE_ATTRIBUTE",
    "MAX_EVENT_BYTES",
    "PARITY_ATTRIBUTE",
    "REPLY_ATTRIBUTE",
    "SHADOW_ATTRIBUTE",
    "Event",
    "InvalidEvent",
    "build_event",
    "current_traceparent",
    "parse_event",
    "use_traceparent",
]

SHADOW_ATTRIBUTE = "stranglershadow"  # extension names: lowercase letters and digits only
FEATURE_ATTRIBUTE = "stranglerfeature"
REPLY_ATTRIBUTE = "stranglerreply"  # the caller waits: an exception is the answer
PARITY_ATTRIBUTE = "stranglerparity"  # parity testing only (shims.parity): a JSON string
MAX_EVENT_BYTES = 256 * 1024
SOURCE = "/strangler/monolith"

_traceparent: ContextVar[str | None] = ContextVar("strangler_traceparent", default=None)
_otel_propagate: Any = None
_otel_checked = False


@contextmanager
def use_traceparent(traceparent: str | None) -> Iterator[None]:
    """Make ``traceparent`` the active W3C trace context for events built in the block."""
    token = _traceparent.set(traceparent)
    try:
        yield
    finally:
        _traceparent.reset(token)


def current_traceparent() -> str | None:
    """The active trace context: the contextvar first, then OpenTelemetry if installed."""
    explicit = _traceparent.get()
    if explicit is not None:
        return explicit
    propagate = _opentelemetry_propagate()
    if propagate is None:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def _opentelemetry_propagate() -> Any:
    global _otel_propagate, _otel_checked
    if not _otel_checked:
        try:
            _otel_propagate = importlib.import_module("opentelemetry.propagate")
        except ImportError:
            _otel_propagate = None
        _otel_checked = True
    return _otel_propagate


def build_event(
    feature: str,
    data: Mapping[str, Any],
    *,
    shadow: bool = False,
    reply: bool = False,
    parity: str | None = None,
    event_id: str | None = None,
    source: str = SOURCE,
) -> dict[str, Any]:
    """A validated CloudEvent for one call of ``feature``, as a JSON-ready dict."""
    attributes: dict[str, Any] = {
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": feature,
        "specversion": "1.0",
        "time": datetime.now(UTC),
        "datacontenttype": "application/json",
        FEATURE_ATTRIBUTE: feature,
    }
    traceparent = current_traceparent()
    if traceparent is not None:
        attributes["traceparent"] = traceparent
    if shadow:
        attributes[SHADOW_ATTRIBUTE] = True
    if reply:
        attributes[REPLY_ATTRIBUTE] = True
    if parity is not None:
        attributes[PARITY_ATTRIBUTE] = parity
    event = CloudEvent(attributes, dict(data))
    return _to_dict(event)


def _to_dict(event: CloudEvent) -> dict[str, Any]:
    out = dict(event.get_attributes())
    out["time"] = _rfc3339(out["time"])
    out["data"] = event.get_data()
    return out


def _rfc3339(moment: datetime) -> str:
    text = moment.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


@dataclass(frozen=True, slots=True)
class Event:
    """A received, validated event as the handler sees it."""

    id: str
    type: str
    source: str
    data: dict[str, Any]
    shadow: bool = False
    traceparent: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    parity: str | None = None  # the ``stranglerparity`` attribute (shims.parity)
    reply: bool = False  # a request/reply call: the caller waits for the answer

    def arguments(self) -> dict[str, Any]:
        """The entry point's arguments, model references fetched again (needs Django)."""
        return decode_arguments(self.data)

    def to_dict(self) -> dict[str, Any]:
        return {**self.attributes, "data": self.data}


@dataclass(frozen=True, slots=True)
class InvalidEvent:
    """A received message that must not reach the handler, and why."""

    reason: str
    event_id: str | None = None


def parse_event(
    raw: Any, *, schema: Mapping[str, Any] | None = None, max_bytes: int = MAX_EVENT_BYTES
) -> Event | InvalidEvent:
    """Validate a received message dict as a CloudEvent 1.0 with JSON data."""
    if not isinstance(raw, dict):
        return InvalidEvent(f"not an event: expected a JSON object, got {type(raw).__name__}")
    event_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    size = len(json.dumps(raw, separators=(",", ":"), default=str))
    if size > max_bytes:
        return InvalidEvent(f"oversize: {size} bytes > {max_bytes}", event_id)
    problem = _envelope_problem(raw)
    if problem is not None:
        return InvalidEvent(problem, event_id)
    data = raw.get("data")
    if not isinstance(data, dict):
        return InvalidEvent("data must be a JSON object", event_id)
    if schema is not None:
        problem = _schema_problem(data, schema)
        if problem is not None:
            return InvalidEvent(problem, event_id)
    attributes = {k: v for k, v in raw.items() if k != "data"}
    return Event(
        id=raw["id"],
        type=raw["type"],
        source=raw["source"],
        data=data,
        shadow=raw.get(SHADOW_ATTRIBUTE) is True,
        traceparent=raw.get("traceparent"),
        attributes=attributes,
        parity=raw.get(PARITY_ATTRIBUTE),
        reply=raw.get(REPLY_ATTRIBUTE) is True,
    )


def _envelope_problem(raw: Mapping[str, Any]) -> str | None:
    attributes = {k: v for k, v in raw.items() if k != "data"}
    if "time" in attributes:
        try:
            attributes["time"] = datetime.fromisoformat(str(attributes["time"]))
        except ValueError:
            return f"invalid attribute 'time': {attributes['time']!r} is not RFC 3339"
    missing = [name for name in ("id", "source", "type", "specversion") if name not in raw]
    if missing:
        return f"missing attributes: {', '.join(missing)}"
    try:
        CloudEvent(attributes, None)
    except BaseCloudEventException as exc:
        return f"invalid envelope: {' '.join(str(exc).split())}"
    if PARITY_ATTRIBUTE in raw and not isinstance(raw[PARITY_ATTRIBUTE], str):
        return f"invalid attribute {PARITY_ATTRIBUTE!r}: must be a JSON string"
    content_type = raw.get("datacontenttype", "application/json")
    if content_type != "application/json":
        return f"unsupported datacontenttype {content_type!r} (JSON only)"
    return None


def _schema_problem(data: Mapping[str, Any], schema: Mapping[str, Any]) -> str | None:
    import jsonschema  # only handlers that register a schema pay for it

    try:
        jsonschema.validate(dict(data), dict(schema))
    except jsonschema.ValidationError as exc:
        path = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        return f"schema: {path}: {exc.message}"
    return None
