"""Score components, evidence and blockers on the hand-built shop."""

from __future__ import annotations

import pytest

from analyzers.analysis import Analysis, Capability, analyze
from analyzers.facts import ModuleFacts
from tests.unit.analyzers.factkit import call, fn, shop


@pytest.fixture(scope="module")
def result() -> Analysis:
    return analyze(shop())


def _cap(result: Analysis, name: str) -> Capability:
    return next(c for c in result.capabilities if c.name == name)


def _blockers(cap: Capability) -> set[tuple[str, str]]:
    return {(b.kind, b.location) for b in cap.blockers}


def test_orm_instance_argument_is_a_blocker_with_the_pk_fix(result: Analysis) -> None:
    send = _cap(result, "notifications.emails.send_order_confirmation")
    argument = [b for b in send.blockers if b.kind == "argument"]
    assert [(b.location, b.fix) for b in argument] == [
        ("orders/services.py:30", "pass order.pk instead of order")
    ]
    assert send.component("serialisability").value == 1


def test_request_argument_is_a_blocker(result: Analysis) -> None:
    place = _cap(result, "orders.services.place_order")
    request = [b for b in place.blockers if b.kind == "argument"]
    # at the call site, and at the definition that takes a request parameter
    assert [b.location for b in request] == ["orders/views.py:20", "orders/services.py:5"]
    assert all("request" in b.fix for b in request)


def test_fire_and_forget_and_side_effects(result: Analysis) -> None:
    send = _cap(result, "notifications.emails.send_order_confirmation")
    assert send.component("fire_and_forget").value == 1.0
    assert send.component("side_effects").value == 1
    assert send.component("side_effects").evidence[0].location == "notifications/emails.py:10"
    reserve = _cap(result, "inventory.stock.reserve")
    assert reserve.component("fire_and_forget").value == 0.0  # its result is used


def test_lexical_atomic_call_is_a_transaction_blocker(result: Analysis) -> None:
    send = _cap(result, "notifications.emails.send_order_confirmation")
    txn = [b for b in send.blockers if b.kind == "transaction"]
    assert [b.location for b in txn] == ["orders/services.py:30"]
    assert "orders/services.py:10" in txn[0].message  # the atomic block it sits in
    assert "on_commit" in txn[0].fix


def test_transactions_propagate_to_callees_of_code_run_in_atomic(result: Analysis) -> None:
    # reserve is called inside place_order's atomic block, so reserve's own call to
    # _total (not lexically inside any atomic) runs in that transaction too.
    total = _cap(result, "orders.services._total")
    txn = {b.location: b.message for b in total.blockers if b.kind == "transaction"}
    assert "inventory/stock.py:9" in txn
    assert "orders/services.py:10" in txn["inventory/stock.py:9"]
    reserve = _cap(result, "inventory.stock.reserve")
    locations = {e.location for e in reserve.component("transactions").evidence}
    assert {"orders/services.py:15", "inventory/stock.py:8"} <= locations


def test_shared_writes_select_for_update_and_global_state(result: Analysis) -> None:
    reserve = _cap(result, "inventory.stock.reserve")
    assert ("shared_write", "inventory/stock.py:12") in _blockers(reserve)  # its own write
    shared = next(b for b in reserve.blockers if b.kind == "shared_write")
    assert "which inventory.admin.adjust also writes (at inventory/admin.py:9)" in shared.message
    assert ("select_for_update", "inventory/stock.py:8") in _blockers(reserve)
    assert ("global_state", "inventory/stock.py:14") in _blockers(reserve)
    assert reserve.component("shared_writes").value == 1
    assert reserve.tables_written == ("inventory_stock",)


def test_foreign_reads(result: Analysis) -> None:
    send = _cap(result, "notifications.emails.send_order_confirmation")
    reads = send.component("foreign_reads")
    assert reads.value == 1
    assert reads.evidence[0].location == "orders/services.py:11"  # place_order writes it


def test_coupling_interface_and_tests(result: Analysis) -> None:
    place = _cap(result, "orders.services.place_order")
    assert place.component("inbound_coupling").value == 1
    assert place.entry_points == ("orders.services.place_order",)
    checkout = _cap(result, "orders.views.checkout")
    assert checkout.component("tests").value > 0
    assert checkout.component("tests").evidence[0].location == "tests/test_orders.py:5"
    assert checkout.component("serialisability").score < 1  # a view takes a request


def test_outbound_coupling_counts_calls_back_into_the_monolith(result: Analysis) -> None:
    reserve = _cap(result, "inventory.stock.reserve")
    out = reserve.component("outbound_coupling")
    assert out.value == 1
    assert out.evidence[0].location == "inventory/stock.py:9"


def test_cycles_crossing_the_boundary_are_blockers() -> None:
    a = ModuleFacts(
        module="a",
        path="a.py",
        lines=20,
        definitions=(fn("a.f", 1), fn("a.g", 8)),
        calls=(call("a.f", "b.h", "a.py", 3), call("a.g", "a.f", "a.py", 9)),
    )
    b = ModuleFacts(
        module="b",
        path="b.py",
        lines=10,
        definitions=(fn("b.h", 1),),
        calls=(call("b.h", "a.f", "b.py", 4),),
    )
    found = analyze([a, b], communities=False)
    h = next(c for c in found.capabilities if c.name == "b.h")
    assert h.component("cycles").value == 1
    assert ("cycle", "b.py:4") in _blockers(h)


def test_weights_change_the_score_and_ranking_is_by_score(result: Analysis) -> None:
    scores = [c.score for c in result.capabilities]
    assert scores == sorted(scores, reverse=True)
    assert [c.rank for c in result.capabilities] == list(range(1, len(scores) + 1))
    heavy = analyze(shop(), weights={"shared_writes": 50.0})
    before = _cap(result, "inventory.stock.reserve").score
    after = _cap(heavy, "inventory.stock.reserve").score
    assert after < before
    send_before = _cap(result, "notifications.emails.send_order_confirmation").score
    send_after = _cap(heavy, "notifications.emails.send_order_confirmation").score
    assert send_after > send_before  # writes nothing shared: a heavier weight helps it


def test_score_is_the_weighted_mean_times_the_blocker_factor(result: Analysis) -> None:
    for cap in result.capabilities:
        total = sum(c.weight for c in cap.components)
        mean = sum(c.weight * c.score for c in cap.components) / total
        hard = len({b.kind for b in cap.blockers if b.severity == "hard"})
        assert cap.score == pytest.approx(100 * mean * 0.8**hard, abs=0.02)
    send = _cap(result, "notifications.emails.send_order_confirmation")
    assert {b.severity for b in send.blockers if b.kind == "argument"} == {"easy"}  # a pk
