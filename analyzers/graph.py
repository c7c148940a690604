"""One dependency graph of the analysed code base, built from facts.

Nodes are modules, functions (and methods), classes and database tables; edges are
``imports`` (module -> module), ``calls`` (function/module -> function/class),
``inherits`` (class -> base class), ``reads`` and ``writes`` (function -> table).
Only code defined inside the analysed root becomes a code node: a call into Django or
the standard library is not coupling to the monolith, so it is left out (side effects
are kept as facts and reported separately).

Alongside the networkx graph, :class:`CodeIndex` keeps the per-callee / per-caller
lookups that scoring needs, so that scoring thousands of candidates stays linear in
the size of each candidate instead of rescanning every fact.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import networkx as nx

from analyzers.facts import (
    AtomicRegion,
    Call,
    DefKind,
    GlobalUse,
    Location,
    ModelFact,
    ModuleFacts,
    OrmAccess,
    OrmOp,
    Param,
    SideEffect,
    SignalHandler,
)

# enum members bound once: ``ArgKind.JSON`` goes through the enum's class
# machinery on every use (~15x a global lookup), on the hottest paths
_DEF_CLASS = DefKind.CLASS
_ORM_WRITE = OrmOp.WRITE
_ROUTER_NAMES = ("list", "detail")  # what a DRF router names a viewset's two routes

__all__ = [
    "EDGE_KINDS",
    "FORMATS",
    "NODE_KINDS",
    "CodeIndex",
    "build_graph",
    "build_index",
    "export_graph",
    "table_node",
]

NODE_KINDS = ("module", "function", "class", "table")
EDGE_KINDS = ("imports", "calls", "inherits", "reads", "writes")
FORMATS = ("json", "dot", "mermaid", "graphml")
TABLE_PREFIX = "table:"


def table_node(table: str) -> str:
    """Node id of a table: prefixed so a table never collides with a module name."""
    return TABLE_PREFIX + table


@dataclass
class CodeIndex:
    """Lookups over all facts, built once (mutable while building, read-only after).

    Why not only the graph: scoring needs every *call site* (arguments, whether the
    result is used, whether it sits inside ``atomic``), and the graph keeps one edge
    per caller/callee pair.
    """

    modules: dict[str, ModuleFacts] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)  # code qualname -> module
    kinds: dict[str, str] = field(default_factory=dict)  # code qualname -> node kind
    sizes: dict[str, int] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    params: dict[str, tuple[Param, ...]] = field(default_factory=dict)
    bases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    test_code: set[str] = field(default_factory=set)
    calls_to: dict[str, list[Call]] = field(default_factory=lambda: defaultdict(list))
    calls_from: dict[str, list[Call]] = field(default_factory=lambda: defaultdict(list))
    orm_by_function: dict[str, list[OrmAccess]] = field(default_factory=lambda: defaultdict(list))
    writers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    readers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    model_tables: dict[str, str] = field(default_factory=dict)  # model ref -> table
    models: dict[str, ModelFact] = field(default_factory=dict)
    atomic_by_function: dict[str, list[AtomicRegion]] = field(
        default_factory=lambda: defaultdict(list)
    )
    effects_by_function: dict[str, list[SideEffect]] = field(
        default_factory=lambda: defaultdict(list)
    )
    global_uses: dict[str, list[GlobalUse]] = field(default_factory=lambda: defaultdict(list))
    global_users: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    external_entries: dict[str, str] = field(default_factory=dict)  # qualname -> why
    # a view -> where urls.py routes to it: the URL dispatcher uses its result (the response)
    view_routes: dict[str, list[Location]] = field(default_factory=lambda: defaultdict(list))
    # a route's name (``shop:detail`` where its URLconf has an ``app_name``) -> the
    # views routed under it: tests request them by name
    url_views: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    global_defs: dict[str, Location] = field(default_factory=dict)  # state qualname -> where
    receivers: dict[str, list[SignalHandler]] = field(default_factory=lambda: defaultdict(list))
    module_imports: dict[str, dict[str, Location]] = field(
        default_factory=lambda: defaultdict(dict)
    )  # module -> analysed module it imports -> first import location
    unresolved_calls: int = 0
    total_calls: int = 0
    unresolved_from: dict[str, list[Call]] = field(
        default_factory=lambda: defaultdict(list)
    )  # function -> its calls whose callee is unknown (a subset of calls_from)

    def table_of(self, model: str) -> str | None:
        """Table for a model reference: a qualname or an ``"app.Model"`` string."""
        return self.model_tables.get(model) or self.model_tables.get(model.lower())

    def table_of_access(self, access: OrmAccess) -> str | None:
        """The table an access reads or writes: its model's, else the one raw SQL
        names (a table no analysed model maps to is still a table)."""
        if access.model:
            table = self.table_of(access.model)
            if table is not None:
                return table
        return access.table


def build_index(modules: Sequence[ModuleFacts]) -> CodeIndex:
    """Index every fact once; see :class:`CodeIndex`."""
    index = CodeIndex()
    for facts in modules:
        _index_definitions(index, facts)
    for facts in modules:
        _index_models(index, facts)
    for facts in modules:
        _index_behaviour(index, facts)
    for facts in modules:
        _index_imports(index, facts)
    _index_signal_calls(index, modules)
    return index


def _index_imports(index: CodeIndex, facts: ModuleFacts) -> None:
    for imp in facts.imports:
        target = _owning_module(imp.target, index)
        if target is not None and target != facts.module:
            index.module_imports[facts.module].setdefault(target, imp.loc)


_SAVES: tuple[str, ...] = ("save", "create", "get_or_create", "update_or_create")
_SAVES += tuple("a" + name for name in _SAVES)  # asave, acreate...: the same signals
_SAVE_SIGNALS = {
    "django.db.models.signals.post_save": _SAVES,
    "django.db.models.signals.pre_save": _SAVES,
    "django.db.models.signals.post_delete": ("delete", "adelete"),
    "django.db.models.signals.pre_delete": ("delete", "adelete"),
}


def _index_signal_calls(index: CodeIndex, modules: Sequence[ModuleFacts]) -> None:
    """A model-signal receiver is called, synchronously, by every write that sends
    the signal: record those writes as (implicit) call sites of the receiver, so
    that its callers, their transactions and its coupling are seen like any call.

    Why: a ``post_save`` receiver connected with a lazy ``"app.Model"`` sender has no
    import and no call pointing at it, yet runs inside whichever transaction saved
    the model.
    """
    for facts in modules:
        for signal in facts.signals:
            methods = _SAVE_SIGNALS.get(signal.signal)
            table = index.table_of(signal.sender) if signal.sender else None
            if methods is None or table is None or signal.receiver not in index.kinds:
                continue
            for writer in sorted(index.writers.get(table, ())):
                for access in index.orm_by_function.get(writer, ()):
                    if access.method in methods and index.table_of_access(access) == table:
                        implicit = Call(
                            caller=writer,
                            callee=signal.receiver,
                            text=f"{access.method} (sends {signal.signal.rsplit('.', 1)[-1]})",
                            loc=access.loc,
                            result_used=False,
                            in_atomic=_inside_atomic(index, writer, access.loc.line),
                        )
                        index.calls_to[signal.receiver].append(implicit)
                        index.calls_from[writer].append(implicit)


def _inside_atomic(index: CodeIndex, function: str, line: int) -> bool:
    return any(r.loc.line <= line <= r.end_line for r in index.atomic_by_function.get(function, ()))


def _index_definitions(index: CodeIndex, facts: ModuleFacts) -> None:
    index.modules[facts.module] = facts
    index.kinds[facts.module] = "module"
    index.functions[facts.module] = facts.module
    index.sizes[facts.module] = 0
    index.locations[facts.module] = Location(facts.path, 1)
    if facts.is_test:
        index.test_code.add(facts.module)
    for d in facts.definitions:
        index.kinds[d.qualname] = "class" if d.kind is _DEF_CLASS else "function"
        index.functions[d.qualname] = facts.module
        index.sizes[d.qualname] = d.size
        index.locations[d.qualname] = d.loc
        index.params[d.qualname] = d.params
        if d.bases:
            index.bases[d.qualname] = d.bases
        if facts.is_test:
            index.test_code.add(d.qualname)


def _index_models(index: CodeIndex, facts: ModuleFacts) -> None:
    for m in facts.models:
        if m.abstract:
            continue
        index.models[m.qualname] = m
        short = m.qualname.rsplit(".", 1)[-1]
        for ref in (m.qualname, f"{m.app_label}.{short}", f"{m.app_label}.{short}".lower()):
            index.model_tables.setdefault(ref, m.table)


def _index_behaviour(index: CodeIndex, facts: ModuleFacts) -> None:
    for call in facts.calls:
        index.total_calls += 1
        if call.callee is None:
            index.unresolved_calls += 1
            index.unresolved_from[call.caller].append(call)
        index.calls_from[call.caller].append(call)
        if call.callee is not None and call.callee in index.kinds:
            index.calls_to[call.callee].append(call)
    for access in facts.orm:
        index.orm_by_function[access.function].append(access)
        table = index.table_of_access(access)
        if table is not None:
            target = index.writers if access.op is _ORM_WRITE else index.readers
            target[table].add(access.function)
    for region in facts.atomics:
        index.atomic_by_function[region.function].append(region)
    for effect in facts.effects:
        index.effects_by_function[effect.function].append(effect)
    for use in facts.global_uses:
        index.global_uses[use.function].append(use)
        index.global_users[use.name].add(use.function)
    _index_entries(index, facts)


def _index_entries(index: CodeIndex, facts: ModuleFacts) -> None:
    """Code the framework calls from outside: views, signal receivers, Celery tasks."""
    for route in facts.urls:
        if route.view is not None:
            index.external_entries.setdefault(route.view, f"url {route.pattern!r} ({route.loc})")
            index.view_routes[route.view].append(route.loc)
            if route.router:  # a basename: DRF names the routes ``order-list``...
                for suffix in _ROUTER_NAMES if route.name else ():
                    index.url_views[f"{route.name}-{suffix}"].add(route.view)
            elif route.name:  # ``shop:detail`` under its URLconf's ``app_name``
                index.url_views[route.name].add(route.view)
    for signal in facts.signals:
        index.receivers[signal.receiver].append(signal)
        index.external_entries.setdefault(
            signal.receiver, f"receiver of {signal.signal} ({signal.loc})"
        )
    for task in facts.tasks:
        index.external_entries.setdefault(task.qualname, f"celery task ({task.loc})")
    if ".management.commands." in f".{facts.module}":
        handle = f"{facts.module}.Command.handle"
        if handle in index.kinds:
            index.external_entries.setdefault(handle, f"management command ({facts.path})")
    for state in facts.globals:
        index.global_defs[state.qualname] = state.loc


def build_graph(modules: Sequence[ModuleFacts], index: CodeIndex | None = None) -> nx.DiGraph:
    """The dependency graph (see module docstring). Deterministic for the same facts."""
    index = index or build_index(modules)
    graph = nx.DiGraph()
    for facts in sorted(modules, key=lambda f: f.module):
        _add_code_nodes(graph, facts)
    for facts in sorted(modules, key=lambda f: f.module):
        _add_model_tables(graph, facts)
    for facts in sorted(modules, key=lambda f: f.module):
        _add_imports(graph, facts, index)
        _add_inheritance(graph, facts, index)
        _add_calls(graph, facts, index)
        _add_table_edges(graph, facts, index)
    return graph


def _add_code_nodes(graph: nx.DiGraph, facts: ModuleFacts) -> None:
    graph.add_node(
        facts.module,
        kind="module",
        module=facts.module,
        path=facts.path,
        line=1,
        size=facts.lines,
        is_test=facts.is_test,
    )
    for d in facts.definitions:
        graph.add_node(
            d.qualname,
            kind="class" if d.kind is _DEF_CLASS else "function",
            module=facts.module,
            path=d.loc.path,
            line=d.loc.line,
            size=d.size,
            is_test=facts.is_test,
        )


def _add_model_tables(graph: nx.DiGraph, facts: ModuleFacts) -> None:
    """Every concrete model's table is a node, located at the model, whether or not
    any analysed code reads or writes it: Django's own ``auth_user`` is reached only
    through ``get_user_model()``, and a graph that lists only the tables some call
    resolved to would read as a schema of four tables. Two models on one table
    (unmanaged views of the same relation) share the node; the first module wins. A
    proxy model has no table of its own: linking gave it its parent's, whose node the
    parent adds (a parent outside the analysed code: no node)."""
    for m in facts.models:
        node = table_node(m.table)
        if not m.abstract and not m.proxy and node not in graph:
            graph.add_node(
                node,
                kind="table",
                module=facts.module,
                path=m.loc.path,
                line=m.loc.line,
                size=0,
                is_test=facts.is_test,
            )


def _add_imports(graph: nx.DiGraph, facts: ModuleFacts, index: CodeIndex) -> None:
    for imp in facts.imports:
        target = _owning_module(imp.target, index)
        if target is not None and target != facts.module:
            _bump(graph, facts.module, target, "imports", imp.loc.line)


def _owning_module(name: str, index: CodeIndex) -> str | None:
    """The analysed module that ``name`` (a module or something inside one) lives in."""
    if name in index.functions:
        return index.functions[name]
    head, _, _ = name.rpartition(".")
    while head:
        if index.kinds.get(head) == "module":
            return head
        head, _, _ = head.rpartition(".")
    return None


def _add_inheritance(graph: nx.DiGraph, facts: ModuleFacts, index: CodeIndex) -> None:
    for d in facts.definitions:
        for base in d.bases:
            if index.kinds.get(base) == "class":
                _bump(graph, d.qualname, base, "inherits", d.loc.line)


def _add_calls(graph: nx.DiGraph, facts: ModuleFacts, index: CodeIndex) -> None:
    for call in facts.calls:
        if call.callee is None or call.callee not in index.kinds:
            continue
        caller = call.caller if call.caller in index.kinds else facts.module
        if caller != call.callee:
            _bump(graph, caller, call.callee, "calls", call.loc.line)


def _add_table_edges(graph: nx.DiGraph, facts: ModuleFacts, index: CodeIndex) -> None:
    for access in facts.orm:
        table = index.table_of_access(access)
        if table is None:
            continue
        node = table_node(table)
        if node not in graph:
            graph.add_node(node, kind="table", module="", path="", line=0, size=0, is_test=False)
        caller = access.function if access.function in index.kinds else facts.module
        data = graph.get_edge_data(caller, node)
        if data is None:
            graph.add_edge(caller, node, kind="reads", count=0, reads=0, writes=0, line=0)
            data = graph.edges[caller, node]
        key = "writes" if access.op is _ORM_WRITE else "reads"
        data[key] += 1
        data["count"] += 1
        if data["writes"]:
            data["kind"] = "writes"  # one edge per pair: a writer is reported as writer
        if not data["line"]:
            data["line"] = access.loc.line


def _bump(graph: nx.DiGraph, source: str, target: str, kind: str, line: int) -> None:
    data = graph.get_edge_data(source, target)
    if data is None:
        graph.add_edge(source, target, kind=kind, count=1, line=line)
    else:
        data["count"] += 1


# ------------------------------------------------------------------ exporters


def export_graph(graph: nx.DiGraph, fmt: str) -> str:
    """Render the graph as text: ``json`` (node-link), ``dot``, ``mermaid``, ``graphml``."""
    if fmt == "json":
        data = nx.node_link_data(graph, edges="edges")
        return json.dumps(data, indent=1, sort_keys=True) + "\n"
    if fmt == "graphml":
        return "\n".join(nx.generate_graphml(_printable_graph(graph))) + "\n"
    if fmt == "dot":
        return _to_dot(graph)
    if fmt == "mermaid":
        return _to_mermaid(graph)
    raise ValueError(f"unknown graph format {fmt!r}; choose from {', '.join(FORMATS)}")


_DOT_SHAPES = {"module": "folder", "function": "ellipse", "class": "box", "table": "cylinder"}


def _to_dot(graph: nx.DiGraph) -> str:
    """DOT written by hand: pydot/pygraphviz would be a heavy dependency for ~20 lines."""
    lines = ["digraph strangler {", "  rankdir=LR;"]
    for node, data in sorted(graph.nodes(data=True)):
        shape = _DOT_SHAPES.get(str(data.get("kind")), "ellipse")
        lines.append(f"  {_dot_id(node)} [shape={shape}];")
    for u, v, data in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])):
        lines.append(f'  {_dot_id(u)} -> {_dot_id(v)} [label="{data["kind"]}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_id(name: str) -> str:
    return '"' + _printable(name).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _printable(text: str) -> str:
    """``text`` with each control (non-printable) character as its escape (``\\x1b``,
    ``\\n``).

    Names come from the analysed code (a file may be named ``a\\nb.py``, a
    ``db_table`` hold anything): a newline ended a Mermaid line, an escape is not a
    character XML 1.0 can hold (the GraphML did not parse), and either reached the
    terminal the graph was printed on.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _printable_graph(graph: nx.DiGraph) -> nx.DiGraph:
    """A copy whose node ids and text attributes are :func:`_printable` (the graph
    itself, when they all are already)."""
    if all(_printable_data(n, d) for n, d in graph.nodes(data=True)):
        return graph
    shown = nx.relabel_nodes(graph, {n: _printable(n) for n in graph}, copy=True)
    for _, data in shown.nodes(data=True):
        for key, value in data.items():
            if isinstance(value, str):
                data[key] = _printable(value)
    return shown


def _printable_data(node: str, data: dict[str, object]) -> bool:
    return node.isprintable() and all(v.isprintable() for v in data.values() if isinstance(v, str))


def _to_mermaid(graph: nx.DiGraph) -> str:
    """Mermaid ``flowchart``: node ids are positional because dots are not allowed."""
    ids = {node: f"n{i}" for i, node in enumerate(sorted(graph.nodes))}
    lines = ["flowchart LR"]
    for node, data in sorted(graph.nodes(data=True)):
        label = _mermaid_text(node)
        shape = ('[("', '")]') if data.get("kind") == "table" else ('["', '"]')
        lines.append(f"  {ids[node]}{shape[0]}{label}{shape[1]}")
    for u, v, data in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])):
        lines.append(f"  {ids[u]} -->|{data['kind']}| {ids[v]}")
    return "\n".join(lines) + "\n"


_MERMAID_CODES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;"}
"""Characters a quoted Mermaid label reads specially, as its entity codes: a ``"``
ends the label, ``<``/``&`` start HTML (labels are HTML), ``#`` an entity code."""


def _mermaid_text(name: str) -> str:
    return "".join(_MERMAID_CODES.get(c, c) for c in _printable(name))
