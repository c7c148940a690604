"""CloudEvents envelopes: built as plain JSON dicts, validated on the handler side."""

from __future__ import annotations

import json

import pytest

from shims.events import (
    SHADOW_ATTRIBUTE,
    Event,
    InvalidEvent,
    build_event,
    parse_event,
    use_traceparent,
)

TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_built_event_is_plain_json_with_the_required_attributes() -> None:
    event = build_event("orders.confirm", {"order_id": 1})
    assert json.loads(json.dumps(event)) == event
    assert {"id", "source", "type", "specversion", "time", "datacontenttype", "data"} <= set(event)
    assert event["specversion"] == "1.0"
    assert event["type"] == "orders.confirm"
    assert event["time"].endswith("Z")
    assert "traceparent" not in event
    assert SHADOW_ATTRIBUTE not in event


def test_traceparent_and_shadow_mark_travel_in_the_envelope() -> None:
    with use_traceparent(TRACE):
        event = build_event("f", {}, shadow=True)
    parsed = parse_event(event)
    assert isinstance(parsed, Event)
    assert parsed.traceparent == TRACE
    assert parsed.shadow
    assert build_event("f", {}).get("traceparent") is None


def test_round_trip() -> None:
    event = build_event("f", {"a": [1, 2]}, event_id="e-1")
    parsed = parse_event(event)
    assert isinstance(parsed, Event)
    assert (parsed.id, parsed.type, parsed.data, parsed.shadow) == (
        "e-1",
        "f",
        {"a": [1, 2]},
        False,
    )
    assert parsed.to_dict() == event


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: e.pop("source"), "missing attributes: source"),
        (lambda e: e.pop("type"), "missing attributes: type"),
        (lambda e: e.update(specversion="0.3"), "specversion"),
        (lambda e: e.update(time="yesterday"), "time"),
        (lambda e: e.update(data="text"), "data must be a JSON object"),
        (lambda e: e.update(datacontenttype="application/xml"), "JSON only"),
        (lambda e: e.update({"bad_name": 1}), "bad_name"),
    ],
)
def test_invalid_envelopes_are_reported_not_raised(mutate: object, reason: str) -> None:
    event = build_event("f", {"a": 1})
    mutate(event)  # type: ignore[operator]
    parsed = parse_event(event)
    assert isinstance(parsed, InvalidEvent)
    assert reason in parsed.reason
    assert parsed.event_id == event["id"]


def test_not_a_dict() -> None:
    parsed = parse_event(["x"])
    assert isinstance(parsed, InvalidEvent)
    assert "expected a JSON object" in parsed.reason


def test_oversize() -> None:
    parsed = parse_event(build_event("f", {"blob": "x" * 2000}), max_bytes=1000)
    assert isinstance(parsed, InvalidEvent)
    assert parsed.reason.startswith("oversize")


def test_schema() -> None:
    schema = {
        "type": "object",
        "properties": {"order_id": {"type": "integer"}},
        "required": ["order_id"],
    }
    assert isinstance(parse_event(build_event("f", {"order_id": 3}), schema=schema), Event)
    bad = parse_event(build_event("f", {"order_id": "3"}), schema=schema)
    assert isinstance(bad, InvalidEvent)
    assert bad.reason == "schema: order_id: '3' is not of type 'integer'"
    missing = parse_event(build_event("f", {}), schema=schema)
    assert isinstance(missing, InvalidEvent)
    assert "'order_id' is a required property" in missing.reason
