"""The extraction plan over demo_monolith's facts, compared with its README's ground truth."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analyzers.analysis import Analysis, analyze_collection, find_capability
from analyzers.collect import Collection, CollectOptions, collect
from analyzers.facts import ArgKind
from strangler.plan import ExtractionPlan, feature_name, package_name, plan_extraction

DEMO = Path(__file__).parents[3] / "demo_monolith"
Project = tuple[Collection, Analysis]


def _truth() -> dict[str, list[str]]:
    text = (DEMO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```ground-truth\n(.*?)```", text, re.S)
    assert block is not None
    out: dict[str, list[str]] = {}
    for line in block.group(1).strip().splitlines():
        key, _, values = line.partition(":")
        out[key.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return out


TRUTH = _truth()


@pytest.fixture(scope="module")
def project() -> Project:
    collection = collect(DEMO, CollectOptions(jobs=1, use_cache=False))
    return collection, analyze_collection(collection)


def _plan(
    project: tuple[Collection, Analysis], name: str, target: str = "functions"
) -> ExtractionPlan:
    collection, analysis = project
    capability = find_capability(analysis, name)
    assert capability is not None, name
    return plan_extraction(capability, collection.modules, target=target)


def test_names() -> None:
    assert package_name("catalog.images.make_thumbnail") == "catalog_images_make_thumbnail"
    # a community (``+26``) and a clash's ``[module]`` suffix: names Python can import
    assert package_name("core.utils.quantize+26") == "core_utils_quantize_plus_26"
    assert package_name("orders [module]") == "orders_module"
    assert package_name("9lives.x") == "_9lives_x"
    assert feature_name("orders.cart.Cart.add", "orders.cart") == "orders.Cart.add"


@pytest.mark.parametrize("name", TRUTH["fire_and_forget"])
def test_fire_and_forget_when_no_call_site_uses_the_result(project: Project, name: str) -> None:
    (entry,) = _plan(project, name).entries
    assert entry.style == "fire_and_forget"
    assert entry.result_used_at == ()


@pytest.mark.parametrize("name", TRUTH["request_reply"])
def test_request_reply_names_the_call_sites_using_the_result(project: Project, name: str) -> None:
    (entry,) = _plan(project, name).entries
    assert entry.style == "request_reply"
    assert entry.result_used_at
    assert all(re.fullmatch(r"[\w/]+\.py:\d+", site) for site in entry.result_used_at)


@pytest.mark.parametrize("name", TRUTH["do_not_extract"])
def test_do_not_extract_is_blocked_with_reasons(project: Project, name: str) -> None:
    plan = _plan(project, name)
    assert plan.blocked
    assert all(re.search(r" at [\w/]+\.py:\d+: ", reason) for reason in plan.blockers)


@pytest.mark.parametrize("name", TRUTH["extract_first"])
def test_extract_first_is_not_blocked(project: Project, name: str) -> None:
    plan = _plan(project, name)
    assert not plan.blocked, plan.blockers
    assert plan.package == f"functions.{package_name(name)}"
    assert all(e.task.startswith(f"{plan.package}.tasks.") for e in plan.entries)


def test_orm_argument_travels_as_a_reference_and_is_reported(project: Project) -> None:
    plan = _plan(project, "notifications.emails.send_order_confirmation")
    (entry,) = plan.entries
    (order,) = entry.arguments
    assert (order.kind, order.model) == (ArgKind.ORM_INSTANCE, "orders.Order")
    schema = entry.schema["properties"]["order"]
    assert schema["properties"]["$model"] == {"const": "orders.Order"}
    assert schema["required"] == ["$model", "pk"]
    assert any("refetches it from the shared database" in c for c in plan.couplings)


def test_a_queryset_argument_is_planned_as_one(project: Project) -> None:
    """``paginate(request, orders)`` is passed querysets of three models: the plan
    keeps the kind (it cannot travel) and names no single model."""
    (entry,) = _plan(project, "core.utils.paginate").entries
    assert [(a.name, a.kind, a.model) for a in entry.arguments] == [
        ("request", ArgKind.REQUEST, None),
        ("queryset", ArgKind.QUERYSET, None),
        ("per_page", ArgKind.JSON, None),
    ]


def test_moves_copies_and_stays(project: Project) -> None:
    plan = _plan(project, "shipping.quotes.quote", target="src.functions")
    assert plan.package == "src.functions.shipping_quotes_quote"
    assert "shipping.quotes.zone_for" in plan.moves
    assert "shipping.quotes.quote" not in plan.moves  # the entry point is not a helper
    assert plan.types == ("shipping.quotes.QuoteError",)  # imported, keeps its identity
    assert not set(plan.copies) & set(plan.stays)
    assert plan.copies  # pure helpers of core.utils called by the quote


def test_samples_come_from_call_site_literals(project: Project) -> None:
    (entry,) = _plan(project, "shipping.quotes.quote").entries
    samples = {a.name: a.sample for a in entry.arguments}
    # shipping/tests.py calls quote("DE", 5000, "100.00") and friends
    assert samples["country"] is not None
    assert samples["country"].strip("'\"").isalpha()
    assert samples["weight_grams"] is not None
    assert samples["weight_grams"].isdigit()


def test_plan_json_is_plain_data(project: Project) -> None:
    import json

    data = _plan(project, "invoices.rendering.render_invoice").to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["entry_points"][0]["feature"] == "invoices.render_invoice"


@pytest.mark.parametrize(
    ("name", "effects"),
    [
        # the mail is sent by notifications.emails._send, which the entry point calls
        ("notifications.emails.send_order_confirmation", {"mail"}),
        ("notifications.emails.send_shipping_notification", {"mail"}),
        ("shipping.quotes.quote", set()),
    ],
)
def test_entry_effects_include_what_the_entry_point_reaches(
    project: Project, name: str, effects: set[str]
) -> None:
    (entry,) = _plan(project, name).entries
    assert set(entry.effects) == effects
    assert _plan(project, name).to_json()["entry_points"][0]["effects"] == sorted(effects)


def test_a_request_user_argument_samples_a_row_of_the_user_model() -> None:
    """``request.user`` is a row of a model the analysis cannot name (the settings
    choose it): the generated test samples the user model the settings name, and an
    argument that is sometimes something else gets no such sample."""
    from analyzers.analysis import Capability
    from tests.unit.analyzers.linkkit import project

    files = {
        "shop/__init__.py": "",
        "shop/audit.py": """
            def record(user, note):
                pass

            def mixed(who):
                pass
        """,
        "shop/views.py": """
            from shop.audit import mixed, record

            def view(request, other, bad_request):
                record(request.user, "seen")
                record(self_request(request).user, "again")
                mixed(request.user)
                mixed(bad_request.user)

            def self_request(request):
                return request
        """,
    }
    modules = list(project(files).values())
    entries = ("shop.audit.record", "shop.audit.mixed")
    capability = Capability(
        1, "shop.audit", "shop.audit", ("module",), 1.0, entries, entries, 4, (), (), (), ()
    )
    plan = plan_extraction(capability, modules)
    args = {(e.name, a.name): (a.kind, a.sample) for e in plan.entries for a in e.arguments}
    assert args[("record", "user")] == (ArgKind.ORM_INSTANCE, None)  # one site is no request
    assert args[("mixed", "who")][1] is None
    files["shop/views.py"] = files["shop/views.py"].replace(
        "self_request(request).user", "request.user"
    )
    plan = plan_extraction(capability, list(project(files).values()))
    (record,) = [e for e in plan.entries if e.name == "record"]
    assert record.arguments[0].kind is ArgKind.ORM_INSTANCE
    assert record.arguments[0].sample == "self.model_ref(settings.AUTH_USER_MODEL)"
    assert record.schema["properties"]["user"]["required"] == ["$model", "pk"]


def test_a_spread_argument_leaves_what_it_may_pass_unknown() -> None:
    """``record(*args)`` and ``record(note, **extra)``: the spread may pass any
    parameter not given by name or position, so no literal elsewhere makes it JSON,
    and ``**extra`` is no positional argument."""
    from analyzers.analysis import Capability
    from tests.unit.analyzers.linkkit import project

    files = {
        "shop/__init__.py": "",
        "shop/audit.py": """
            def record(note, level, tag=None):
                pass
        """,
        "shop/views.py": """
            from shop.audit import record

            def view(args, extra):
                record("seen", 1, tag="a")
                record("again", **extra)
                record(*args)
        """,
    }
    entries = ("shop.audit.record",)
    capability = Capability(
        1, "shop.audit", "shop.audit", ("module",), 1.0, entries, entries, 4, (), (), (), ()
    )
    plan = plan_extraction(capability, list(project(files).values()))
    kinds = {a.name: a.kind for e in plan.entries for a in e.arguments}
    assert kinds == {"note": ArgKind.UNKNOWN, "level": ArgKind.UNKNOWN, "tag": ArgKind.UNKNOWN}
    files["shop/views.py"] = files["shop/views.py"].replace("record(*args)", "record('x', 2)")
    plan = plan_extraction(capability, list(project(files).values()))
    kinds = {a.name: a.kind for e in plan.entries for a in e.arguments}
    assert kinds == {"note": ArgKind.JSON, "level": ArgKind.UNKNOWN, "tag": ArgKind.UNKNOWN}


def test_an_instance_method_entry_point_is_unextractable(project: Project) -> None:
    plan = _plan(project, "orders.cart.Cart.weight_grams")
    (reason,) = plan.unextractable
    assert reason.startswith(
        "orders.cart.Cart.weight_grams is an instance method at orders/cart.py:"
    )
    assert plan.blocked
    assert reason in plan.blockers
    assert plan.to_json()["unextractable"] == [reason]


def test_a_view_replies_where_its_url_routes_to_it(project: Project) -> None:
    """Django uses a view's result (the response): fire-and-forget would hand the URL
    dispatcher ``None``. Its route in urls.py is where the result is used."""
    (entry,) = _plan(project, "reports.views.sales_csv").entries
    assert entry.call_sites == ()
    assert entry.style == "request_reply"
    assert entry.result_used_at == ("reports/urls.py:9",)


def test_a_signal_receiver_is_fire_and_forget(project: Project) -> None:
    (entry,) = _plan(project, "catalog.signals.clear_cached_price").entries
    assert entry.style == "fire_and_forget"
    assert entry.result_used_at == ()


def test_only_receivers_and_tasks_are_fire_and_forget_without_call_sites(
    project: Project,
) -> None:
    """With no call site to look at, only a framework that drops the result makes an
    entry fire-and-forget: Django prints what a management command's ``handle``
    returns, so it waits for the reply like any caller the analysis cannot see."""
    entries = {e.qualname: e for e in _plan(project, "reports").entries}
    handle = entries["reports.management.commands.export_sales.Command.handle"]
    assert handle.call_sites == ()
    assert handle.style == "request_reply"
