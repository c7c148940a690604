"""Candidate capabilities: sets of code that could be carved out together.

Four sources, cheapest evidence first:

(a) **entry points** - each function the framework calls (view, receiver, task), or
    that is called from another module, plus the code *only it reaches*. "Only it
    reaches" is the dominator relation: a virtual root points at every externally
    reachable node, and ``d`` dominates ``n`` when every path from the root to ``n``
    passes through ``d``. One dominator tree answers the question for every entry
    point at once (linear-ish), where a reachability search per entry point would be
    quadratic on a code base the size of Django.
(b) **Django apps** - packages with ``models.py`` or ``apps.py``.
(c) **modules**.
(d) **communities** of the call graph (label propagation, deterministic).

Candidates with the same members are merged (their sources listed together), and so
are near-duplicates (Jaccard >= 0.9). Test code is never a member: tests move with
nothing, they are evidence.

**Framework plumbing is not a capability** (:func:`framework_role`): ``manage.py``,
management commands, app configs, admin, migrations, URLconfs, settings, WSGI/ASGI
modules, middleware, context processors, template tags, and classes built on a Django
base class that Django drives (forms, admin, app configs, commands), with their
methods. (Forms go by class, not by module name: a plain class in ``forms.py`` is
ordinary code.) Django calls that code
through its own machinery (there is no seam a router can sit in), and a migration
engineer extracts the business behaviour behind it, not the plumbing: a management
command's ``handle`` moves nothing, the service it calls does.
"""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import networkx as nx

from analyzers.graph import CodeIndex

__all__ = [
    "FRAMEWORK_MODULES",
    "FRAMEWORK_PACKAGES",
    "Candidate",
    "CapabilityGraph",
    "build_capability_graph",
    "find_candidates",
    "framework_role",
    "immediate_dominators",
    "label_propagation",
]

ROOT = "<root>"
SOURCE_ORDER = ("entry", "app", "module", "community")
NEAR_DUPLICATE = 0.9
MIN_COMMUNITY = 5
"""Smaller call-graph communities are a helper and its caller, which the entry-point
and module candidates already cover; on Django they were a thousand extra rows."""

FRAMEWORK_MODULES = {
    "admin": "Django admin",
    "apps": "app configuration",
    "asgi": "ASGI entry module",
    "context_processors": "template context processor",
    "middleware": "middleware (runs on every request)",
    "settings": "settings",
    "urls": "URLconf",
    "wsgi": "WSGI entry module",
}
"""Django's conventional module names (the last part of a module's dotted name) for
code the framework drives; see :func:`framework_role`."""
FRAMEWORK_PACKAGES = {
    "migrations": "migration",
    "templatetags": "template tags",
    "settings": "settings",
}
"""Package names (any part of a module's dotted name) whose code the framework drives."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A set of code (function/class qualnames) proposed as one capability."""

    name: str
    anchor: str  # entry-point qualname, app package, module, or community centre
    sources: tuple[str, ...]  # subset of SOURCE_ORDER, in that order
    members: frozenset[str]


@dataclass(frozen=True, slots=True)
class CapabilityGraph:
    """Non-test code joined by "moves with" edges: calls, plus parent -> nested code.

    Why containment edges: a method moves with its class and a nested function with
    its enclosing function, even when no resolved call links them.
    """

    graph: nx.DiGraph
    entries: frozenset[str]  # nodes the virtual root points at


def build_capability_graph(graph: nx.DiGraph, index: CodeIndex) -> CapabilityGraph:
    code = nx.DiGraph()
    for node, kind in graph.nodes(data="kind"):
        if kind in ("function", "class") and node not in index.test_code:
            code.add_node(node)
    called_from_outside: set[str] = set()
    for u, v, data in graph.edges(data=True):
        if data["kind"] != "calls" or v not in code:
            continue
        if u in code:
            code.add_edge(u, v, count=data["count"])
        elif u not in index.test_code:
            called_from_outside.add(v)  # module-level code calls it at import time
    for facts in index.modules.values():
        for d in facts.definitions:
            parent = d.parent
            if parent in code and d.qualname in code and not code.has_edge(parent, d.qualname):
                code.add_edge(parent, d.qualname, count=0)  # containment, not a call
    entries = {n for n in code if code.in_degree(n) == 0}
    entries |= called_from_outside
    entries |= {n for n in index.external_entries if n in code}
    return CapabilityGraph(graph=code, entries=frozenset(entries))


def find_candidates(
    cap: CapabilityGraph, index: CodeIndex, *, communities: bool = True
) -> list[Candidate]:
    """All candidates, merged and named; order is deterministic."""
    raw: list[tuple[str, str, frozenset[str]]] = []  # (source, anchor, members)
    raw += _entry_candidates(cap, index)
    raw += _app_candidates(cap, index)
    raw += _module_candidates(cap, index)
    if communities:
        raw += _community_candidates(cap)
    excluded = _model_code(index) | _framework_code(cap, index)  # once, not per candidate
    return _name(
        _merge(
            r
            for r in raw
            if not r[2] <= excluded and (r[0] == "app" or framework_role(r[1], index) is None)
        )
    )


def framework_role(name: str, index: CodeIndex) -> str | None:
    """Why Django, not the monolith's own code, drives ``name`` (a module, function
    or class qualname); ``None`` for ordinary code.

    By Django's conventions, which hold in any Django project: the top-level
    ``manage`` module, ``*.management.commands.*``, the module names in
    :data:`FRAMEWORK_MODULES`, the packages in :data:`FRAMEWORK_PACKAGES`, and
    classes (with what is nested in them) built on a Django base class other than
    models, managers and views (forms, admin, app configs, commands...). A view is
    kept: the URLconf routes to it, so a router can sit in front of it.
    """
    module = index.functions.get(name, name)
    role = _module_role(module)
    if role is not None:
        return role
    head = name
    while head and head != module:
        base = _driving_base(head, index)
        if base is not None:
            return f"subclass of {base}"
        head = head.rpartition(".")[0]
    return None


@functools.lru_cache(maxsize=8192)
def _module_role(module: str) -> str | None:
    """The part of :func:`framework_role` that depends on the module name alone: asked
    for every node of the graph, so once per module."""
    parts = module.split(".")
    if module == "manage":
        return "manage.py (Django's command line)"
    for a, b in itertools.pairwise(parts):
        if (a, b) == ("management", "commands"):
            return "management command"
    if parts[-1] in FRAMEWORK_MODULES and len(parts) > 1:
        return FRAMEWORK_MODULES[parts[-1]]
    for part in parts:
        if part in FRAMEWORK_PACKAGES:
            return FRAMEWORK_PACKAGES[part]
    return None


def _driving_base(node: str, index: CodeIndex) -> str | None:
    """The Django base class through which Django drives ``node`` (forms, admin, app
    configs, commands), if any; models and managers (data) and views (routed) are
    not that."""
    if index.kinds.get(node) != "class" or node in index.external_entries:
        return None
    for base in index.bases.get(node, ()):
        if base.startswith("django.") and not base.startswith(("django.db.models", "django.views")):
            return base
    return None


def _framework_code(cap: CapabilityGraph, index: CodeIndex) -> frozenset[str]:
    """Every node of the capability graph that :func:`framework_role` names."""
    return frozenset(n for n in cap.graph if framework_role(n, index) is not None)


def _model_code(index: CodeIndex) -> frozenset[str]:
    """Model classes and everything nested in them (``Meta``, methods).

    A candidate made only of these is the data layer, not a behaviour to extract:
    a model moves with the capability that owns its table.
    """
    models = set(index.models)
    if not models:
        return frozenset()
    nested = set()
    for name in index.kinds:
        head = name.rpartition(".")[0]
        while head:
            if head in models:
                nested.add(name)
                break
            head = head.rpartition(".")[0]
    return frozenset(models | nested)


# ------------------------------------------------------------------ (a) dominators


def _entry_candidates(
    cap: CapabilityGraph, index: CodeIndex
) -> list[tuple[str, str, frozenset[str]]]:
    graph = cap.graph
    if graph.number_of_nodes() == 0:
        return []
    idom = immediate_dominators(graph.succ, graph.pred, sorted(cap.entries))
    children: dict[str, list[str]] = defaultdict(list)
    for node, dom in idom.items():
        if node != ROOT:
            children[dom].append(node)
    order, start, end = _euler(children)
    result = []
    for node in sorted(_entry_nodes(cap, index, idom)):
        members = frozenset(order[start[node] : end[node]])
        result.append(("entry", node, members))
    return result


def immediate_dominators(
    succ: Mapping[str, Iterable[str]], pred: Mapping[str, Iterable[str]], entries: Iterable[str]
) -> dict[str, str]:
    """Immediate dominator of every node under a virtual ``ROOT`` joined to ``entries``
    (and to any node they do not reach: code called only through unresolved calls).

    Cooper, Harvey & Kennedy, "A Simple, Fast Dominance Algorithm" (2001), on plain
    adjacency mappings. Written out because ``networkx.immediate_dominators`` needs
    a copy of the graph with the virtual root added, which cost more than the
    algorithm itself on Django's call graph. Iterative DFS: call chains can be
    deeper than Python's recursion limit.
    """
    entries = list(entries)
    postorder: list[str] = []
    seen: set[str] = set()

    def walk(start: str) -> None:
        seen.add(start)
        stack = [(start, iter(sorted(succ[start])))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in seen:
                    seen.add(child)
                    stack.append((child, iter(sorted(succ[child]))))
                    break
            else:
                stack.pop()
                postorder.append(node)

    for entry in entries:
        if entry not in seen:
            walk(entry)
    unreached = [node for node in sorted(succ) if node not in seen]
    for node in unreached:
        if node not in seen:
            walk(node)
    # The fixpoint on integers: each node is its postorder rank, ROOT the highest.
    root = len(postorder)
    rank = {node: i for i, node in enumerate(postorder)}
    from_root = {rank[n] for n in entries} | {rank[n] for n in unreached}
    preds = [[rank[p] for p in pred[node] if p in rank] for node in postorder]
    dom: list[int] = [-1] * root + [root]  # -1: not yet known

    def intersect(a: int, b: int) -> int:
        while a != b:
            while a < b:
                a = dom[a]
            while b < a:
                b = dom[b]
        return a

    changed = True
    while changed:
        changed = False
        for i in range(root - 1, -1, -1):
            new = root if i in from_root else -1
            for p in preds[i]:
                if dom[p] != -1:
                    new = p if new == -1 else intersect(p, new)
            if new != -1 and dom[i] != new:
                dom[i] = new
                changed = True
    idom: dict[str, str] = {ROOT: ROOT}
    names = [*postorder, ROOT]
    for i in range(root - 1, -1, -1):
        if dom[i] != -1:
            idom[names[i]] = names[dom[i]]
    return idom


def _entry_nodes(cap: CapabilityGraph, index: CodeIndex, idom: dict[str, str]) -> set[str]:
    """Entry points worth a candidate: called by the framework, across an area, or
    a seam between modules of one area (see :func:`_seam_in_area`).

    An *area* is a Django app (or, outside any app, the first two package levels):
    a function called from another area is an interface between parts of the
    monolith, which is where a seam can be cut. Calls inside one area are not (the
    area and module candidates cover those), and keeping every function would bury
    the report under thousands of one-line candidates.

    Model classes are left out: a model is data that a capability owns, not behaviour
    to call; it shows up as table reads and writes instead.
    """
    apps = django_apps(index)
    area: dict[str, str] = {}

    def area_of(node: str) -> str:
        module = index.functions.get(node, node)
        if module not in area:
            area[module] = _app_of(module, apps) or ".".join(module.split(".")[:2])
        return area[module]

    nodes = {n for n in index.external_entries if n in idom}
    for node in cap.graph:
        mine = area_of(node)
        callers = {c.caller for c in index.calls_to.get(node, ())} - index.test_code
        crosses = any(area_of(caller) != mine for caller in callers)
        if crosses or _seam_in_area(node, callers, idom, index):
            nodes.add(node)
    return {n for n in nodes if not _framework_class(n, index)} - index.models.keys()


def _framework_class(node: str, index: CodeIndex) -> bool:
    """A form, admin, app config... : a Django subclass that Django drives.

    The framework calls it through its own machinery (not a seam we can route), so
    it moves with whatever capability uses it; a class the URLconf routes to is a
    view and stays an entry point.
    """
    if index.kinds.get(node) != "class" or node in index.external_entries:
        return False
    return any(base.startswith("django.") for base in index.bases.get(node, ()))


def _seam_in_area(node: str, callers: set[str], idom: dict[str, str], index: CodeIndex) -> bool:
    """Called from another module of its area, and not owned by its own module:
    e.g. a service function that views call (``orders.services.place_order``)."""
    module = index.functions.get(node)
    if all(index.functions.get(c, c) == module for c in callers):
        return False
    owner = idom.get(node, ROOT)
    return owner == ROOT or index.functions.get(owner) != module


def _euler(children: dict[str, list[str]]) -> tuple[list[str], dict[str, int], dict[str, int]]:
    """Pre-order of the dominator tree: each subtree is one slice ``order[start:end]``.

    Iterative, because a deep call chain would overflow Python's recursion limit.
    """
    order: list[str] = []
    start: dict[str, int] = {}
    end: dict[str, int] = {}
    stack: list[tuple[str, bool]] = [(ROOT, False)]
    while stack:
        node, done = stack.pop()
        if done:
            end[node] = len(order)
            continue
        start[node] = len(order)
        if node != ROOT:
            order.append(node)
        else:
            start[node] = 0
        stack.append((node, True))
        stack.extend((c, False) for c in sorted(children.get(node, ()), reverse=True))
    return order, start, end


# ------------------------------------------------------------------ (b) apps, (c) modules


def _app_candidates(
    cap: CapabilityGraph, index: CodeIndex
) -> list[tuple[str, str, frozenset[str]]]:
    apps = django_apps(index)
    members: dict[str, set[str]] = defaultdict(set)
    for node in cap.graph:
        app = _app_of(index.functions.get(node, ""), apps)
        if app is not None:
            members[app].add(node)
    return [("app", app, frozenset(m)) for app, m in sorted(members.items()) if m]


def django_apps(index: CodeIndex) -> set[str]:
    """Packages that hold a ``models`` or ``apps`` module, or any model."""
    apps: set[str] = set()
    for module, facts in index.modules.items():
        head, _, last = module.rpartition(".")
        if last in ("models", "apps") and head:
            apps.add(head)
        if facts.models:
            parts = module.split(".")
            cut = parts.index("models") if "models" in parts else len(parts) - 1
            if cut > 0:
                apps.add(".".join(parts[:cut]))
    return apps


def _app_of(module: str, apps: set[str]) -> str | None:
    """The innermost app package containing ``module``."""
    name = module
    while name:
        if name in apps:
            return name
        name = name.rpartition(".")[0]
    return None


def _module_candidates(
    cap: CapabilityGraph, index: CodeIndex
) -> list[tuple[str, str, frozenset[str]]]:
    members: dict[str, set[str]] = defaultdict(set)
    for node in cap.graph:
        members[index.functions[node]].add(node)
    return [("module", module, frozenset(m)) for module, m in sorted(members.items())]


# ------------------------------------------------------------------ (d) communities


def _community_candidates(cap: CapabilityGraph) -> list[tuple[str, str, frozenset[str]]]:
    adjacency: dict[str, set[str]] = {n: set() for n in cap.graph}
    for u, v in cap.graph.edges:
        adjacency[u].add(v)
        adjacency[v].add(u)
    groups: dict[str, set[str]] = defaultdict(set)
    for node, label in label_propagation(adjacency).items():
        groups[label].add(node)
    result = []
    for community in groups.values():
        if len(community) < MIN_COMMUNITY:
            continue
        centre = min(community, key=lambda n: (-len(adjacency[n]), n))
        result.append(("community", centre, frozenset(community)))
    return sorted(result, key=lambda r: r[1])


def label_propagation(adjacency: dict[str, set[str]], rounds: int = 20) -> dict[str, str]:
    """Deterministic asynchronous label propagation: node -> community label.

    Written by hand rather than networkx's Louvain because Louvain cost ~1.2 s of CPU
    on a 10k-function graph, several times the whole rest of the analysis, while
    label propagation is linear per round and converges in a few rounds. Nodes are
    visited in sorted order and ties go to the smallest label, so the same graph
    always gives the same communities.
    """
    # On integers (each node's place in sorted order): the smallest label is the same
    # node either way, lists index faster than dicts of strings, and a node with one
    # neighbour (most of them) needs no counting at all.
    order = sorted(adjacency)
    place = {n: i for i, n in enumerate(order)}
    neighbours = [[place[m] for m in adjacency[n]] for n in order]
    label = list(range(len(order)))
    # A node is looked at again only when a neighbour's label changed since its last
    # look: otherwise it would keep its label (same counts, and its label is already
    # the smallest of the best), so the result is that of visiting every node.
    stale = [True] * len(order)
    for _ in range(rounds):
        changed = False
        for node, around in enumerate(neighbours):
            if not stale[node]:
                continue
            stale[node] = False
            if len(around) == 1:
                new = label[around[0]]
            elif not around:
                continue
            else:
                counts: dict[int, int] = {}
                for m in around:
                    lab = label[m]
                    counts[lab] = counts.get(lab, 0) + 1
                best = max(counts.values())
                if counts.get(label[node], 0) == best:
                    continue  # keep the current label on a tie: this is what converges
                new = min(lab for lab, c in counts.items() if c == best)
            if new != label[node]:
                label[node] = new
                changed = True
                for m in around:
                    stale[m] = True
        if not changed:
            break
    return {n: order[label[place[n]]] for n in adjacency}


# ------------------------------------------------------------------ merge and name


def _merge(
    raw: Iterable[tuple[str, str, frozenset[str]]],
) -> list[tuple[list[str], str, frozenset[str]]]:
    """Merge identical and near-identical member sets, keeping the best-ranked source.

    Near-duplicates are looked for only among candidates sharing their smallest
    member (a one-hash MinHash): two sets with Jaccard >= 0.9 share it with
    probability >= 0.9, and comparing every pair would be quadratic.
    """
    priority = {s: i for i, s in enumerate(SOURCE_ORDER)}
    ordered = sorted(raw, key=lambda r: (priority[r[0]], r[1]))
    merged: list[tuple[list[str], str, frozenset[str]]] = []
    exact: dict[frozenset[str], int] = {}
    buckets: dict[str, list[int]] = defaultdict(list)
    for source, anchor, members in ordered:
        if not members:
            continue
        target = exact.get(members)
        if target is None:
            target = _near(members, buckets[min(members)], merged)
        if target is not None:
            if source not in merged[target][0]:
                merged[target][0].append(source)
            continue
        exact[members] = len(merged)
        buckets[min(members)].append(len(merged))
        merged.append(([source], anchor, members))
    return merged


def _near(
    members: frozenset[str], bucket: list[int], merged: list[tuple[list[str], str, frozenset[str]]]
) -> int | None:
    for i in bucket:
        other = merged[i][2]
        union = len(members | other)
        if union and len(members & other) / union >= NEAR_DUPLICATE:
            return i
    return None


def _name(merged: list[tuple[list[str], str, frozenset[str]]]) -> list[Candidate]:
    """Readable, unique names: the anchor's qualname; a suffix only on a clash."""
    taken: set[str] = set()
    result = []
    for sources, anchor, members in merged:
        base = anchor if sources[0] != "community" else f"{anchor}+{len(members) - 1}"
        name = base if base not in taken else f"{base} [{sources[0]}]"
        taken.add(name)
        result.append(Candidate(name, anchor, tuple(sources), members))
    return result
