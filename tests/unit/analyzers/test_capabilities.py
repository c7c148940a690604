"""Candidate capabilities: dominators, apps, modules, communities, merging, names."""

from __future__ import annotations

from analyzers.capabilities import (
    Candidate,
    build_capability_graph,
    find_candidates,
    framework_role,
)
from analyzers.facts import DefKind, Location, ModuleFacts, UrlRoute
from analyzers.graph import build_graph, build_index
from tests.unit.analyzers.factkit import call, fn, path_of, shop


def _candidates(modules: list[ModuleFacts], communities: bool = True) -> dict[str, Candidate]:
    index = build_index(modules)
    cap = build_capability_graph(build_graph(modules, index), index)
    return {c.name: c for c in find_candidates(cap, index, communities=communities)}


def test_entry_point_owns_the_code_only_it_reaches() -> None:
    found = _candidates(shop())
    send = found["notifications.emails.send_order_confirmation"]
    assert send.members == {
        "notifications.emails.send_order_confirmation",
        "notifications.emails._render",
    }
    assert send.sources[0] == "entry"


def test_shared_helper_is_dominated_by_the_common_caller() -> None:
    # _total is called by place_order and by reserve, and reserve only by place_order:
    # every path to _total passes through place_order.
    found = _candidates(shop())
    assert "orders.services._total" in found["orders.services.place_order"].members
    assert "orders.services._total" not in found["inventory.stock.reserve"].members


def test_diamond_join_is_not_owned_by_either_branch() -> None:
    view = (UrlRoute("a/", "m.a", "a", Location("urls.py", 1)),)
    m = ModuleFacts(
        module="m",
        path="m.py",
        lines=40,
        urls=view,
        definitions=tuple(fn(f"m.{n}", i * 5 + 1) for i, n in enumerate("abcd")),
        calls=(
            call("m.a", "m.b", "m.py", 2),
            call("m.a", "m.c", "m.py", 3),
            call("m.b", "m.d", "m.py", 7),
            call("m.c", "m.d", "m.py", 12),
        ),
    )
    other = ModuleFacts(
        module="n",
        path="n.py",
        lines=5,
        definitions=(fn("n.e", 1),),
        calls=(call("n.e", "m.b", "n.py", 2), call("n.e", "m.c", "n.py", 3)),
    )
    alone = _candidates([m], communities=False)
    assert alone["m.a"].members == {"m.a", "m.b", "m.c", "m.d"}  # all reached only via a
    found = _candidates([m, other], communities=False)
    assert found["m.a"].members == {"m.a"}  # n.e reaches b, c and d without a
    assert found["m.b"].members == {"m.b"}  # d is reached through b or c: neither owns it
    assert found["m.c"].members == {"m.c"}
    assert not any(c.anchor == "m.d" for c in found.values())  # an in-module helper


def test_models_are_not_entry_candidates_and_tests_never_members() -> None:
    found = _candidates(shop())
    assert not any(
        c.anchor == "orders.models.Order" and "entry" in c.sources for c in found.values()
    )
    assert all(not m.startswith("tests.") for c in found.values() for m in c.members)


def test_django_apps_and_modules() -> None:
    found = _candidates(shop())
    assert found["orders"].sources == ("app",)
    assert found["orders"].members == {
        "orders.models.Order",
        "orders.views.checkout",
        "orders.services.place_order",
        "orders.services._total",
    }
    assert found["inventory"].members == {
        "inventory.models.Stock",
        "inventory.stock.reserve",
        "inventory.admin.adjust",
    }
    assert found["orders.services"].sources == ("module",)


def test_identical_sets_merge_with_all_sources() -> None:
    found = _candidates(shop())
    send = found["notifications.emails.send_order_confirmation"]
    assert "module" in send.sources  # notifications.emails has exactly these members
    assert "notifications.emails" not in found


def test_communities_are_found_and_named_after_their_centre() -> None:
    # six functions over two modules, all calling each other: one community
    names = ["c.f0", "c.f1", "c.f2", "d.g0", "d.g1", "d.g2"]
    calls = [(a, b) for a in names for b in names if a != b]

    def module(name: str) -> ModuleFacts:
        mine = [n for n in names if n.startswith(name + ".")]
        return ModuleFacts(
            module=name,
            path=f"{name}.py",
            lines=40,
            definitions=tuple(fn(n, i * 5 + 1) for i, n in enumerate(mine)),
            calls=tuple(call(a, b, f"{name}.py", 2) for a, b in calls if a in mine),
        )

    found = _candidates([module("c"), module("d")])
    community = [c for c in found.values() if c.sources == ("community",)]
    assert [c.members for c in community] == [frozenset(names)]
    assert community[0].name == f"{community[0].anchor}+5"
    assert found["c"].sources == ("module",)


def test_names_are_unique() -> None:
    index = build_index(shop())
    cap = build_capability_graph(build_graph(shop(), index), index)
    names = [c.name for c in find_candidates(cap, index)]
    assert len(names) == len(set(names))


def test_hand_written_dominators_match_networkx() -> None:
    import random

    import networkx as nx

    from analyzers.capabilities import ROOT, immediate_dominators

    rng = random.Random(7)
    for _ in range(30):
        g = nx.gnp_random_graph(40, 0.06, seed=rng.randrange(10**6), directed=True)
        g = nx.relabel_nodes(g, {n: f"n{n:02d}" for n in g})
        entries = sorted(rng.sample(sorted(g), 3))
        mine = immediate_dominators(g.succ, g.pred, entries)
        rooted = nx.DiGraph(g)
        rooted.add_edges_from((ROOT, e) for e in entries)
        rooted.add_edges_from((ROOT, n) for n in set(g) - nx.descendants(rooted, ROOT))
        expected = nx.immediate_dominators(rooted, ROOT)
        assert {k: v for k, v in mine.items() if k != ROOT} == {
            k: v for k, v in expected.items() if k != ROOT
        }


def test_django_framework_subclasses_are_not_entry_points() -> None:
    forms = ModuleFacts(
        module="shop.forms",
        path="shop/forms.py",
        lines=10,
        definitions=(
            fn("shop.forms.OrderForm", 1, 5, kind=DefKind.CLASS, bases=("django.forms.Form",)),
            fn("shop.forms.Pricing", 6, 9, kind=DefKind.CLASS),
        ),
    )
    views = ModuleFacts(
        module="web.views",
        path="web/views.py",
        lines=10,
        definitions=(fn("web.views.v", 1),),
        calls=(
            call("web.views.v", "shop.forms.OrderForm", "web/views.py", 2),
            call("web.views.v", "shop.forms.Pricing", "web/views.py", 3),
        ),
    )
    found = _candidates([forms, views], communities=False)
    anchors = {c.anchor for c in found.values() if "entry" in c.sources}
    assert "shop.forms.Pricing" in anchors  # a plain class called across areas
    assert "shop.forms.OrderForm" not in anchors  # Django drives it


def _plumbing() -> list[ModuleFacts]:
    """A management command, manage.py, an AppConfig and a URLconf around one service."""
    command = "shop.management.commands.export"
    handle = f"{command}.Command.handle"
    return [
        ModuleFacts(
            module="manage",
            path="manage.py",
            lines=12,
            definitions=(fn("manage.main", 1, 10),),
            calls=(call("manage", "manage.main", "manage.py", 12),),
        ),
        ModuleFacts(
            module=command,
            path=path_of(command),
            lines=20,
            definitions=(
                fn(
                    f"{command}.Command",
                    3,
                    20,
                    kind=DefKind.CLASS,
                    bases=("django.core.management.base.BaseCommand",),
                ),
                fn(handle, 5, 20, parent=f"{command}.Command", kind=DefKind.METHOD),
                fn(f"{command}.helper", 22, 30),
            ),
            calls=(
                call(handle, "sales.report.build", path_of(command), 8),
                call(handle, f"{command}.helper", path_of(command), 9),
            ),
        ),
        ModuleFacts(
            module="shop.apps",
            path="shop/apps.py",
            lines=8,
            definitions=(
                fn(
                    "shop.apps.ShopConfig",
                    1,
                    8,
                    kind=DefKind.CLASS,
                    bases=("django.apps.AppConfig",),
                ),
                fn(
                    "shop.apps.ShopConfig.ready",
                    4,
                    8,
                    parent="shop.apps.ShopConfig",
                    kind=DefKind.METHOD,
                ),
            ),
        ),
        ModuleFacts(
            module="sales.report",
            path="sales/report.py",
            lines=40,
            definitions=(fn("sales.report.build", 1, 40, params=("start", "end")),),
        ),
    ]


def test_framework_plumbing_is_not_a_candidate() -> None:
    found = _candidates(_plumbing(), communities=False)
    assert "sales.report.build" in found  # the service the command calls stays a candidate
    plumbing = [n for n in found if n.startswith(("manage", "shop.management", "shop.apps"))]
    assert plumbing == []


def test_framework_role_names_the_convention() -> None:
    index = build_index(_plumbing())
    assert framework_role("manage", index) == "manage.py (Django's command line)"
    assert framework_role("manage.main", index) == "manage.py (Django's command line)"
    assert framework_role("shop.management.commands.export.helper", index) == "management command"
    assert framework_role("shop.apps", index) == "app configuration"
    assert framework_role("shop.urls", index) == "URLconf"
    assert framework_role("shop.migrations.0001_initial", index) == "migration"
    assert framework_role("sales.report.build", index) is None
    assert framework_role("sales.manage", index) is None  # only the top-level manage.py
    # a Django-driven class and what is nested in it, wherever it lives
    forms = ModuleFacts(
        module="web.forms",
        path="web/forms.py",
        lines=10,
        definitions=(
            fn("web.forms.F", 1, 9, kind=DefKind.CLASS, bases=("django.forms.Form",)),
            fn("web.forms.F.clean", 3, 9, parent="web.forms.F", kind=DefKind.METHOD),
            fn("web.forms.M", 1, 9, kind=DefKind.CLASS, bases=("django.db.models.Model",)),
        ),
    )
    index = build_index([forms])
    assert framework_role("web.forms.F.clean", index) == "subclass of django.forms.Form"
    assert framework_role("web.forms.M", index) is None  # models are data, handled apart
