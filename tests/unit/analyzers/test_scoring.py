"""Score components, evidence and blockers on the hand-built shop."""

from __future__ import annotations

import pytest

from analyzers.analysis import Analysis, Capability, analyze
from analyzers.facts import (
    ArgKind,
    Argument,
    Definition,
    DefKind,
    EffectKind,
    GlobalState,
    GlobalUse,
    Location,
    ModuleFacts,
    OrmAccess,
    OrmOp,
    Param,
    SideEffect,
)
from tests.unit.analyzers.factkit import arg, call, fn, shop
from tests.unit.analyzers.linkkit import project


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


def test_queryset_argument_is_a_blocker_with_the_pks_fix() -> None:
    """A queryset passed to a function cannot travel in an event: its pks can."""
    files = {
        "shop/__init__.py": "",
        "shop/models.py": "from django.db import models\nclass Order(models.Model):\n    pass\n",
        "shop/views.py": """
            from shop.models import Order
            from shop.export import export

            def report(request):
                open_orders = Order.objects.filter(state="open")
                return export(open_orders)
        """,
        "shop/export.py": """
            def export(orders):
                return [o.pk for o in orders]
        """,
    }
    cap = _cap(analyze(tuple(project(files).values())), "shop.export.export")
    argument = [b for b in cap.blockers if b.kind == "argument"]
    assert [(b.location, b.severity, b.fix) for b in argument] == [
        (
            "shop/views.py:7",
            "easy",
            "pass list(open_orders.values_list('pk', flat=True)) (or the filter's values) "
            "instead of open_orders",
        )
    ]
    assert "open_orders passed to shop.export.export is queryset" in [
        e.detail for e in cap.component("serialisability").evidence
    ]


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


def test_unresolved_calls_are_shown_as_outbound_evidence_but_not_counted() -> None:
    """Counted and shown, never guessed: a user sees where coupling may hide."""
    a = ModuleFacts(
        module="a",
        path="a.py",
        lines=20,
        definitions=(fn("a.f", 1),),
        calls=(
            call("a.f", "b.h", "a.py", 2),
            call("a.f", None, "a.py", 3, text="self.helper.render"),
        ),
    )
    b = ModuleFacts(
        module="b",
        path="b.py",
        lines=10,
        definitions=(fn("b.h", 1), fn("b.k", 5)),
        calls=(call("b.k", "b.h", "b.py", 6), call("b.k", "a.f", "b.py", 7)),
    )
    found = analyze([a, b], communities=False)
    f = next(c for c in found.capabilities if c.name == "a.f")
    out = f.component("outbound_coupling")
    assert out.value == 1  # b.h only: the unresolved call adds no target
    assert out.evidence_total == 2
    assert [(e.location, e.detail) for e in out.evidence] == [
        ("a.py:2", "a.f calls b.h (pure helper: copy it)"),
        ("a.py:3", "a.f calls self.helper.render(): unresolved, not counted"),
    ]
    assert out.summary.endswith("; 1 unresolved calls not counted")


def test_an_object_built_from_the_request_is_a_request_argument() -> None:
    """``Cart(request)`` handed on is the request in disguise; another object is not."""
    method = DefKind.METHOD
    c = ModuleFacts(
        module="c",
        path="c.py",
        lines=40,
        definitions=(
            fn("c.Cart", 1, kind=DefKind.CLASS),
            fn("c.Cart.__init__", 2, parent="c.Cart", kind=method, params=("self", "request")),
            fn("c.SessionCart", 6, kind=DefKind.CLASS, bases=("c.Cart",)),
            fn("c.Total", 10, kind=DefKind.CLASS),
            fn("c.Total.__init__", 11, parent="c.Total", kind=method, params=("self", "amount")),
            fn("c.Form", 14, kind=DefKind.CLASS),
            Definition(
                "c.Form.__init__",
                method,
                Location("c.py", 15),
                17,
                parent="c.Form",
                params=(Param("self"), Param("data"), Param("request", has_default=True)),
            ),
            fn("c.place", 30),
        ),
    )
    v = ModuleFacts(
        module="v",
        path="v.py",
        lines=10,
        definitions=(fn("v.view", 20),),
        calls=tuple(
            call("v.view", "c.place", "v.py", line, Argument(text, ArgKind.UNKNOWN, ref=ref))
            for line, text, ref in (
                (21, "cart", "c.Cart()"),
                (22, "session_cart", "c.SessionCart()"),  # inherits Cart.__init__
                (23, "total", "c.Total()"),
                (24, "thing", "c.Unknown()"),  # not analysed code: stays unknown
                (25, "form", "c.Form()"),  # request=None: may hold none
            )
        ),
    )
    found = analyze([c, v], communities=False)
    place = next(cap for cap in found.capabilities if cap.name == "c.place")
    argument = [b for b in place.blockers if b.kind == "argument"]
    assert [b.location for b in argument] == ["v.py:21", "v.py:22"]
    assert "an instance of c.Cart, which holds the request" in argument[0].message
    assert "an instance of c.SessionCart, which holds the request" in argument[1].message
    assert place.component("serialisability").value == 5  # none is plain JSON
    assert place.component("serialisability").score == pytest.approx((0 + 0 + 3 * 0.8) / 5)


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


def test_weights_change_the_score_and_ranking_is_by_role_then_score(result: Analysis) -> None:
    keys = [(c.role != "capability", -c.score) for c in result.capabilities]
    assert keys == sorted(keys)
    assert [c.rank for c in result.capabilities] == list(range(1, len(keys) + 1))
    heavy = analyze(shop(), weights={"shared_writes": 50.0})
    before = _cap(result, "inventory.stock.reserve").score
    after = _cap(heavy, "inventory.stock.reserve").score
    assert after < before
    send_before = _cap(result, "notifications.emails.send_order_confirmation").score
    send_after = _cap(heavy, "notifications.emails.send_order_confirmation").score
    assert send_after > send_before  # writes nothing shared: a heavier weight helps it


def _notifier(callers: int = 1, *, atomic: bool = False) -> list[ModuleFacts]:
    """``jobs.mail.notify`` (lines 1-60, sends one mail) called by ``callers`` views, each
    passing one JSON literal and ignoring the result; ``atomic``: inside a transaction."""
    views = tuple(fn(f"web.views.v{i}", 10 * i + 1, 10 * i + 9) for i in range(callers))
    sites = tuple(
        call(
            v.qualname,
            "jobs.mail.notify",
            v.loc.path,
            v.loc.line + 1,
            arg("1"),
            used=False,
            atomic=atomic,
        )
        for v in views
    )
    mail = SideEffect("jobs.mail.notify", EffectKind.MAIL, "send_mail", Location("jobs/mail.py", 5))
    notify = fn("jobs.mail.notify", 1, 60, params=("n",))
    return [
        ModuleFacts("jobs.mail", "jobs/mail.py", 60, definitions=(notify,), effects=(mail,)),
        ModuleFacts("web.views", "web/views.py", 10 * callers + 10, definitions=views, calls=sites),
    ]


def _notify_score(
    callers: int = 1, *, atomic: bool = False, weights: dict[str, float] | None = None
) -> float:
    found = analyze(_notifier(callers, atomic=atomic), weights=weights, communities=False)
    return _cap(found, "jobs.mail.notify").score


# Goodness of each component of jobs.mail.notify with one caller, worked out by hand
# from the table in docs/analysis.md (1 = no obstacle), and the default weights.
NOTIFY_BY_HAND = {
    # name: (goodness, weight)
    "inbound_coupling": (1.0, 1.0),  # 1 caller: h=4 on value-1 = 0
    "outbound_coupling": (1.0, 1.5),  # calls nothing back
    "shared_writes": (1.0, 2.0),
    "foreign_reads": (1.0, 0.75),
    "cycles": (1.0, 1.0),
    "interface_width": (1.0, 0.5),  # one entry point
    "serialisability": (1.0, 1.5),  # one JSON argument
    "fire_and_forget": (1.0, 1.0),  # 0.5 + 0.5 x every site ignores the result
    "transactions": (1.0, 1.5),
    "global_state": (1.0, 1.0),
    "side_effects": (0.75, 1.0),  # 1 - 1/2 / (1 + 1 mail)
    "size": (1 / 1.2, 0.5),  # 60 lines: min(1, 60/30) x 1 / (1 + 60/300)
    "tests": (0.0, 0.5),  # no test reaches it
}


def test_the_score_of_a_small_capability_matches_a_hand_computation() -> None:
    found = analyze(_notifier(), communities=False)
    notify = _cap(found, "jobs.mail.notify")
    assert {c.name: c.score for c in notify.components} == pytest.approx(
        {name: goodness for name, (goodness, _) in NOTIFY_BY_HAND.items()}, abs=1e-4
    )
    assert notify.blockers == ()
    # 100 x (10 x 1.0 weighted 11.75, + 0.75 + 0.5/1.2 + 0) / 13.75
    assert notify.score == pytest.approx(93.94, abs=0.01)


def test_a_hard_blocker_costs_its_component_and_a_fifth_of_the_total() -> None:
    # inside atomic: transactions goodness 1/(1 + 1/1) = 0.5 (weight 1.5), and one hard
    # blocker kind ("transaction"): x 0.8.  100 x (12.9167 - 0.75) / 13.75 x 0.8
    assert _notify_score(atomic=True) == pytest.approx(70.79, abs=0.01)


def test_a_zero_weight_removes_its_component_from_the_total() -> None:
    # without "tests" (goodness 0, weight 0.5): 100 x 12.9167 / 13.25
    assert _notify_score(weights={"tests": 0.0}) == pytest.approx(97.48, abs=0.01)


def test_more_inbound_coupling_never_raises_the_score() -> None:
    scores = [_notify_score(callers) for callers in range(1, 7)]
    assert scores == sorted(scores, reverse=True)
    assert scores[-1] < scores[0]


def test_a_blocker_never_raises_the_score(result: Analysis) -> None:
    for callers in (1, 3):
        assert _notify_score(callers, atomic=True) < _notify_score(callers)
    for cap in result.capabilities:  # and every score stays within 0..100
        assert 0 <= cap.score <= 100
        hard = {b.kind for b in cap.blockers if b.severity == "hard"}
        assert not hard or cap.score <= 80  # at least one factor 0.8 on at most 100
    send = _cap(result, "notifications.emails.send_order_confirmation")
    assert {b.severity for b in send.blockers if b.kind == "argument"} == {"easy"}  # a pk


def _helpers_and_behaviours() -> list[ModuleFacts]:
    """A pure formatter used from three places, a 40-line pure pricing rule, a tiny
    wrapper over a query, a method called from outside, and their callers."""
    util, rules, db, cart, web = (
        "util/money.py",
        "rules/calc.py",
        "db/q.py",
        "cart/c.py",
        "web/views.py",
    )
    return [
        ModuleFacts(
            module="util.money",
            path=util,
            lines=20,
            definitions=(fn("util.money.fmt", 3, 7), fn("util.money.total", 10, 14)),
            calls=(call("util.money.total", "db.q.fetch", util, 11),),
            globals=(GlobalState("util.money.SYMBOLS", Location(util, 1), "dict"),),
            global_uses=(
                GlobalUse("util.money.fmt", "util.money.SYMBOLS", Location(util, 4), False),
            ),
        ),
        ModuleFacts(
            module="db.q",
            path=db,
            lines=10,
            definitions=(fn("db.q.fetch", 1, 3),),
            orm=(OrmAccess("db.q.fetch", "db.models.Row", OrmOp.READ, "filter", Location(db, 2)),),
        ),
        ModuleFacts(
            module="rules.calc",
            path=rules,
            lines=45,
            definitions=(fn("rules.calc.quote", 1, 40, params=("weight",)),),
            calls=(call("rules.calc.quote", "util.money.fmt", rules, 30),),
        ),
        ModuleFacts(
            module="cart.c",
            path=cart,
            lines=30,
            definitions=(
                fn("cart.c.Cart", 1, 30, kind=DefKind.CLASS),
                fn(
                    "cart.c.Cart.lines",
                    5,
                    25,
                    parent="cart.c.Cart",
                    kind=DefKind.METHOD,
                    params=("self",),
                ),
            ),
            calls=(call("cart.c.Cart.lines", "db.q.fetch", cart, 6),),
        ),
        ModuleFacts(
            module="web.views",
            path=web,
            lines=40,
            definitions=(
                fn("web.views.a", 1, 9),
                fn("web.views.b", 10, 19),
                fn("web.views.c", 20, 29),
            ),
            calls=(
                call("web.views.a", "util.money.fmt", web, 2, arg("1")),
                call("web.views.b", "util.money.fmt", web, 12, arg("2")),
                call("web.views.b", "util.money.total", web, 13, arg("2")),
                call("web.views.c", "rules.calc.quote", web, 22, arg("3")),
                call("web.views.c", "cart.c.Cart.lines", web, 23),
            ),
        ),
    ]


def test_pure_small_code_is_a_helper_ranked_after_every_capability() -> None:
    found = analyze(_helpers_and_behaviours(), communities=False)
    caps = {c.name: c for c in found.capabilities}
    fmt = caps["util.money.fmt"]  # reads only a constant: still pure
    assert fmt.role == "helper"
    assert "copy it" in fmt.role_reason
    assert caps["util.money.total"].role == "capability"  # a query, through db.q.fetch
    assert caps["rules.calc.quote"].role == "capability"  # pure, but 40 lines of rules
    assert caps["rules.calc.quote"].role_reason == ""
    roles = [c.role for c in found.capabilities]
    assert roles == sorted(roles)  # "capability" < "helper": helpers come last
    # the role decides, not the score: the helper outscores a capability it ranks below
    assert fmt.score > min(c.score for c in found.capabilities if c.role == "capability")


def test_a_called_pure_helper_is_copied_not_called_back() -> None:
    found = analyze(_helpers_and_behaviours(), communities=False)
    quote = next(c for c in found.capabilities if c.name == "rules.calc.quote")
    outbound = quote.component("outbound_coupling")
    assert outbound.value == 1
    assert outbound.score == pytest.approx(1 / (1 + 0.25 / 3), abs=1e-4)  # 1/4 of a call back
    assert "pure helper: copy it" in outbound.evidence[0].detail


def test_an_instance_method_carries_its_object() -> None:
    found = analyze(_helpers_and_behaviours(), communities=False)
    lines = next(c for c in found.capabilities if c.name == "cart.c.Cart.lines")
    ser = lines.component("serialisability")
    assert ser.value == 1
    assert ser.score == pytest.approx(0.3)
    assert "cart.c.Cart instance (self)" in ser.evidence[0].detail


def test_size_counts_the_code_a_small_facade_runs() -> None:
    found = analyze(_helpers_and_behaviours(), communities=False)
    total = next(c for c in found.capabilities if c.name == "util.money.total")
    size = total.component("size")
    assert size.value == 5
    assert "runs 8 with its callees" in size.summary  # its 5 lines + fetch's 3
    assert size.score == pytest.approx(8 / 30 / (1 + 5 / 300), abs=1e-4)


def test_a_part_of_an_entry_candidate_behind_the_same_seam_is_not_listed_twice() -> None:
    mod = ModuleFacts(
        module="q.mod",
        path="q/mod.py",
        lines=30,
        definitions=(fn("q.mod.entry", 1, 9), fn("q.mod._h", 10, 19)),
        calls=(
            call("q.mod.entry", "q.mod._h", "q/mod.py", 2),
            call("q.mod._h", "z.util.only", "q/mod.py", 12),
        ),
    )
    only = ModuleFacts(
        module="z.util", path="z/util.py", lines=10, definitions=(fn("z.util.only", 1, 9),)
    )
    caller = ModuleFacts(
        module="w.v",
        path="w/v.py",
        lines=10,
        definitions=(fn("w.v.view", 1, 9),),
        calls=(call("w.v.view", "q.mod.entry", "w/v.py", 2),),
    )
    found = analyze([mod, only, caller], communities=False)
    names = {c.name for c in found.capabilities}
    entry = next(c for c in found.capabilities if c.name == "q.mod.entry")
    assert set(entry.members) == {"q.mod.entry", "q.mod._h", "z.util.only"}
    assert "q.mod" not in names  # same seam, leaves z.util.only behind


def test_chained_calls_at_one_location_are_evidence_in_callee_order() -> None:
    """Both calls of ``Engine.get_default().from_string(...)`` sit at one location: they
    are ordered by callee, not by the order the candidate's members (a set, whose order
    follows the hash seed) happened to be visited in."""
    from tests.unit.analyzers.linkkit import project

    files = {
        "engine.py": """
            class Engine:
                @classmethod
                def get_default(cls):
                    return cls()

                def from_string(self, text):
                    open(text)
                    return text
        """,
        "views.py": """
            from engine import Engine

            def page(text):
                return Engine.get_default().from_string(text)
        """,
    }
    result = analyze(tuple(project(files).values()))
    cap = _cap(result, "engine")
    sites = [e.detail for e in cap.component("inbound_coupling").evidence]
    assert sites == [
        "views.page calls engine.Engine.from_string",
        "views.page calls engine.Engine.get_default",
    ]
    assert len({e.location for e in cap.component("inbound_coupling").evidence}) == 1


_AUDITED = {
    "acc/__init__.py": "",
    "acc/models.py": "from django.db import models\nclass Audit(models.Model):\n    pass\n",
    "acc/deco.py": """
import functools
from .models import Audit
def audited(fn):
    @functools.wraps(fn)
    def wrapper(*a, **kw):
        Audit.objects.create()
        return fn(*a, **kw)
    return wrapper
""",
}


def _decorated(services: str, views: str) -> Analysis:
    files = {**_AUDITED, "acc/services.py": services, "acc/views.py": views}
    return analyze(list(project(files).values()), communities=False)


def test_a_decorator_s_writes_move_with_the_one_function_it_wraps() -> None:
    services = """
from django.contrib.auth.decorators import login_required
from .deco import audited
@audited
def close_account(user_id):
    return user_id
@login_required
def plain(user_id):
    return user_id
"""
    views = """
from .services import close_account, plain
def close(request):
    close_account(request.user.pk)
    plain(request.user.pk)
"""
    caps = {c.name: c for c in _decorated(services, views).capabilities}
    close = caps["acc.services.close_account"]
    assert close.tables_written == ("acc_audit",)
    assert {"acc.deco.audited", "acc.deco.audited.wrapper"} <= set(close.members)
    assert close.role == "capability"
    # an external decorator is no coupling: nothing moves with it, nothing calls back
    plain = caps["acc.services.plain"]
    assert plain.members == ("acc.services.plain",)
    assert plain.component("outbound_coupling").value == 0
    assert plain.role == "helper"


def test_a_shared_decorator_that_writes_is_called_back_not_copied() -> None:
    services = """
from .deco import audited
@audited
def close_account(user_id):
    return user_id
@audited
def open_account(user_id):
    return user_id
"""
    views = """
from .services import close_account, open_account
def close(request):
    close_account(request.user.pk)
def reopen(request):
    open_account(request.user.pk)
"""
    caps = {c.name: c for c in _decorated(services, views).capabilities}
    close = caps["acc.services.close_account"]
    outbound = close.component("outbound_coupling")
    assert outbound.value == 1
    assert "calls acc.deco.audited (stays behind)" in outbound.evidence[0].detail
    assert close.role == "capability"  # what its wrapper writes is its behaviour too


def test_a_raw_sql_writer_is_a_shared_writer_and_its_row_lock_a_blocker() -> None:
    """The writer an ORM-only view misses: a report job's ``UPDATE`` of the table the
    capability writes, and a ``SELECT ... FOR UPDATE`` holding its rows."""
    files = {
        "acc/__init__.py": "",
        "acc/models.py": "from django.db import models\nclass Audit(models.Model):\n    pass\n",
        "acc/services.py": """
from .models import Audit
def record(user_id):
    Audit.objects.create(user=user_id)
""",
        "acc/views.py": """
from .services import record
def close(request):
    record(request.user.pk)
""",
        "reports/__init__.py": "",
        "reports/nightly.py": """
from celery import shared_task
from django.db import connection
def purge():
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM acc_audit WHERE created < now() - interval '1 year'")
@shared_task
def tally():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM acc_audit FOR UPDATE")
        cursor.execute("INSERT INTO acc_audit_tally (n) VALUES (1)")
@shared_task
def deactivate(pk):
    from django.contrib.auth.models import User
    User.objects.select_for_update().filter(pk=pk).update(is_active=False)
""",
    }
    caps = {c.name: c for c in analyze(list(project(files).values())).capabilities}
    record = caps["acc.services.record"]
    shared = next(b for b in record.blockers if b.kind == "shared_write")
    assert shared.location == "acc/services.py:4"
    assert "which reports.nightly.purge also writes (at reports/nightly.py:6)" in shared.message
    tally = caps["reports.nightly.tally"]
    assert ("select_for_update", "reports/nightly.py:10") in _blockers(tally)
    lock = next(b for b in tally.blockers if b.kind == "select_for_update")
    assert "locks acc.models.Audit rows with SELECT ... FOR UPDATE" in lock.message
    assert "acc_audit_tally" in tally.tables_written  # a table no model maps to
    deactivate = caps["reports.nightly.deactivate"]  # Django's User: its table, ORM words
    assert deactivate.tables_written == ("auth_user",)
    lock = next(b for b in deactivate.blockers if b.kind == "select_for_update")
    assert "locks django.contrib.auth.models.User rows with select_for_update" in lock.message


def test_the_admin_is_a_writer_named_after_request_path_code_with_its_own_fix() -> None:
    files = {
        "acc/__init__.py": "",
        "acc/models.py": "from django.db import models\nclass Audit(models.Model):\n    pass\n",
        "acc/admin.py": """
from django.contrib import admin
from .models import Audit
@admin.register(Audit)
class AuditAdmin(admin.ModelAdmin):
    pass
""",
        "acc/services.py": """
from .models import Audit
def record(user_id):
    Audit.objects.create(user=user_id)
def purge():
    Audit.objects.all().delete()
""",
        "acc/views.py": """
from .services import record, purge
def close(request):
    record(request.user.pk)
def clean(request):
    purge()
""",
    }
    modules = list(project(files).values())
    record = next(c for c in analyze(modules).capabilities if c.name == "acc.services.record")
    (shared,) = [b for b in record.blockers if b.kind == "shared_write"]
    # the admin (acc.admin sorts first) is the least telling example of another writer
    assert "which acc.services.purge also writes" in shared.message
    evidence = {e.detail for e in record.component("shared_writes").evidence}
    assert "acc.admin.AuditAdmin also writes acc_audit" in evidence
    del files["acc/services.py"]
    files["acc/services.py"] = (
        "from .models import Audit\ndef record(user_id):\n    Audit.objects.create()\n"
    )
    files["acc/views.py"] = "from .services import record\ndef close(request):\n    record(1)\n"
    modules = list(project(files).values())
    record = next(c for c in analyze(modules).capabilities if c.name == "acc.services.record")
    (shared,) = [b for b in record.blockers if b.kind == "shared_write"]
    assert "which acc.admin.AuditAdmin also writes (at acc/admin.py:4)" in shared.message
    assert "make acc.admin.AuditAdmin read-only for it" in shared.fix


def test_a_view_a_test_requests_by_its_url_name_is_tested() -> None:
    """``self.client.get(reverse("shop:product_list"))``: the test requests the view the
    URLconf names so (its ``app_name`` the namespace, the innermost of nested ones; a
    DRF router's ``basename-list``), and what the view calls, as a direct call would.
    A name two views share (``about`` in two URLconfs without a namespace), or a
    namespace no URLconf declares, tells nothing: never guessed."""
    files = {
        "shop/__init__.py": "",
        "shop/views.py": """
            from django.views import View

            def product_list(request):
                return helper()

            def helper():
                return 1

            def detail(request, pk):
                def unused():
                    pass

            class Cart(View):
                def get(self, request):
                    pass

            class Base(View):
                def get(self, request):
                    pass

                def post(self, request):
                    pass

            class Checkout(Base):
                def get(self, request):
                    pass
        """,
        "shop/urls.py": """
            from django.urls import path
            from shop import views

            app_name = "shop"
            urlpatterns = [
                path("", views.product_list, name="product_list"),
                path("<int:pk>/", views.detail, name="detail"),
                path("cart/", views.Cart.as_view(), name="cart"),
                path("checkout/", views.Checkout.as_view(), name="checkout"),
            ]
        """,
        "blog/__init__.py": "",
        "blog/views.py": "def detail(request, pk):\n    pass\ndef about(request):\n    pass\n",
        "blog/urls.py": """
            from django.urls import path
            from blog import views

            app_name = "blog"
            urlpatterns = [path("<int:pk>/", views.detail, name="detail")]
        """,
        "pages/__init__.py": "",
        "pages/views.py": (
            "def about(request):\n    pass\ndef contact(request):\n    pass\n"
            "def index(request):\n    pass\n"
        ),
        "pages/urls.py": """
            from django.urls import path
            from pages import views

            urlpatterns = [path("about/", views.about, name="about")]
        """,
        "pages/more.py": """
            from django.urls import path
            from pages import views

            urlpatterns = [
                path("contact/", views.contact, name="contact"),
                path("", views.index, name="index"),
            ]
        """,
        "legal/__init__.py": "",
        "legal/views.py": "def about(request):\n    pass\n",
        "legal/urls.py": """
            from django.urls import path
            from legal import views

            urlpatterns = [path("about/", views.about, name="about")]
        """,
        "shop/tests.py": """
            from django.test import TestCase
            from django.urls import reverse

            class ShopTests(TestCase):
                def test_list(self):
                    self.client.get(reverse("shop:product_list"))

                def test_cart(self):
                    self.client.get(reverse(viewname="shop:cart"))
                    self.client.post(reverse("shop:checkout"))

                def test_detail(self):
                    self.client.get(reverse("shop:detail", args=[1]))

                def test_about(self):
                    self.client.get(reverse("about"))

                def test_elsewhere(self):
                    self.client.get(reverse("news:detail"))  # not blog's ``detail``
                    self.client.get(reverse("site:contact"))  # ``include(namespace=)``
                    self.client.get(reverse("admin:index"))  # Django's, not pages'
                    self.client.get(reverse("api:order-list"))
                    self.client.get(reverse("api:order"))  # no such name

                def test_nested(self):
                    self.client.get(reverse("site:blog:detail"))
        """,
        "api/__init__.py": "",
        "api/views.py": "class OrderViewSet:\n    pass\nclass TagViewSet:\n    pass\n",
        "api/urls.py": """
            from rest_framework.routers import DefaultRouter
            from api import views

            app_name = "api"
            router = DefaultRouter()
            router.register("orders", views.OrderViewSet, basename="order")
            router.register("tags", views.TagViewSet, basename="tag")
            urlpatterns = router.urls
        """,
    }
    found = analyze(list(project(files).values()), communities=False)
    tests = {c.name: c.component("tests") for c in found.capabilities}
    listing = tests["shop.views.product_list"]
    assert (listing.value, listing.score) == (1.0, 1.0)  # the view and its helper
    assert [(e.location, e.detail) for e in listing.evidence] == [
        (
            "shop/tests.py:7",
            "test shop.tests.ShopTests.test_list requests 'shop:product_list' "
            "(shop.views.product_list)",
        )
    ]
    assert listing.summary == "2 of 2 reached from tests (0 direct calls, 1 URL requests)"
    assert tests["shop.views.Cart"].value == 1.0  # the class and its handler
    # the module: all but ``detail``'s nested function, ``Base`` itself and ``Base.get``
    # (``Checkout`` overrides it); ``Base.post`` is what Django dispatches a POST to
    assert tests["shop.views"].summary.startswith("8 of 11 reached")
    # ``shop:``, not blog's ``detail``; its nested function is not a handler Django calls
    assert tests["shop.views.detail"].summary.startswith("1 of 2 reached")
    assert tests["pages.views.about"].value == 0.0
    assert tests["legal.views.about"].value == 0.0
    assert tests["pages.views.contact"].value == 0.0  # an instance namespace: unseen
    assert tests["pages.views.index"].value == 0.0
    assert tests["blog.views.detail"].value == 1.0  # the innermost namespace tells
    assert tests["api.views.OrderViewSet"].value == 1.0  # DRF's ``order-list``
    assert tests["api.views.TagViewSet"].value == 0.0


def test_a_method_entry_point_is_a_hard_blocker_a_function_is_not() -> None:
    """``strangler extract`` refuses a method (no event carries its ``self``): the
    ranking says so too, with the definition's line and the way out."""
    files = {
        "shop/cart.py": """
            class Cart:
                def weight(self):
                    return 3

            def weight_of(lines):
                return len(lines)
            """,
        "shop/views.py": """
            from shop.cart import Cart, weight_of

            def page(request):
                return Cart().weight() + weight_of([1])
            """,
    }
    result = analyze(tuple(project(files).values()), communities=False)
    method = _cap(result, "shop.cart.Cart.weight")
    assert ("method", "shop/cart.py:3") in _blockers(method)
    blocker = next(b for b in method.blockers if b.kind == "method")
    assert blocker.severity == "hard"
    assert "module-level function" in blocker.fix
    assert not [b for b in _cap(result, "shop.cart.weight_of").blockers if b.kind == "method"]
