"""``@routed`` per path, with the publisher replaced by an in-process fake (unit level).

The real broker and worker are exercised in tests/integration/test_dispatch_redis.py.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from shims.breaker import BreakerPolicy, BreakerState
from shims.context import use_key
from shims.dispatch import (
    FunctionPathError,
    breakers,
    mismatches,
    publisher,
    routed,
    shadow_pool,
)
from shims.encoding import UnencodableArgument
from shims.routing import Mode, Route
from shims.runtime import configure, get_runtime, reset_runtime


class FakeBroker:
    """Records published events; answers request/reply with ``reply(event)``."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.ignored: list[bool] = []  # ignore_result of each publish
        self.expires: list[float | None] = []  # expires of each publish
        self.fail: Exception | None = None
        self.reply: Any = lambda event: {"by": "function", "data": event["data"]}

    def publish(
        self,
        settings: Any,
        task: str,
        event: dict[str, Any],
        *,
        ignore_result: bool = False,
        expires: float | None = None,
    ) -> Any:
        if self.fail is not None:
            raise self.fail
        self.sent.append((task, event))
        self.ignored.append(ignore_result)
        self.expires.append(expires)
        return event

    def wait(self, pending: Any, timeout: float) -> Any:
        return self.reply(pending)


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBroker]:
    fake = FakeBroker()
    monkeypatch.setattr(publisher, "publish", fake.publish)
    monkeypatch.setattr(publisher, "wait", fake.wait)
    configure(route_store_url="memory://", route_ttl=0)
    breakers.clear(BreakerPolicy(failure_threshold=2, cooldown=60))
    mismatches.clear()
    yield fake
    shadow_pool.join()
    reset_runtime()


def route(feature: str, mode: Mode, percent: int = 0) -> None:
    get_runtime().store.set(Route(feature, mode, percent), actor="test")


def outcomes(feature: str, path: str) -> dict[str, int]:
    stats = get_runtime().metrics.snapshot().get((feature, path))
    return {} if stats is None else dict(stats.outcomes)


@routed("u.rr", task="t.rr", style="request_reply", timeout=1.0)
def rr(order_id: int, note: str = "") -> dict[str, Any]:
    return {"by": "monolith", "order_id": order_id}


@routed("u.strict", task="t.strict", style="request_reply", fallback=False)
def strict(amount: Any) -> str:
    return "monolith"


@routed("u.ff", task="t.ff")
def ff(order_id: int) -> str:
    return "monolith"


@routed("u.boom", task="t.boom")
def boom() -> None:
    raise KeyError("monolith bug")


def test_monolith_mode_calls_the_body_and_counts(broker: FakeBroker) -> None:
    assert rr(1) == {"by": "monolith", "order_id": 1}
    route("u.rr", Mode.MONOLITH)
    assert rr(2)["by"] == "monolith"
    assert broker.sent == []
    assert outcomes("u.rr", "monolith") == {"ok": 2}


def test_monolith_errors_propagate_and_count(broker: FakeBroker) -> None:
    with pytest.raises(KeyError):
        boom()
    assert outcomes("u.boom", "monolith") == {"error": 1}


def test_function_fire_and_forget_publishes_a_cloudevent(broker: FakeBroker) -> None:
    route("u.ff", Mode.FUNCTION)
    assert ff(order_id=9) is None
    [(task, event)] = broker.sent
    assert task == "t.ff"
    assert event["type"] == "u.ff"
    assert event["data"] == {"order_id": 9}
    assert broker.ignored == [True]  # fire-and-forget never needs the result backend
    assert outcomes("u.ff", "function") == {"ok": 1}


def test_request_reply_returns_the_reply(broker: FakeBroker) -> None:
    route("u.rr", Mode.FUNCTION)
    assert rr(3, "n") == {"by": "function", "data": {"order_id": 3, "note": "n"}}


def test_failure_falls_back_and_opens_the_breaker(broker: FakeBroker) -> None:
    route("u.rr", Mode.FUNCTION)
    broker.fail = ConnectionError("broker down")
    assert rr(1)["by"] == "monolith"
    assert rr(1)["by"] == "monolith"
    assert breakers.get("u.rr").state is BreakerState.OPEN
    broker.fail = None
    assert rr(1)["by"] == "monolith"  # open: not even tried
    assert broker.sent == []
    assert outcomes("u.rr", "function") == {"fallback": 3}


def test_without_fallback_failures_raise(broker: FakeBroker) -> None:
    route("u.strict", Mode.FUNCTION)
    broker.fail = ConnectionError("broker down")
    with pytest.raises(FunctionPathError, match="ConnectionError: broker down"):
        strict(1)
    assert outcomes("u.strict", "function") == {"error": 1}


def test_unencodable_arguments_fall_back_or_raise(broker: FakeBroker) -> None:
    route("u.rr", Mode.FUNCTION)
    route("u.strict", Mode.FUNCTION)
    assert rr({1})["by"] == "monolith"  # type: ignore[arg-type]
    with pytest.raises(UnencodableArgument, match=r"u\.strict: argument 'amount'"):
        strict({1})  # type: ignore[arg-type]
    assert broker.sent == []


def test_canary_is_sticky_per_key(broker: FakeBroker) -> None:
    route("u.rr", Mode.CANARY, 50)
    paths = {}
    for key in (f"user-{i}" for i in range(40)):
        with use_key(key):
            first = rr(1)["by"]
            assert all(rr(1)["by"] == first for _ in range(3))
            paths[key] = first
    assert set(paths.values()) == {"monolith", "function"}


def test_a_routing_key_that_is_not_utf8_text_routes_instead_of_failing_the_call(
    broker: FakeBroker,
) -> None:
    """A lone surrogate (a key read from JSON as ``"\\udcff"``) raised UnicodeEncodeError."""
    route("u.rr", Mode.CANARY, 50)
    with use_key("tenant-\udcff"):
        first = rr(1)["by"]
        assert all(rr(1)["by"] == first for _ in range(3))


def test_shadow_answers_from_the_monolith_and_records_the_mismatch(broker: FakeBroker) -> None:
    route("u.rr", Mode.SHADOW)
    broker.reply = lambda event: {"result": {"by": "function", "x": "y" * 2000}, "effects": {}}
    assert rr(5) == {"by": "monolith", "order_id": 5}
    assert shadow_pool.join()
    [(_, event)] = broker.sent
    assert event["stranglershadow"] is True
    [found] = mismatches.list("u.rr")
    assert found.field == "result"
    assert found.monolith == '{"by": "monolith", "order_id": 5}'
    assert len(found.function) == 500  # truncated
    assert found.function.endswith("…")
    assert outcomes("u.rr", "shadow") == {"mismatch": 1}


def test_a_shadow_mismatch_reaches_the_route_store_with_the_next_flush(
    broker: FakeBroker,
) -> None:
    route("u.rr", Mode.SHADOW)
    broker.reply = lambda event: {"result": {"by": "function"}, "effects": {}}
    rr(5)
    assert shadow_pool.join()
    store = get_runtime().store
    assert store.read_mismatches("u.rr") == []  # not on the request path, nor at once
    assert get_runtime().metrics.flush() is True
    [stored] = store.read_mismatches("u.rr")
    [seen] = mismatches.list("u.rr")
    assert (stored.event_id, stored.at, stored.field) == (seen.event_id, seen.at, "result")
    assert (stored.monolith, stored.function) == (seen.monolith, seen.function)
    assert stored.process == f"{socket.gethostname()}:{os.getpid()}"


def test_shadow_match(broker: FakeBroker) -> None:
    route("u.rr", Mode.SHADOW)
    broker.reply = lambda e: {"result": {"by": "monolith", "order_id": 5}, "effects": {}}
    rr(5)
    assert shadow_pool.join()
    assert outcomes("u.rr", "shadow") == {"match": 1}
    assert mismatches.list() == []


def test_shadow_candidate_failure_never_reaches_the_caller(broker: FakeBroker) -> None:
    route("u.rr", Mode.SHADOW)
    broker.fail = ConnectionError("down")
    assert rr(5)["by"] == "monolith"
    assert shadow_pool.join()
    assert outcomes("u.rr", "shadow") == {"error": 1}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"style": "async"}, "style must be"),
        ({"style": "request_reply", "outbox": True}, "outbox=True needs"),
        ({"timeout": 0}, "timeout must be > 0"),
    ],
)
def test_decorator_options_are_checked(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        routed("f", task="t", **kwargs)


def test_async_functions_are_refused() -> None:
    async def handler() -> None:
        """Not supported: the wrapper is synchronous."""

    with pytest.raises(TypeError, match="async"):
        routed("f", task="t")(handler)


def test_wrapper_keeps_the_function_identity() -> None:
    assert rr.__name__ == "rr"
    assert rr.__wrapped__(1)["by"] == "monolith"  # type: ignore[attr-defined]
    assert rr.__strangler_entry__.task == "t.rr"  # type: ignore[attr-defined]


def test_dispatch_only_always_publishes_and_never_falls_back(broker: FakeBroker) -> None:
    from shims import dispatch_only

    assert dispatch_only("u.retired", task="t.r", arguments={"order_id": 4}) is None
    [(task, event)] = broker.sent
    assert (task, event["data"]) == ("t.r", {"order_id": 4})
    reply = dispatch_only("u.retired", task="t.r", style="request_reply", arguments={"order_id": 5})
    assert reply == {"by": "function", "data": {"order_id": 5}}
    broker.fail = ConnectionError("down")
    with pytest.raises(FunctionPathError, match="ConnectionError: down"):
        dispatch_only("u.retired", task="t.r", arguments={})
    with pytest.raises(UnencodableArgument):
        dispatch_only("u.retired", task="t.r", arguments={"x": object()})
    assert outcomes("u.retired", "function") == {"ok": 2, "error": 1}


class _NoopJob:
    def run(self) -> None:
        pass


def test_shadow_pool_counts_every_job_under_concurrent_submits() -> None:
    """Increments race the workers' decrements: both must hold the pool's lock.

    The counter's store yields to other threads (as a free-threaded interpreter would
    interleave), so an unlocked ``+=`` loses updates and the count never returns to 0.
    """
    import threading
    import time

    from shims.dispatch import ShadowPool

    class SlowCounterPool(ShadowPool):
        @property  # type: ignore[override]
        def _outstanding(self) -> int:
            return self._value

        @_outstanding.setter
        def _outstanding(self, value: int) -> None:
            time.sleep(0)  # another thread may run between the read and this write
            self._value = value

    pool = SlowCounterPool(threads=2, maxsize=10**9)
    job: Any = _NoopJob()

    def submit_many() -> None:
        for _ in range(2_000):
            pool.submit(job)

    pool.submit(job)  # starts the workers in this process
    submitters = [threading.Thread(target=submit_many) for _ in range(4)]
    for t in submitters:
        t.start()
    for t in submitters:
        t.join()
    assert pool.join(timeout=5)
    assert pool._outstanding == 0


class _DeadBackend:
    def __init__(self) -> None:
        self.released: list[object] = []

    def remove_pending_result(self, pending: object) -> None:
        self.released.append(pending)
        raise ConnectionError("result backend gone")


class _Pending:
    def __init__(self, backend: _DeadBackend, outcome: object) -> None:
        self.backend: _DeadBackend | None = backend
        self.outcome = outcome

    def get(self, **_: object) -> object:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


@pytest.mark.parametrize("outcome", [{"ok": 1}, TimeoutError("no reply")])
def test_a_waited_result_is_released_even_when_its_backend_is_gone(outcome: object) -> None:
    """Else AsyncResult.__del__ unsubscribes later, on a dead backend, in the host process."""
    from shims.dispatch import Publisher

    backend = _DeadBackend()
    pending = _Pending(backend, outcome)
    if isinstance(outcome, BaseException):
        with pytest.raises(TimeoutError):
            Publisher().wait(pending, 0.1)
    else:
        assert Publisher().wait(pending, 0.1) == outcome
    assert backend.released == [pending]
    assert pending.backend is None


_BODY_RUNS: list[int] = []


@routed("u.effect", task="t.effect", style="request_reply", timeout=1.0)
def effect(order_id: int) -> str:
    _BODY_RUNS.append(order_id)
    return "monolith"


@pytest.mark.parametrize(
    "reply",
    [{"$decimal": "12,50"}, {"$model": "shop.Order", "pk": 1}, [{"$uuid": "not-a-uuid"}]],
)
def test_an_unreadable_reply_raises_and_never_runs_the_body_too(
    broker: FakeBroker, reply: Any
) -> None:
    """The handler already ran: falling back would do its work twice."""
    from shims.encoding import RemoteError

    _BODY_RUNS.clear()
    route("u.effect", Mode.FUNCTION)
    broker.reply = lambda event: reply
    with pytest.raises(RemoteError, match="reply cannot be read here") as info:
        effect(1)
    # what failed, never the reply itself (it may hold data logs must not get)
    assert json.dumps(reply, sort_keys=True) not in str(info.value)
    assert _BODY_RUNS == []
    assert len(broker.sent) == 1
    assert outcomes("u.effect", "function") == {"error": 1}
    assert breakers.get("u.effect").state is BreakerState.CLOSED


class _RecordingApp:
    """A Celery app stand-in: records each ``send_task``'s options."""

    def __init__(self) -> None:
        self.options: list[dict[str, Any]] = []

    def send_task(self, name: str, **options: Any) -> dict[str, Any]:
        self.options.append(options)
        return dict(options["args"][0])


@pytest.fixture
def recording_app(monkeypatch: pytest.MonkeyPatch, broker: FakeBroker) -> _RecordingApp:
    """The real ``Publisher.publish`` onto a recording app; replies from ``broker``."""
    from shims.dispatch import Publisher

    app = _RecordingApp()
    real = Publisher()
    monkeypatch.setattr(real, "app_for", lambda settings: app)
    monkeypatch.setattr(publisher, "publish", real.publish)
    broker.reply = lambda event: {"result": "monolith", "effects": {}}
    return app


def test_only_events_a_caller_waits_for_expire_at_its_deadline(
    recording_app: _RecordingApp,
) -> None:
    """Past the wait the caller fell back: a late worker must not do the work again."""
    route("u.effect", Mode.FUNCTION)
    route("u.ff", Mode.FUNCTION)
    effect(1)
    assert recording_app.options[-1]["expires"] == 1.0  # the feature's timeout, seconds
    assert ff(2) is None
    assert "expires" not in recording_app.options[-1]  # fire-and-forget: never expires
    route("u.effect", Mode.SHADOW)
    assert effect(3) == "monolith"
    assert shadow_pool.join()
    assert recording_app.options[-1]["expires"] == 1.0  # nobody compares it later
    assert outcomes("u.effect", "shadow") == {"match": 1}
    from shims import dispatch_only

    dispatch_only("u.retired", task="t.r", style="request_reply", timeout=2.0, arguments={})
    assert recording_app.options[-1]["expires"] == 2.0
    dispatch_only("u.retired", task="t.r", arguments={})
    assert "expires" not in recording_app.options[-1]


_KEY_CALLS: list[object] = []


def _user_key(order: dict[str, Any]) -> str:
    _KEY_CALLS.append(order)
    return str(order["user"]["id"])


@routed("u.keyed", task="t.keyed", style="request_reply", key=_user_key, timeout=1.0)
def keyed(order: dict[str, Any]) -> str:
    return "monolith"


def test_a_failing_routing_key_function_routes_to_the_monolith(
    broker: FakeBroker, caplog: pytest.LogCaptureFixture
) -> None:
    """Shim code degrades, never fails the request; the monolith is the safe side."""
    route("u.keyed", Mode.CANARY, 99)
    broker.reply = lambda event: "function"
    with caplog.at_level("WARNING", logger="shims.dispatch"):
        assert [keyed({"id": n}) for n in range(20)] == ["monolith"] * 20
    assert broker.sent == []
    assert outcomes("u.keyed", "monolith") == {"ok": 20}
    [warning] = [r.getMessage() for r in caplog.records if "routing-key" in r.getMessage()]
    assert warning.startswith("u.keyed: the routing-key function raised KeyError: 'user'")
    assert keyed({"id": 1, "user": {"id": 7}}) == "function"  # bucket(7) < 99


def test_the_routing_key_is_computed_only_in_canary_mode(broker: FakeBroker) -> None:
    _KEY_CALLS.clear()
    route("u.keyed", Mode.FUNCTION)
    broker.reply = lambda event: "function"
    assert keyed({"id": 1}) == "function"
    route("u.keyed", Mode.SHADOW)
    broker.reply = lambda event: {"result": "monolith", "effects": {}}
    assert keyed({"id": 1}) == "monolith"
    assert shadow_pool.join()
    assert _KEY_CALLS == []
    assert outcomes("u.keyed", "shadow") == {"match": 1}


def test_canary_0_and_100_need_no_routing_key(broker: FakeBroker) -> None:
    """At 100% every call belongs on the function: one whose key function raises went
    to the monolith; at 0% the key was computed for nothing."""
    _KEY_CALLS.clear()
    broker.reply = lambda event: "function"
    route("u.keyed", Mode.CANARY, 100)
    assert keyed({"id": 1}) == "function"  # no "user": the key function would raise
    route("u.keyed", Mode.CANARY, 0)
    assert keyed({"id": 1}) == "monolith"
    assert _KEY_CALLS == []


@routed("u.cart", task="t.cart", style="request_reply", timeout=1.0)
def add_item(cart: dict[str, Any], item: str) -> list[str]:
    cart["items"].append(item)  # the monolith changes its argument in place
    return list(cart["items"])


def test_the_shadow_gets_the_arguments_the_monolith_saw(broker: FakeBroker) -> None:
    route("u.cart", Mode.SHADOW)
    broker.reply = lambda event: {"result": ["a", "b"], "effects": {}}
    cart = {"items": ["a"]}
    assert add_item(cart, "b") == ["a", "b"]
    assert shadow_pool.join()
    [(_, event)] = broker.sent
    assert event["data"] == {"cart": {"items": ["a"]}, "item": "b"}  # not the mutated cart
    assert outcomes("u.cart", "shadow") == {"match": 1}


def test_a_caller_changing_the_result_causes_no_false_mismatch(broker: FakeBroker) -> None:
    import threading

    release = threading.Event()
    publish = broker.publish

    def held_publish(*args: Any, **kwargs: Any) -> Any:
        release.wait(5)  # the caller uses the result before the comparison runs
        return publish(*args, **kwargs)

    broker.publish = held_publish  # type: ignore[method-assign]
    route("u.cart", Mode.SHADOW)
    broker.reply = lambda event: {"result": ["a", "b"], "effects": {}}
    result = add_item({"items": ["a"]}, "b")
    result.append("added by the caller")
    release.set()
    assert shadow_pool.join()
    assert mismatches.list() == []
    assert outcomes("u.cart", "shadow") == {"match": 1}


class _Mutating(dict[str, Any]):
    """A dict whose items() fails as one changed by another thread during iteration."""

    def items(self) -> Any:
        raise RuntimeError("dictionary changed size during iteration")


@routed("u.any", task="t.any", style="request_reply", timeout=1.0)
def echo(value: Any) -> Any:
    return value


def test_any_shadow_encoding_failure_is_counted_and_never_reaches_the_caller(
    broker: FakeBroker,
) -> None:
    route("u.any", Mode.SHADOW)
    assert echo(_Mutating(x=1)) == {"x": 1}  # the argument
    assert echo({1}) == {1}  # an unencodable argument: still counted, as before
    assert shadow_pool.join()
    assert broker.sent == []
    assert outcomes("u.any", "shadow") == {"error": 2}
    assert outcomes("u.any", "monolith") == {"ok": 2}


@pytest.mark.django_db
def test_a_body_deleting_its_argument_is_shadowed_with_the_reference_it_got(
    broker: FakeBroker,
) -> None:
    from django.contrib.auth.models import User

    @routed("u.delete", task="t.delete", style="request_reply", timeout=1.0)
    def delete_user(user: User) -> str:
        user.delete()  # user.pk is None afterwards
        return "deleted"

    route("u.delete", Mode.SHADOW)
    broker.reply = lambda event: {"result": "deleted", "effects": {}}
    user = User.objects.create(username="gone")
    pk = user.pk
    assert delete_user(user) == "deleted"
    assert shadow_pool.join()
    [(_, event)] = broker.sent
    assert event["data"] == {"user": {"$model": "auth.User", "pk": pk}}
    assert outcomes("u.delete", "shadow") == {"match": 1}
