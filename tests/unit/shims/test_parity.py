"""Parity testing (``shims.parity``) and exceptions as answers, at unit level.

The handler base runs in-process (``Task.apply``) with memory stores, as in
test_handlers.py; the whole loop with a real worker and the monolith's own suite is
tests/e2e/test_extract_demo.py.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

import pytest
from celery import Celery
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives, send_mail
from django.test import override_settings

from shims import parity
from shims.encoding import (
    RemoteError,
    decode_exception,
    encode_exception,
    encode_value,
    is_error_answer,
)
from shims.events import Event, build_event, parse_event
from shims.handlers import DeadLettered, handler


class OutOfStock(Exception):
    """A domain error defined in a module the caller has loaded (this one)."""


@pytest.fixture
def app() -> Celery:
    return Celery("unit-parity", set_as_current=False)


@pytest.fixture(autouse=True)
def parity_off() -> Any:
    yield
    parity.disable()
    parity.report.clear()


def register(app: Celery, fn: Any) -> Any:
    return handler(app, "t.parity", dedupe_url="memory://", dead_letter_url="memory://")(fn)


# ---------------------------------------------------------------- worker side


def test_a_worker_not_started_for_tests_dead_letters_parity_events(
    app: Celery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(parity.WORKER_ENV, raising=False)
    task = register(app, lambda e: pytest.fail("must not run"))
    event = build_event("f", {}, parity=json.dumps({"settings": {"DEBUG": True}}))
    with pytest.raises(DeadLettered, match="parity event refused"):
        task.apply(args=[event]).get()
    [entry] = task.strangler_state.dead_letters.list()
    assert entry.reason == f"invalid: parity event refused ({parity.WORKER_ENV} is not set)"


def test_a_parity_worker_applies_the_tests_settings_and_returns_its_mail(
    app: Celery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(parity.WORKER_ENV, "1")
    seen: dict[str, Any] = {}

    def handle(event: Event) -> Any:
        seen["threshold"] = settings.FREE_SHIPPING_OVER
        seen["backend"] = settings.EMAIL_BACKEND
        message = EmailMultiAlternatives("Hi", "plain", "shop@example.com", ["a@example.com"])
        message.attach_alternative("<b>html</b>", "text/html")
        message.send()
        return {"total": "12.50"}

    task = register(app, handle)
    overrides = {"FREE_SHIPPING_OVER": encode_value(Decimal("75.00"))}
    event = build_event("f", {}, parity=json.dumps({"settings": overrides}))
    reply = task.apply(args=[event]).get()

    assert seen == {
        "threshold": Decimal("75.00"),  # the tagged Decimal came back as a Decimal
        "backend": parity.LOCMEM_BACKEND,  # a test worker never sends real mail
    }
    assert not hasattr(settings, "FREE_SHIPPING_OVER")  # the override ended with the event
    assert reply[parity.REPLY_MARK] == 1
    assert reply["result"] == {"total": "12.50"}
    [sent] = reply["mail"]
    assert (sent["subject"], sent["to"]) == ("Hi", ["a@example.com"])
    assert sent["alternatives"] == [["<b>html</b>", "text/html"]]


def test_a_malformed_parity_attribute_is_an_invalid_event() -> None:
    event = build_event("f", {})
    event[parity.ATTRIBUTE] = {"settings": {}}  # an object, not the JSON string
    parsed = parse_event(event)
    assert not isinstance(parsed, Event)
    assert "must be a JSON string" in parsed.reason


# ---------------------------------------------------------------- caller side


def test_only_the_tests_overrides_are_collected_innermost_first() -> None:
    assert parity.settings_overrides() == {}
    with override_settings(SHOP_NAME="outer", MAX_ITEMS=3), override_settings(SHOP_NAME="inner"):
        assert parity.settings_overrides() == {"SHOP_NAME": "inner", "MAX_ITEMS": 3}
    assert parity.settings_overrides() == {}


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_the_attribute_leaves_out_databases_and_reports_what_does_not_encode() -> None:
    with override_settings(
        DATABASES=settings.DATABASES, SHOP_NAME="x", HOOK=object(), WHEN=Decimal("1.5")
    ):
        sent = json.loads(parity.attribute())["settings"]
    assert sent == {"SHOP_NAME": "x", "WHEN": {"$decimal": "1.5"}}
    assert parity.report.unsent_settings == {"HOOK"}


def test_a_parity_reply_delivers_its_mail_and_decoded_result() -> None:
    mail.outbox = []
    message = EmailMultiAlternatives(
        "Order 7",
        "body",
        "shop@example.com",
        ["a@example.com"],
        bcc=["archive@example.com"],
        reply_to=["help@example.com"],
        headers={"X-Order": "7"},
    )
    message.attach_alternative("<p>7</p>", "text/html")
    message.attach("note.txt", "text attachment", "text/plain")
    message.attach("logo.png", b"\x89PNG\x00\xff", "image/png")
    reply = {
        parity.REPLY_MARK: 1,
        "result": {"$decimal": "9.90"},
        "mail": [parity.message_to_dict(message)],
    }
    assert parity.unwrap(reply) == Decimal("9.90")
    [got] = mail.outbox
    assert (got.subject, got.body, got.from_email) == ("Order 7", "body", "shop@example.com")
    assert (got.to, got.bcc, got.reply_to) == (["a@example.com"], ["archive@example.com"],
                                               ["help@example.com"])  # fmt: skip
    assert got.extra_headers == {"X-Order": "7"}
    assert [tuple(a) for a in got.alternatives] == [("<p>7</p>", "text/html")]
    assert [tuple(a) for a in got.attachments] == [
        ("note.txt", "text attachment", "text/plain"),
        ("logo.png", b"\x89PNG\x00\xff", "image/png"),
    ]


def test_an_ordinary_reply_is_not_taken_for_a_parity_reply() -> None:
    with pytest.raises(parity.ParityError, match=parity.WORKER_ENV):
        parity.unwrap({"total": "1.00"})


def test_sent_mail_is_recorded_as_messages_for_parity(
    app: Celery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(parity.WORKER_ENV, "1")

    def handle(event: Event) -> Any:
        send_mail("One", "1", "s@example.com", ["x@example.com"])
        send_mail("Two", "2", "s@example.com", ["y@example.com"])
        return None

    event = build_event("f", {}, parity=json.dumps({"settings": {}}))
    reply = register(app, handle).apply(args=[event]).get()
    assert [m["subject"] for m in reply["mail"]] == ["One", "Two"]


# ---------------------------------------------------------------- exceptions as answers


def test_a_request_reply_handlers_exception_is_answered_not_dead_lettered(app: Celery) -> None:
    calls: list[str] = []

    def handle(event: Event) -> Any:
        calls.append(event.id)
        raise OutOfStock("grinder", 0)

    task = register(app, handle)
    event = build_event("f", {}, reply=True)
    answer = task.apply(args=[event]).get()
    assert is_error_answer(answer)
    assert task.apply(args=[event]).get() == answer  # a redelivery gets the same answer
    assert calls == [event["id"]]
    assert task.strangler_state.dead_letters.list() == []
    rebuilt = decode_exception(answer, __name__)
    assert type(rebuilt) is OutOfStock
    assert rebuilt.args == ("grinder", 0)


def test_the_same_exception_without_a_waiting_caller_is_dead_lettered(app: Celery) -> None:
    task = register(app, lambda e: (_ for _ in ()).throw(OutOfStock("grinder")))
    with pytest.raises(DeadLettered, match="OutOfStock: grinder"):
        task.apply(args=[build_event("f", {})]).get()
    assert len(task.strangler_state.dead_letters.list()) == 1


def test_exception_arguments_that_do_not_encode_travel_as_the_message() -> None:
    exc = OutOfStock(object())
    answer = encode_exception(exc)
    assert answer["$error"] == {
        "type": f"{__name__}:OutOfStock",
        "args": [str(exc)],
        "message": str(exc),
    }
    rebuilt = decode_exception(answer, __name__)
    assert type(rebuilt) is OutOfStock
    assert str(rebuilt) == str(exc)


@pytest.mark.parametrize(
    ("kind", "why"),
    [
        ("not_loaded_anywhere:Boom", "a module this process never imported"),
        ("builtins:SystemExit", "not an Exception subclass"),
        ("os:path", "not a class"),
        (f"{__name__}:Missing", "no such name"),
    ],
)
def test_an_answer_names_a_type_only_if_it_is_a_loaded_exception(kind: str, why: str) -> None:
    answer = {"$error": {"type": kind, "args": ["x"], "message": "x"}}
    with pytest.raises(RemoteError, match="not loaded here"):
        decode_exception(answer, __name__)
    assert "not_loaded_anywhere" not in sys.modules, why  # looked up, never imported


def test_a_type_is_rebuilt_from_its_arguments_without_running_its_init() -> None:
    """Its ``__init__`` would refuse one argument: it never runs (shims.encoding._build)."""

    class NeedsTwo(Exception):
        def __init__(self, a: str, b: str) -> None:
            super().__init__(a, b)

    sys.modules[__name__].NeedsTwo = NeedsTwo  # type: ignore[attr-defined]
    try:
        answer = {"$error": {"type": f"{__name__}:NeedsTwo", "args": ["only one"], "message": ""}}
        rebuilt = decode_exception(answer, __name__)
        assert (type(rebuilt), rebuilt.args) == (NeedsTwo, ("only one",))
    finally:
        del sys.modules[__name__].NeedsTwo  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the caller's paths


class InProcessWorker:
    """The publisher replaced: each event runs through the handler base in this process
    (``Task.apply``), parity side included. The real worker: tests/e2e."""

    def __init__(self, app: Celery) -> None:
        self.app = app
        self.tasks: dict[str, Any] = {}

    def add(self, name: str, handle: Any) -> None:
        self.tasks[name] = handler(
            self.app, name, dedupe_url="memory://", dead_letter_url="memory://"
        )(handle)

    def publish(self, settings: Any, task: str, event: dict[str, Any], **_: Any) -> Any:
        return task, event

    def wait(self, pending: Any, timeout: float) -> Any:
        task, event = pending
        ours = mail.outbox  # the worker's outbox is another process's: keep them apart
        try:
            return self.tasks[task].apply(args=[event]).get()
        finally:
            mail.outbox = ours


@pytest.fixture
def worker(app: Celery, monkeypatch: pytest.MonkeyPatch) -> Any:
    from shims.dispatch import breakers, publisher
    from shims.runtime import configure, reset_runtime

    fake = InProcessWorker(app)
    monkeypatch.setattr(publisher, "publish", fake.publish)
    monkeypatch.setattr(publisher, "wait", fake.wait)
    monkeypatch.setenv(parity.WORKER_ENV, "1")
    configure(route_store_url="memory://", route_ttl=0)
    breakers.clear()
    parity.enable(timeout=5)
    yield fake
    reset_runtime()


def _at_function(feature: str) -> None:
    from shims.routing import Mode, Route
    from shims.runtime import get_runtime

    get_runtime().store.set(Route(feature, Mode.FUNCTION, 0), actor="test")


def _notify_handler(event: Event) -> Any:
    send_mail("From the function", "hi", "s@example.com", [event.data["to"]])
    return "function"


def test_fire_and_forget_waits_returns_the_result_and_delivers_the_mail(worker: Any) -> None:
    from shims.dispatch import routed

    @routed("p.notify", task="p.notify")
    def notify(to: str) -> str:
        send_mail("From the monolith", "hi", "s@example.com", [to])
        return "monolith"

    worker.add("p.notify", _notify_handler)
    _at_function("p.notify")
    mail.outbox = []
    assert notify("a@example.com") == "function"
    assert [(m.subject, m.to) for m in mail.outbox] == [("From the function", ["a@example.com"])]
    assert parity.report.as_dict()["features"]["p.notify"]["answered_by_function"] == 1


def test_a_failing_fire_and_forget_handler_fails_the_call_instead_of_vanishing(
    worker: Any,
) -> None:
    from shims.dispatch import FunctionPathError, routed

    @routed("p.broken", task="p.broken")
    def broken(n: int) -> None:
        return None

    worker.add("p.broken", lambda event: 1 / 0)
    _at_function("p.broken")
    with pytest.raises(FunctionPathError, match="the handler failed in the worker"):
        broken(1)
    assert list(parity.report.as_dict()["features"]["p.broken"]["failed"]) == [
        "DeadLettered: p.broken: error after 1 attempt(s): ZeroDivisionError: division by zero"
    ]


def test_request_reply_under_parity_raises_the_handlers_exception(worker: Any) -> None:
    from shims.dispatch import routed

    @routed("p.stock", task="p.stock", style="request_reply")
    def stock(sku: str) -> int:
        return 0

    def handle(event: Event) -> Any:
        raise OutOfStock(event.data["sku"])

    worker.add("p.stock", handle)
    _at_function("p.stock")
    with pytest.raises(OutOfStock, match="grinder"):
        stock("grinder")
    item = parity.report.as_dict()["features"]["p.stock"]
    assert (item["answered_by_function"], item["fell_back"]) == (1, {})


def test_a_retired_entry_point_under_parity_returns_the_handlers_result(worker: Any) -> None:
    from shims.dispatch import dispatch_only

    worker.add("p.retired", _notify_handler)
    mail.outbox = []
    value = dispatch_only("p.retired", task="p.retired", arguments={"to": "b@example.com"})
    assert value == "function"
    assert [m.to for m in mail.outbox] == [["b@example.com"]]


# ---------------------------------------------------------------- a handler that raises


def _mail_then_refuse(event: Event) -> Any:
    send_mail("Sorry", "out of stock", "s@example.com", [event.data["to"]])
    raise OutOfStock("grinder")


def test_an_error_answer_carries_the_mail_the_handler_sent_first(
    app: Celery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(parity.WORKER_ENV, "1")
    event = build_event("f", {"to": "a@example.com"}, reply=True, parity=json.dumps({}))
    reply = register(app, _mail_then_refuse).apply(args=[event]).get()
    assert reply[parity.REPLY_MARK] == 1
    assert is_error_answer(reply["result"])
    assert [(m["subject"], m["to"]) for m in reply["mail"]] == [("Sorry", ["a@example.com"])]


def test_request_reply_delivers_the_mail_before_raising_the_handlers_exception(
    worker: Any,
) -> None:
    from shims.dispatch import routed

    @routed("p.refuse", task="p.refuse", style="request_reply")
    def refuse(to: str) -> None:
        send_mail("Sorry", "out of stock", "s@example.com", [to])
        raise OutOfStock("grinder")

    worker.add("p.refuse", _mail_then_refuse)
    _at_function("p.refuse")
    mail.outbox = []
    with pytest.raises(OutOfStock, match="grinder"):
        refuse("a@example.com")
    assert [(m.subject, m.to) for m in mail.outbox] == [("Sorry", ["a@example.com"])]


def test_a_retired_request_reply_delivers_the_mail_before_raising(worker: Any) -> None:
    from shims.dispatch import dispatch_only

    worker.add("p.retired_refuse", _mail_then_refuse)
    mail.outbox = []
    with pytest.raises(OutOfStock):
        dispatch_only(
            "p.retired_refuse",
            task="p.retired_refuse",
            style="request_reply",
            arguments={"to": "b@example.com"},
        )
    assert [m.to for m in mail.outbox] == [["b@example.com"]]


# ---------------------------------------------------------------- transient errors


@pytest.mark.parametrize(("parity_event", "pause"), [(True, 0.0), (False, 42.0)])
def test_a_parity_event_retries_a_transient_error_at_once(
    app: Celery, monkeypatch: pytest.MonkeyPatch, parity_event: bool, pause: float
) -> None:
    """A test waits on a parity event: no backoff. Production keeps its backoff."""
    import shims.handlers

    class Retried(Exception):
        pass

    countdowns: list[float] = []

    def fake_retry(task: Any, spec: Any, **options: Any) -> Any:
        countdowns.append(options["countdown"])
        raise Retried

    monkeypatch.setenv(parity.WORKER_ENV, "1")
    monkeypatch.setattr(shims.handlers, "backoff", lambda attempt, base, cap: 42.0)
    monkeypatch.setattr(shims.handlers, "_retry", fake_retry)
    task = register(app, lambda event: (_ for _ in ()).throw(ConnectionError("down")))
    value = json.dumps({"settings": {}}) if parity_event else None
    with pytest.raises(Retried):
        task.apply(args=[build_event("f", {}, parity=value)], throw=True)
    assert countdowns == [pause]


# ---------------------------------------------------------------- inside transaction.atomic


@pytest.mark.django_db(transaction=True)
def test_a_failure_after_commit_is_raised_from_the_atomic_exit_and_says_so(
    worker: Any,
) -> None:
    """Parity only (production raises nothing after a commit): the handler's failure
    leaves ``atomic`` after the commit, and the transaction's later callbacks are skipped."""
    from django.db import transaction

    from shims.dispatch import AFTER_COMMIT_NOTE, FunctionPathError, routed

    @routed("p.broken_later", task="p.broken_later")
    def broken(n: int) -> None:
        return None

    worker.add("p.broken_later", lambda event: 1 / 0)
    _at_function("p.broken_later")
    later: list[str] = []

    def commit() -> None:
        with transaction.atomic():
            broken(1)
            transaction.on_commit(lambda: later.append("ran"))

    with pytest.raises(FunctionPathError, match="the handler failed") as raised:
        commit()
    assert AFTER_COMMIT_NOTE in (raised.value.__notes__ or [])
    assert later == []
