"""The dependency graph built from hand-made facts: nodes, edges, exporters."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from analyzers.facts import DefKind, ImportFact, Location, ModelFact, ModuleFacts
from analyzers.graph import build_graph, export_graph, table_node
from tests.unit.analyzers.factkit import call, fn, shop


def _with_imports_and_bases() -> list[ModuleFacts]:
    base = ModuleFacts(
        module="core.base",
        path="core/base.py",
        lines=10,
        definitions=(fn("core.base.Service", 1, 8, kind=DefKind.CLASS),),
    )
    child = ModuleFacts(
        module="orders.pricing",
        path="orders/pricing.py",
        lines=10,
        definitions=(
            fn(
                "orders.pricing.Pricing",
                3,
                9,
                kind=DefKind.CLASS,
                bases=("core.base.Service", "object"),
            ),
        ),
        imports=(
            ImportFact("core.base.Service", "Service", Location("orders/pricing.py", 1)),
            ImportFact("json", "json", Location("orders/pricing.py", 2)),
        ),
    )
    return [*shop(), base, child]


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    return build_graph(_with_imports_and_bases())


def test_node_kinds(graph: nx.DiGraph) -> None:
    assert graph.nodes["orders.views"]["kind"] == "module"
    assert graph.nodes["orders.views.checkout"]["kind"] == "function"
    assert graph.nodes["orders.models.Order"]["kind"] == "class"
    assert graph.nodes[table_node("orders_order")]["kind"] == "table"
    assert graph.nodes["orders.views.checkout"]["path"] == "orders/views.py"
    assert graph.nodes["orders.views.checkout"]["line"] == 10


def test_every_concrete_model_table_is_a_node_even_when_nothing_touches_it() -> None:
    """A schema the code only reaches dynamically (``get_user_model()``) is still drawn."""
    models = ModuleFacts(
        module="accounts.models",
        path="accounts/models.py",
        lines=20,
        definitions=(
            fn("accounts.models.Base", 1, kind=DefKind.CLASS),
            fn("accounts.models.Member", 8, kind=DefKind.CLASS),
        ),
        models=(
            ModelFact("accounts.models.Base", "accounts", "accounts_base", _loc(1), abstract=True),
            ModelFact("accounts.models.Member", "accounts", "accounts_member", _loc(8)),
            ModelFact("accounts.models.Vip", "accounts", "accounts_vip", _loc(14), proxy=True),
        ),
    )
    graph = build_graph([models])
    node = graph.nodes[table_node("accounts_member")]
    assert (node["kind"], node["path"], node["line"]) == ("table", "accounts/models.py", 8)
    assert graph.degree(table_node("accounts_member")) == 0  # no access: no edge invented
    assert table_node("accounts_base") not in graph  # abstract: no table
    assert table_node("accounts_vip") not in graph  # a proxy reads its parent's table


def _loc(line: int) -> Location:
    return Location("accounts/models.py", line, 0)


def test_call_edges_keep_only_analysed_code(graph: nx.DiGraph) -> None:
    edge = graph.edges["orders.views.checkout", "orders.services.place_order"]
    assert edge["kind"] == "calls"
    assert edge["count"] == 1
    assert "django.core.mail.send_mail" not in graph  # library call: not coupling
    # the unresolved template.render call is not guessed into an edge
    assert set(graph.successors("notifications.emails._render")) == {table_node("orders_order")}


def test_reads_and_writes_resolve_model_strings(graph: nx.DiGraph) -> None:
    assert (
        graph.edges["orders.services.place_order", table_node("orders_order")]["kind"] == "writes"
    )
    read = graph.edges["notifications.emails._render", table_node("orders_order")]
    assert read["kind"] == "reads"  # "orders.Order" string reference -> orders_order
    both = graph.edges["inventory.stock.reserve", table_node("inventory_stock")]
    assert (both["kind"], both["reads"], both["writes"]) == ("writes", 1, 1)


def test_imports_and_inheritance(graph: nx.DiGraph) -> None:
    assert graph.edges["orders.pricing", "core.base"]["kind"] == "imports"
    assert "json" not in graph
    assert graph.edges["orders.pricing.Pricing", "core.base.Service"]["kind"] == "inherits"
    assert not graph.has_edge("orders.pricing.Pricing", "object")


def test_module_level_calls_come_from_the_module() -> None:
    facts = ModuleFacts(
        module="a",
        path="a.py",
        lines=5,
        definitions=(fn("a.f", 1),),
        calls=(call("a", "a.f", "a.py", 5),),
    )
    assert build_graph([facts]).edges["a", "a.f"]["kind"] == "calls"


def test_json_export_round_trips(graph: nx.DiGraph) -> None:
    data = json.loads(export_graph(graph, "json"))
    back = nx.node_link_graph(data, edges="edges")
    assert set(back.edges) == set(graph.edges)
    assert back.nodes["orders.views.checkout"]["kind"] == "function"


def test_graphml_export_parses(graph: nx.DiGraph) -> None:
    back = nx.parse_graphml(export_graph(graph, "graphml"))
    assert back.edges["orders.views.checkout", "orders.services.place_order"]["kind"] == "calls"


def test_dot_and_mermaid_exports(graph: nx.DiGraph) -> None:
    dot = export_graph(graph, "dot")
    assert dot.startswith("digraph")
    assert '"orders.views.checkout" -> "orders.services.place_order" [label="calls"];' in dot
    assert '"table:orders_order" [shape=cylinder];' in dot
    mermaid = export_graph(graph, "mermaid").splitlines()
    assert mermaid[0] == "flowchart LR"
    ids = {line.split("[")[0].strip(): line for line in mermaid[1:] if "[" in line}
    checkout = next(k for k, v in ids.items() if '"orders.views.checkout"' in v)
    place = next(k for k, v in ids.items() if '"orders.services.place_order"' in v)
    assert f"  {checkout} -->|calls| {place}" in mermaid


def test_unknown_format_is_an_error(graph: nx.DiGraph) -> None:
    with pytest.raises(ValueError, match="unknown graph format"):
        export_graph(graph, "svg")
