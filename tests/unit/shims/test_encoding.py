"""Argument encoding: JSON passes, model instances become references, the rest is refused."""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from typing import Any

import pytest

from shims.encoding import (
    MODEL_KEY,
    ArgumentEncoder,
    UnencodableArgument,
    decode_arguments,
    decode_value,
    encode_value,
)


def entry(order_id: int, note: str = "", *tags: str, **extra: Any) -> None:
    """A stand-in entry point."""


def test_binds_by_signature_and_applies_defaults() -> None:
    encoder = ArgumentEncoder(entry, "f")
    assert encoder.encode((7,), {}) == {"order_id": 7, "note": "", "tags": [], "extra": {}}
    assert encoder.encode((7, "n", "a", "b"), {"x": {"y": [1.5, None, True]}}) == {
        "order_id": 7,
        "note": "n",
        "tags": ["a", "b"],
        "extra": {"x": {"y": [1.5, None, True]}},
    }


def test_bad_call_is_a_type_error_naming_the_feature() -> None:
    with pytest.raises(TypeError, match=r"^f: missing a required argument: 'order_id'"):
        ArgumentEncoder(entry, "f").encode((), {})


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({1, 2}, "builtins.set is not JSON-serialisable"),
        ({"$decimal": "1"}, "reserved"),
        (float("nan"), "not representable"),
        ({1: "a"}, "dict key 1 is not a string"),
        ({MODEL_KEY: "x"}, "reserved"),
        ([object()], r"argument 'order_id'\[0\]"),
    ],
)
def test_unencodable_values_are_refused_clearly(value: Any, fragment: str) -> None:
    with pytest.raises(UnencodableArgument, match=fragment) as info:
        ArgumentEncoder(entry, "feat.x").encode((value,), {})
    assert str(info.value).startswith("feat.x: argument 'order_id'")
    assert isinstance(info.value, TypeError)


def test_tuples_become_lists() -> None:
    assert encode_value((1, (2, 3))) == [1, [2, 3]]


@pytest.mark.django_db
def test_model_instances_travel_as_references_and_are_fetched_again() -> None:
    from django.contrib.auth.models import User

    user = User.objects.create(username="ada")
    encoded = encode_value({"who": user, "many": [user]})
    assert encoded == {
        "who": {MODEL_KEY: "auth.User", "pk": user.pk},
        "many": [{MODEL_KEY: "auth.User", "pk": user.pk}],
    }
    decoded = decode_arguments(encoded)
    assert decoded["who"] == user
    assert decoded["who"] is not user
    assert decoded["many"][0].username == "ada"


@pytest.mark.django_db
def test_unsaved_instances_are_refused() -> None:
    from django.contrib.auth.models import User

    with pytest.raises(UnencodableArgument, match="unsaved User has no pk"):
        encode_value(User(username="x"))


@pytest.mark.parametrize(
    "value",
    [
        decimal.Decimal("12.50"),
        decimal.Decimal("-0.001"),
        datetime.datetime(2026, 11, 27, 21, 39, 5, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2026, 1, 2, 3, 4, 5),
        datetime.date(2026, 2, 28),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
    ],
)
def test_value_types_round_trip_exactly(value: Any) -> None:
    encoded = encode_value({"v": value, "in": [value]})
    assert json.loads(json.dumps(encoded)) == encoded  # plain JSON on the wire
    decoded = decode_value(encoded)
    assert decoded == {"v": value, "in": [value]}
    assert type(decoded["v"]) is type(value)  # a Decimal stays a Decimal, not a float


def test_a_decimal_keeps_its_exponent_so_money_is_not_rounded() -> None:
    assert str(decode_value(encode_value(decimal.Decimal("0.10")))) == "0.10"


def test_a_one_key_dict_with_an_unknown_dollar_key_is_left_alone() -> None:
    assert decode_value({"$other": "x"}) == {"$other": "x"}
