"""Scores with evidence: how hard would it be to carve a candidate out?

Every score is a weighted mean of named **components**. Each component keeps its raw
number (``value``), a normalised goodness in [0, 1] (``score``: 1 = easy to extract),
its weight, a one-line summary and the **evidence** (source locations) it came from,
so a reader can check every point of the total. Things that would break an extraction
outright are also listed as **blockers**, in words, with ``file:line`` and the change
that would remove each.

Normalisation is ``1 / (1 + x / h)``: 1 at zero, 0.5 at the "half point" ``h``,
falling smoothly - chosen over thresholds so one more shared table always costs
something and no single component saturates the total.

A candidate is ranked as a **capability** only if it carries a business behaviour:
it touches the database, causes a side effect or mutates module state (itself or
through what it calls), or it is a computation of meaningful size (``SUBSTANTIAL``
lines that move). Anything else is a **shared helper**: pure, small code that costs
less to copy into each handler that needs it than to run behind a network hop, so it
is labelled "copy, don't extract" and ranked after every capability.
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import networkx as nx

from analyzers._make import maker
from analyzers.facts import ArgKind, Call, Location, OrmOp
from analyzers.graph import CodeIndex

# enum members bound once: ``ArgKind.JSON`` goes through the enum's class
# machinery on every use (~15x a global lookup), on the hottest paths
_ARG_CALLABLE = ArgKind.CALLABLE
_ARG_FILE = ArgKind.FILE
_ARG_JSON = ArgKind.JSON
_ARG_LOCK = ArgKind.LOCK
_ARG_ORM_INSTANCE = ArgKind.ORM_INSTANCE
_ARG_QUERYSET = ArgKind.QUERYSET
_TRAVELS_AS_PKS = frozenset({_ARG_ORM_INSTANCE, _ARG_QUERYSET})
_ARG_REQUEST = ArgKind.REQUEST
_ARG_UNKNOWN = ArgKind.UNKNOWN
_ORM_WRITE = OrmOp.WRITE

__all__ = [
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "Blocker",
    "Component",
    "Evidence",
    "GlobalFacts",
    "Role",
    "Scored",
    "has_entry_point",
    "prepare",
    "score_candidate",
]

MAX_EVIDENCE = 20
SUBSTANTIAL = 30
"""Lines of code (about a screenful) that make a pure computation a behaviour worth a
handler of its own rather than a helper to copy; also where ``size`` stops
discounting small capabilities (counting the code they run, see :func:`_size`)."""
OBJECT_GOODNESS = 0.3
"""An instance method's ``self`` at an inbound call: an object whose state must travel
with the event (a model instance travels as its pk and counts as one)."""
BLOCKER_FACTOR = 0.8
"""Each distinct kind of hard blocker multiplies the score by this: a capability that
cannot move until something else changes ranks below one that can move today, but
fifty call sites of the same problem do not count fifty times."""


def hard_blocker_kinds(blockers: Iterable[Blocker]) -> int:
    return len({b.kind for b in blockers if b.severity == "hard"})


DEFAULT_WEIGHTS: dict[str, float] = {
    "inbound_coupling": 1.0,
    "outbound_coupling": 1.5,
    "shared_writes": 2.0,
    "foreign_reads": 0.75,
    "cycles": 1.0,
    "interface_width": 0.5,
    "serialisability": 1.5,
    "fire_and_forget": 1.0,
    "transactions": 1.5,
    "global_state": 1.0,
    "side_effects": 1.0,
    "size": 0.5,
    "tests": 0.5,
}
COMPONENTS = tuple(DEFAULT_WEIGHTS)

_ARG_GOODNESS = {
    _ARG_JSON: 1.0,
    _ARG_ORM_INSTANCE: 0.6,
    _ARG_QUERYSET: 0.4,  # its pks travel, but the handler re-runs a query
    _ARG_UNKNOWN: 0.8,  # usually a plain local; not proven either way
    _ARG_REQUEST: 0.0,
    _ARG_FILE: 0.0,
    _ARG_CALLABLE: 0.0,
    _ARG_LOCK: 0.0,
}
_ARG_FIX = {
    _ARG_REQUEST: "pass the fields it needs (e.g. request.user.pk) instead of the request",
    _ARG_FILE: "store the file and pass its path or storage key instead",
    _ARG_CALLABLE: "pass a name the handler can look up instead of a callable",
    _ARG_LOCK: "take the lock inside the handler; a lock cannot travel in an event",
}


@dataclass(frozen=True, slots=True)
class Evidence:
    location: str  # "path:line"
    detail: str


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    value: float
    score: float
    weight: float
    summary: str
    evidence: tuple[Evidence, ...]
    evidence_total: int  # evidence may be capped at MAX_EVIDENCE; this is the full count


@dataclass(frozen=True, slots=True)
class Blocker:
    kind: str
    message: str
    location: str
    fix: str
    severity: str = "hard"  # "hard": must change first; "easy": a mechanical fix

    def __str__(self) -> str:
        return f"{self.message} at {self.location}: {self.fix}"


# positional constructors (see analyzers._make): scoring Django's candidates builds
# ~45,000 Evidence and ~18,000 Component values
_Evidence = maker(Evidence)
_Component = maker(Component)


class Role:
    """What a ranked candidate is: a capability to extract, or a helper to copy."""

    CAPABILITY = "capability"
    HELPER = "helper"


@dataclass(frozen=True, slots=True)
class Scored:
    score: float  # 0..100
    components: tuple[Component, ...]
    blockers: tuple[Blocker, ...]
    entry_points: tuple[str, ...]
    size: int
    tables_read: tuple[str, ...]
    tables_written: tuple[str, ...]
    role: str = Role.CAPABILITY
    role_reason: str = ""


@dataclass(frozen=True, slots=True)
class GlobalFacts:
    """Whole-program facts computed once and shared by every candidate's score."""

    in_transaction: Mapping[str, Location]  # function -> the atomic region it runs under
    scc_of: Mapping[str, int]  # node -> id of its call cycle (cycles of size > 1 only)
    tested: frozenset[str]  # code reachable from test code
    parents: Mapping[str, str]  # qualname -> enclosing qualname
    module_scc_of: Mapping[str, int]  # module -> id of its import cycle (size > 1 only)
    pure: frozenset[str] = frozenset()  # code with no behaviour of its own, transitively
    cyclic_imports: Mapping[str, tuple[tuple[str, Location], ...]] = field(default_factory=dict)
    """Each module in an import cycle -> its imports (module, first location), sorted:
    sorted once here rather than for every candidate that has code in the module."""
    url_requests: Mapping[str, tuple[tuple[Call, str], ...]] = field(default_factory=dict)
    """A view -> the calls in test code that reverse its URL name, with the name."""


def prepare(call_graph: nx.DiGraph, index: CodeIndex) -> GlobalFacts:
    """Transaction closure, call cycles and test reach: each one linear pass."""
    scc_of: dict[str, int] = {}
    for i, scc in enumerate(nx.strongly_connected_components(call_graph)):
        if len(scc) > 1:
            scc_of.update(dict.fromkeys(scc, i))
    parents = {
        d.qualname: d.parent
        for facts in index.modules.values()
        for d in facts.definitions
        if d.parent is not None
    }
    imports = nx.DiGraph()
    for module, targets in index.module_imports.items():
        imports.add_edges_from((module, t) for t in targets)
    module_scc_of: dict[str, int] = {}
    for i, scc in enumerate(nx.strongly_connected_components(imports)):
        if len(scc) > 1:
            module_scc_of.update(dict.fromkeys(scc, i))
    requests = _url_requests(index)
    return GlobalFacts(
        in_transaction=_transaction_closure(index),
        scc_of=scc_of,
        tested=frozenset(_test_reach(index, requests, parents)),
        parents=parents,
        module_scc_of=module_scc_of,
        pure=_pure_code(index, parents),
        cyclic_imports={
            m: tuple(sorted(index.module_imports.get(m, {}).items())) for m in module_scc_of
        },
        url_requests=requests,
    )


def _pure_code(index: CodeIndex, parents: Mapping[str, str]) -> frozenset[str]:
    """Functions and classes that neither touch the database, nor cause a side effect,
    nor use module-level state that some code mutates, nor call (transitively) code
    that does. A read-only module-level table (``CURRENCY_SYMBOLS``) is a constant.
    A function that defines an impure function is impure too: what it returns (a
    decorator's wrapper, a closure) does what that function does, without a call
    edge between the two.

    One backward BFS from the impure code over call sites: linear. Unresolved calls
    are not evidence either way (as everywhere else).
    """
    mutated = {u.name for uses in index.global_uses.values() for u in uses if u.writes}
    impure = {
        f
        for f, uses in index.global_uses.items()
        if f in index.kinds and any(u.name in mutated for u in uses)
    }
    impure |= {f for f, a in index.orm_by_function.items() if a and f in index.kinds}
    impure |= {f for f, e in index.effects_by_function.items() if e and f in index.kinds}
    impure |= {m for m in index.models if m in index.kinds}
    queue = deque(impure)
    while queue:
        node = queue.popleft()
        for call in index.calls_to.get(node, ()):
            if call.caller not in impure:
                impure.add(call.caller)
                queue.append(call.caller)
        parent = parents.get(node)
        if parent is not None and parent not in impure and index.kinds.get(parent) == "function":
            impure.add(parent)
            queue.append(parent)
    return frozenset(
        n for n, kind in index.kinds.items() if kind in ("function", "class") and n not in impure
    )


def _transaction_closure(index: CodeIndex) -> dict[str, Location]:
    """Functions that run inside ``atomic``: decorated ones, callees of calls made in a
    ``with atomic()`` block, and everything those call, transitively (BFS, linear)."""
    origin: dict[str, Location] = {}
    queue: deque[str] = deque()
    for function, regions in index.atomic_by_function.items():
        for region in regions:
            if region.kind == "decorator" and function not in origin:
                origin[function] = region.loc
                queue.append(function)
    for calls in index.calls_to.values():
        for call in calls:
            if call.in_atomic and call.callee is not None and call.callee not in origin:
                origin[call.callee] = _region_at(index, call) or call.loc
                queue.append(call.callee)
    while queue:
        function = queue.popleft()
        for call in index.calls_from.get(function, ()):
            callee = call.callee
            if callee is not None and callee in index.kinds and callee not in origin:
                origin[callee] = origin[function]
                queue.append(callee)
    return origin


def _region_at(index: CodeIndex, call: Call) -> Location | None:
    for region in index.atomic_by_function.get(call.caller, ()):
        if region.loc.line <= call.loc.line <= region.end_line:
            return region.loc
    return None


_REVERSERS = frozenset(
    {
        *(f"django.urls.{name}" for name in ("reverse", "reverse_lazy")),
        *(f"django.urls.base.{name}" for name in ("reverse", "reverse_lazy")),
        *(f"django.core.urlresolvers.{name}" for name in ("reverse", "reverse_lazy")),
        "django.shortcuts.resolve_url",
    }
)
"""What a test names a URL with (``self.client.get(reverse("shop:cart"))``); the old
``django.core.urlresolvers`` too, as legacy code has it."""


def _url_requests(index: CodeIndex) -> dict[str, tuple[tuple[Call, str], ...]]:
    """The views test code requests by URL name: ``reverse("shop:cart")`` reaches the
    view of the routes named ``cart`` in the URLconf whose ``app_name`` is ``shop``
    (``reverse("cart")``: in one without ``app_name``), when they are one view. A
    name routes of two views share, or a namespace no URLconf declares (an
    instance namespace, ``include(..., namespace="store")``, or Django's own
    ``admin:``), stays unknown."""
    found: dict[str, list[tuple[Call, str]]] = defaultdict(list)
    for caller in index.test_code:
        for call in index.calls_from.get(caller, ()):
            name = _literal_url_name(call) if call.callee in _REVERSERS else None
            if name is not None:
                # ``outer:shop:detail``: the innermost namespace is the URLconf's
                views = index.url_views.get(":".join(name.split(":")[-2:]), ())
                if len(views) == 1:
                    found[next(iter(views))].append((call, name))
    return {view: tuple(calls) for view, calls in found.items()}


def _literal_url_name(call: Call) -> str | None:
    """The URL name a ``reverse()`` call is given as a string literal, first or as
    ``viewname=``/``to=``; None when it is computed."""
    for a in call.args:
        if a.keyword is None or a.keyword in ("viewname", "to"):
            text = a.text
            if len(text) > 2 and text[0] in "'\"" and text[-1] == text[0]:
                return text[1:-1]
            return None
    return None


def _handlers(classes: Iterable[str], index: CodeIndex, parents: Mapping[str, str]) -> list[str]:
    """The methods an instance of each class has, its own or the first analysed base's
    along its bases (left first) to define the name: what Django may dispatch to."""
    methods: dict[str, list[str]] = defaultdict(list)
    for qual, parent in parents.items():
        methods[parent].append(qual)
    found: list[str] = []
    for cls in classes:
        names: set[str] = set()
        order, seen = [cls], {cls}
        for k in order:  # breadth first: the class, then its bases left to right
            for method in methods.get(k, ()):
                name = method.rpartition(".")[2]
                if name not in names and index.kinds.get(method) == "function":
                    names.add(name)
                    found.append(method)
            for base in index.bases.get(k, ()):
                if base not in seen and index.kinds.get(base) == "class":
                    seen.add(base)
                    order.append(base)
    return found


def _test_reach(
    index: CodeIndex,
    requests: Mapping[str, tuple[tuple[Call, str], ...]],
    parents: Mapping[str, str],
) -> set[str]:
    """Code reachable from test code: what it calls, and the views it requests by URL
    name (a class-based view with the handlers it has, inherited ones too)."""
    seen: set[str] = set()
    queue = deque(
        call.callee
        for caller in index.test_code
        for call in index.calls_from.get(caller, ())
        if call.callee is not None and call.callee in index.kinds
    )
    queue.extend(view for view in requests if view in index.kinds)
    classes = [view for view in requests if index.kinds.get(view) == "class"]
    if classes:  # Django dispatches to a class-based view's methods, inherited ones too
        queue.extend(_handlers(classes, index, parents))
    while queue:
        node = queue.popleft()
        if node in seen or node in index.test_code:
            continue
        seen.add(node)
        queue.extend(
            c.callee
            for c in index.calls_from.get(node, ())
            if c.callee is not None and c.callee in index.kinds
        )
    return seen


# ------------------------------------------------------------------ scoring


@dataclass(frozen=True, slots=True)
class _View:
    """What one candidate looks like from the outside; computed once, used by all."""

    members: frozenset[str]
    inbound: tuple[Call, ...]  # call sites from non-test code outside into members
    outbound: tuple[Call, ...]  # call sites from members to analysed code outside
    unresolved: tuple[Call, ...]  # the first few call sites whose callee is unknown
    unresolved_total: int  # all of them (only enough are sorted to fill the evidence)
    entry_points: tuple[str, ...]
    reads: Mapping[str, tuple[Location, ...]]  # table -> where members read it
    writes: Mapping[str, tuple[Location, ...]]


def has_entry_point(members: frozenset[str], index: CodeIndex) -> bool:
    """Called from outside (not by tests) or by the framework: a quick pre-filter."""
    for m in members:
        if m in index.external_entries:
            return True
        for call in index.calls_to.get(m, ()):
            if call.caller not in members and call.caller not in index.test_code:
                return True
    return False


def score_candidate(
    members: frozenset[str],
    index: CodeIndex,
    facts: GlobalFacts,
    weights: Mapping[str, float],
) -> Scored:
    view = _view(members, index)
    parts = [
        _inbound(view),
        _outbound(view, index, facts),
        _shared_writes(view, index),
        _foreign_reads(view, index),
        _cycles(view, index, facts),
        _interface(view, index),
        _serialisability(view, index, facts),
        _fire_and_forget(view, index),
        _transactions(view, index, facts),
        _global_state(view, index),
        _side_effects(view, index),
        _size(view, index, facts),
        _tests(view, index, facts),
    ]
    components = tuple(
        _Component(
            name,
            value,
            round(score, 4),
            float(weights.get(name, 0.0)),
            summary,
            tuple(ev[:MAX_EVIDENCE]),
            ev.total if isinstance(ev, _Truncated) else len(ev),
        )
        for name, value, score, summary, ev, _ in parts
    )
    blockers = tuple(b for *_, found in parts for b in found)
    total_weight = sum(c.weight for c in components) or 1.0
    mean = sum(c.weight * c.score for c in components) / total_weight
    total = 100.0 * mean * BLOCKER_FACTOR ** hard_blocker_kinds(blockers)
    size = int(components[COMPONENTS.index("size")].value)
    helper = _helper_reason(view, size, facts)
    return Scored(
        score=round(total, 2),
        components=components,
        blockers=blockers,
        entry_points=view.entry_points,
        size=size,
        tables_read=tuple(sorted(view.reads)),
        tables_written=tuple(sorted(view.writes)),
        role=Role.CAPABILITY if helper is None else Role.HELPER,
        role_reason=helper or "",
    )


def _helper_reason(view: _View, size: int, facts: GlobalFacts) -> str | None:
    """Why the candidate is a shared helper rather than a capability, or ``None``.

    A capability carries a business behaviour: database access, a side effect, module
    state, or a computation of ``SUBSTANTIAL`` size (``shipping.quotes.quote``-like
    pricing rules). Pure code smaller than that is copied into the handlers that need
    it (``copy, don't extract``): a network hop costs more than the few lines it runs.
    """
    if size >= SUBSTANTIAL or not view.members <= facts.pure:
        return None
    return (
        f"shared helper: pure (no database, side effect or module state) and {size} lines "
        f"(< {SUBSTANTIAL}); copy it, don't extract it"
    )


_Part = tuple[str, float, float, str, list[Evidence], list[Blocker]]


class _Truncated(list[Evidence]):
    """Evidence already cut to ``MAX_EVIDENCE``, remembering how many there were.

    Why: a large candidate can have thousands of call sites; building an Evidence
    value for each only to drop all but the first few made scoring quadratic-ish.
    """

    def __init__(self, items: list[Evidence], total: int) -> None:
        super().__init__(items)
        self.total = total


def _view(members: frozenset[str], index: CodeIndex) -> _View:
    inbound = [
        c
        for m in members
        for c in index.calls_to.get(m, ())
        if c.caller not in members and c.caller not in index.test_code
    ]
    outbound = [
        c
        for m in members
        for c in index.calls_from.get(m, ())
        if c.callee is not None
        and c.callee in index.kinds
        and c.callee not in members
        and index.kinds[c.callee] != "module"
        and c.callee not in index.test_code
    ]
    unresolved = [c for m in members for c in index.unresolved_from.get(m, ())]
    entries = {c.callee for c in inbound if c.callee is not None}
    entries |= {m for m in members if m in index.external_entries}
    reads: dict[str, list[Location]] = defaultdict(list)
    writes: dict[str, list[Location]] = defaultdict(list)
    for m in members:
        for access in index.orm_by_function.get(m, ()):
            table = index.table_of_access(access)
            if table is not None:
                (writes if access.op is _ORM_WRITE else reads)[table].append(access.loc)
    key = _site_key
    return _View(
        members=members,
        inbound=tuple(sorted(inbound, key=key)),
        outbound=tuple(sorted(outbound, key=key)),
        unresolved=_first(unresolved, MAX_EVIDENCE - min(len(outbound), MAX_EVIDENCE), key),
        unresolved_total=len(unresolved),
        entry_points=tuple(sorted(entries)),
        reads={t: tuple(v) for t, v in reads.items()},
        writes={t: tuple(v) for t, v in writes.items()},
    )


_site_key = attrgetter("loc.path", "loc.line", "loc.col", "callee", "caller", "text")
"""A call site's sort key: where it is, then what it calls (chained calls share a
location: ``Engine.get_default().from_string(...)``), from where and as written, so that
ties do not fall back on the order members were iterated in (a set's, which changes
with the hash seed). C code, not a Python call per site."""


def _first(calls: list[Call], n: int, key: Callable[[Call], Any]) -> tuple[Call, ...]:
    """The ``n`` first call sites in ``key`` order, without sorting them all (a Django
    app's members make thousands of unresolved calls; evidence shows twenty)."""
    if n <= 0 or not calls:
        return ()
    return tuple(heapq.nsmallest(n, calls, key=key))


def _half(x: float, half: float) -> float:
    return 1.0 / (1.0 + max(x, 0.0) / half)


def _inbound(view: _View) -> _Part:
    callers = {c.caller for c in view.inbound}
    ev = _Truncated(
        [
            _Evidence(str(c.loc), f"{c.caller} calls {c.callee}")
            for c in view.inbound[:MAX_EVIDENCE]
        ],
        len(view.inbound),
    )
    summary = f"{len(view.inbound)} call sites from {len(callers)} functions outside"
    return ("inbound_coupling", len(callers), _half(len(callers) - 1, 4), summary, ev, [])


def _outbound(view: _View, index: CodeIndex, facts: GlobalFacts) -> _Part:
    """Calls back into code that stays. A *pure helper* (no ORM, no module state, no
    side effects, and calls only code like that, transitively) can be copied rather
    than called back, so it costs a quarter of a real dependency.

    Calls that could not be resolved are listed after them, not counted: one may call
    code that stays (hidden coupling to check by hand), and guessing would be worse.
    """
    targets = {c.callee for c in view.outbound if c.callee is not None}
    pure = targets & facts.pure
    items = [
        _Evidence(
            str(c.loc),
            f"{c.caller} calls {c.callee} "
            + ("(pure helper: copy it)" if c.callee in pure else "(stays behind)"),
        )
        for c in view.outbound[:MAX_EVIDENCE]
    ]
    items += [
        _Evidence(str(c.loc), f"{c.caller} calls {c.text}(): unresolved, not counted")
        for c in view.unresolved[: MAX_EVIDENCE - len(items)]
    ]
    ev = _Truncated(items, len(view.outbound) + view.unresolved_total)
    cost = len(targets - pure) + 0.25 * len(pure)
    summary = (
        f"{len(targets)} functions outside it are called back ({len(view.outbound)} sites; "
        f"{len(pure)} pure helpers to copy)"
    )
    if view.unresolved_total:
        summary += f"; {view.unresolved_total} unresolved calls not counted"
    return ("outbound_coupling", len(targets), _half(cost, 3), summary, ev, [])


def _other_writers(table: str, view: _View, index: CodeIndex) -> list[tuple[str, Location]]:
    """Writers outside the capability; request-path code is named before management
    commands (seed and maintenance scripts) and the admin (every registered model's
    writer), which are the least telling examples."""
    found = []
    writers = sorted(
        index.writers.get(table, ()),
        key=lambda w: (".management." in w, _admin_only(w, index), w),
    )
    for writer in writers:
        if writer in view.members or writer in index.test_code:
            continue
        for access in index.orm_by_function.get(writer, ()):
            if access.op is _ORM_WRITE and index.table_of_access(access) == table:
                found.append((writer, access.loc))
                break
    return found


def _admin_only(function: str, index: CodeIndex) -> bool:
    """Writes only as the admin does (a ModelAdmin or inline: ``method="admin"``)."""
    return all(a.method == "admin" for a in index.orm_by_function.get(function, ()))


def _shared_writes(view: _View, index: CodeIndex) -> _Part:
    """One blocker per statement of the capability that writes a shared table (where
    the change has to be made), naming another writer."""
    ev: list[Evidence] = []
    blockers: list[Blocker] = []
    shared = 0
    for table in sorted(view.writes):
        others = _other_writers(table, view, index)
        if not others:
            continue
        shared += 1
        ev.extend(_Evidence(str(loc), f"{w} also writes {table}") for w, loc in others)
        writer, where = others[0]
        if _admin_only(writer, index):  # the admin edits it: Django's code, not ours
            fix = (
                f"give {table} one owner: make {writer} read-only for it (or have its "
                "save_model publish this capability's events), or keep both in the monolith"
            )
        else:
            fix = (
                f"give {table} one owner: route {writer}'s write through this "
                "capability's events, or keep both in the monolith"
            )
        for own in _own_writes(table, view, index):
            blockers.append(
                Blocker(
                    "shared_write",
                    f"writes {table}, which {writer} also writes (at {where})",
                    str(own),
                    fix,
                )
            )
    summary = f"{shared} of {len(view.writes)} written tables are also written elsewhere"
    return ("shared_writes", shared, _half(shared, 1), summary, ev, blockers)


def _own_writes(table: str, view: _View, index: CodeIndex) -> list[Location]:
    """Every statement of the members that writes ``table``, in source order."""
    found = {
        (access.loc.path, access.loc.line): access.loc
        for m in view.members
        for access in index.orm_by_function.get(m, ())
        if access.op is _ORM_WRITE and index.table_of_access(access) == table
    }
    return [found[k] for k in sorted(found)]


def _foreign_reads(view: _View, index: CodeIndex) -> _Part:
    ev: list[Evidence] = []
    count = 0
    for table in sorted(view.reads):
        others = _other_writers(table, view, index)
        if others:
            count += 1
            ev.extend(_Evidence(str(loc), f"reads {table}, written by {w}") for w, loc in others)
    summary = f"{count} tables it reads are written by code that stays"
    return ("foreign_reads", count, _half(count, 2), summary, ev, [])


def _cycles(view: _View, index: CodeIndex, facts: GlobalFacts) -> _Part:
    crossing: dict[int, Call] = {}
    for call in view.outbound:
        scc = facts.scc_of.get(call.callee or "")
        if scc is not None and scc == facts.scc_of.get(call.caller) and scc not in crossing:
            crossing[scc] = call
    ev = [
        _Evidence(str(c.loc), f"{c.caller} -> {c.callee} closes a call cycle")
        for c in crossing.values()
    ]
    blockers = [
        Blocker(
            "cycle",
            f"call cycle through {c.callee}, which calls back into this capability",
            str(c.loc),
            f"move {c.callee} along with it, or break the cycle with an event",
        )
        for c in crossing.values()
    ]
    cycles = len(crossing) + _import_cycles(view, index, facts, ev, blockers)
    summary = f"{cycles} call or import cycles cross its boundary"
    return ("cycles", cycles, _half(cycles, 0.5), summary, ev, blockers)


def _import_cycles(
    view: _View, index: CodeIndex, facts: GlobalFacts, ev: list[Evidence], out: list[Blocker]
) -> int:
    """Import cycles between a module of the capability and one outside it: both
    imports are named, since either one has to go."""
    if not facts.module_scc_of:
        return 0
    modules = {index.functions.get(m) for m in view.members}
    cyclic = sorted(m for m in modules if m is not None and m in facts.module_scc_of)
    if not cyclic:
        return 0
    mine = {m for m in modules if m is not None}
    found: set[int] = set()
    for module in cyclic:
        scc = facts.module_scc_of[module]
        imports = facts.cyclic_imports.get(module)
        if imports is None:  # GlobalFacts built without it (not by prepare)
            imports = tuple(sorted(index.module_imports.get(module, {}).items()))
        for other, loc in imports:
            if other in mine or facts.module_scc_of.get(other) != scc:
                continue
            back = index.module_imports.get(other, {}).get(module)
            found.add(scc)
            pairs = [(loc, module, other)] + ([(back, other, module)] if back else [])
            for where, a, b in pairs:
                ev.append(_Evidence(str(where), f"{a} imports {b} (import cycle)"))
                out.append(
                    Blocker(
                        "import_cycle",
                        f"{a} imports {b}, which imports it back",
                        str(where),
                        "move the shared code to a third module, or import lazily and "
                        "replace the call with an event",
                    )
                )
    return len(found)


def _interface(view: _View, index: CodeIndex) -> _Part:
    ev = []
    blockers = []
    for entry in view.entry_points:
        why = index.external_entries.get(entry, "called from outside")
        loc = _definition_loc(entry, index)
        ev.append(_Evidence(loc, f"entry point {entry}: {why}"))
        owner = entry.rpartition(".")[0]
        if index.kinds.get(entry) == "function" and index.kinds.get(owner) == "class":
            blockers.append(_method_entry(entry, owner, loc))
    n = len(view.entry_points)
    return ("interface_width", n, _half(max(n - 1, 0), 2), f"{n} entry points", ev, blockers)


def _method_entry(entry: str, owner: str, loc: str) -> Blocker:
    """A method as an entry point: its ``self`` (or class) is an object of the
    monolith's process that no event carries, so no handler can stand for it
    (``strangler extract`` refuses it, whatever ``--force`` says)."""
    return Blocker(
        "method",
        f"entry point {entry} is a method of {owner}: its instance cannot travel in an event",
        loc,
        "move the body to a module-level function taking what it uses (e.g. a primary "
        "key), call that from the method, and extract the function",
    )


def _definition_loc(qualname: str, index: CodeIndex) -> str:
    loc = index.locations.get(qualname)
    return str(loc) if loc is not None else "?"


def _serialisability(view: _View, index: CodeIndex, facts: GlobalFacts) -> _Part:
    ev: list[Evidence] = []
    blockers: list[Blocker] = []
    goodness: list[float] = []
    for call in view.inbound:
        owner = _instance_of(call.callee, index, facts)
        if owner is not None:
            is_model = owner in index.models
            goodness.append(_ARG_GOODNESS[_ARG_ORM_INSTANCE] if is_model else OBJECT_GOODNESS)
            if len(ev) < MAX_EVIDENCE:
                what = "a model instance (travels as its pk)" if is_model else "an object"
                ev.append(
                    _Evidence(
                        str(call.loc),
                        f"{call.callee} is a method: its {owner} instance (self) is {what} "
                        "that must travel with the event",
                    )
                )
        for arg in call.args:
            ref = arg.ref  # ``"pkg.Cart()"``: an instance of a class the linker resolved
            holder = (
                _request_holder(ref[:-2], index)
                if arg.kind is _ARG_UNKNOWN and ref is not None and ref.endswith("()")
                else None
            )
            if holder is not None:
                goodness.append(_ARG_GOODNESS[_ARG_REQUEST])
                what = f"an instance of {holder}, which holds the request (its __init__ takes it)"
                if len(ev) < MAX_EVIDENCE:
                    ev.append(
                        _Evidence(str(call.loc), f"{arg.text} passed to {call.callee} is {what}")
                    )
                blockers.append(
                    Blocker(
                        "argument",
                        f"{arg.text} ({what}) passed to {call.callee}",
                        str(call.loc),
                        f"pass the plain values {call.callee} needs from the {holder} "
                        "instead of the object",
                    )
                )
                continue
            goodness.append(_ARG_GOODNESS[arg.kind])
            if arg.kind is _ARG_JSON:
                continue
            if len(ev) < MAX_EVIDENCE:
                ev.append(
                    _Evidence(
                        str(call.loc), f"{arg.text} passed to {call.callee} is {arg.kind.value}"
                    )
                )
            fix = _arg_fix(arg.kind, arg.text)
            if fix is not None:
                blockers.append(
                    Blocker(
                        "argument",
                        f"{arg.text} ({arg.kind.value}) passed to {call.callee}",
                        str(call.loc),
                        fix,
                        "easy" if arg.kind in _TRAVELS_AS_PKS else "hard",
                    )
                )
    for entry in view.entry_points:
        for signal in index.receivers.get(entry, ()):
            blockers.append(
                Blocker(
                    "signal",
                    f"{entry} receives {signal.signal.rsplit('.', 1)[-1]} from "
                    f"{signal.sender or 'any sender'}: an implicit, synchronous call",
                    str(signal.loc),
                    "have the sender publish an event on commit (transaction.on_commit) "
                    "and subscribe the handler to it",
                    "easy",
                )
            )
        if _takes_request(entry, index):
            goodness.append(0.0)
            loc = _definition_loc(entry, index)
            ev.append(_Evidence(loc, f"{entry} takes the HTTP request"))
            ev.extend(_request_uses(entry, index))
            blockers.append(
                Blocker(
                    "argument",
                    f"{entry} takes the HTTP request",
                    loc,
                    "take the values it needs (user id, query parameters, absolute URLs) as "
                    "plain arguments instead of the request",
                )
            )
    score = sum(goodness) / len(goodness) if goodness else 1.0
    bad = sum(1 for g in goodness if g < 1.0)
    summary = f"{bad} of {len(goodness)} arguments at its call sites are not plain JSON"
    return ("serialisability", bad, score, summary, _Truncated(ev, max(bad, len(ev))), blockers)


def _instance_of(callee: str | None, index: CodeIndex, facts: GlobalFacts) -> str | None:
    """The class of an instance method (first parameter ``self``), else ``None``.

    Why it matters: extracting one method of an object means sending the object's
    state along; a plain function of plain values has no hidden argument.
    """
    if callee is None:
        return None
    owner = facts.parents.get(callee)
    if owner is None or index.kinds.get(owner) != "class":
        return None
    params = index.params.get(callee, ())
    return owner if params and params[0].name == "self" else None


def _request_holder(cls: str, index: CodeIndex) -> str | None:
    """``cls`` when it is a project class whose instances are built from the request
    (its ``__init__``, or an inherited one, requires ``request``), else ``None``.

    Why: a session cart or a form wrapper passed on is the request in disguise; it
    cannot travel in an event any more than the request can (demo: ``Cart(request)``
    handed to ``place_order``). Only an instance whose class the linker resolved
    counts; nothing is guessed from names.
    """
    if index.kinds.get(cls) != "class":
        return None
    seen: set[str] = set()
    todo = [cls]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        init = f"{current}.__init__"
        if init in index.params:  # the first __init__ along the bases is the one that runs
            return cls if _takes_request(init, index, required=True) else None
        todo.extend(reversed(index.bases.get(current, ())))
    return None


def _takes_request(function: str, index: CodeIndex, *, required: bool = False) -> bool:
    """A parameter named ``request`` or annotated ``HttpRequest``; with ``required``,
    only one without a default (``Form(data, request=None)`` may hold none: an instance
    of it proves nothing)."""
    return any(
        (p.name == "request" or (p.annotation is not None and "HttpRequest" in p.annotation))
        and not (required and p.has_default)
        for p in index.params.get(function, ())
    )


def _request_uses(function: str, index: CodeIndex) -> list[Evidence]:
    """Where the body reaches into the request (``request.build_absolute_uri``...)."""
    return [
        _Evidence(str(c.loc), f"{function} uses {c.text}")
        for c in index.calls_from.get(function, ())
        if c.text.startswith("request.") or any(a.kind is _ARG_REQUEST for a in c.args)
    ]


def _arg_fix(kind: ArgKind, text: str) -> str | None:
    if kind is _ARG_ORM_INSTANCE:
        return f"pass {text}.pk instead of {text}"
    if kind is _ARG_QUERYSET:
        pks = f"list({text}.values_list('pk', flat=True))"
        return f"pass {pks} (or the filter's values) instead of {text}"
    return _ARG_FIX.get(kind)


def _fire_and_forget(view: _View, index: CodeIndex) -> _Part:
    sites = [(c.loc, not c.result_used, c.callee) for c in view.inbound]
    for entry in view.entry_points:
        why = index.external_entries.get(entry, "")
        if why:  # views answer the request; receivers and tasks return nothing anyone reads
            loc = index.locations.get(entry, Location("?", 0))
            sites.append((loc, not why.startswith("url"), entry))
    if not sites:
        return ("fire_and_forget", 0.5, 0.5, "no call sites: unknown", [], [])
    ignored = sum(1 for _, fire, _ in sites if fire)
    ev = _Truncated(
        [
            _Evidence(str(loc), f"{callee}: {'result ignored' if fire else 'result used'}")
            for loc, fire, callee in sites[:MAX_EVIDENCE]
        ],
        len(sites),
    )
    fraction = ignored / len(sites)
    kind = "fire-and-forget" if fraction == 1 else "request/reply" if fraction == 0 else "mixed"
    summary = f"{kind}: result ignored at {ignored} of {len(sites)} call sites"
    # Request/reply is extractable too (the shim waits, with a timeout and a fallback);
    # fire-and-forget is only easier, so it moves the score by half its range.
    return ("fire_and_forget", round(fraction, 4), 0.5 + 0.5 * fraction, summary, ev, [])


def _transactions(view: _View, index: CodeIndex, facts: GlobalFacts) -> _Part:
    ev: list[Evidence] = []
    blockers: list[Blocker] = []
    _inbound_in_transaction(view, index, facts, ev, blockers)
    _own_transactions(view, index, ev, blockers)
    _row_locks(view, index, ev, blockers)
    n = len(ev)
    return ("transactions", n, _half(n, 1), f"{n} transactional entanglements", ev, blockers)


def _inbound_in_transaction(
    view: _View, index: CodeIndex, facts: GlobalFacts, ev: list[Evidence], out: list[Blocker]
) -> None:
    for call in view.inbound:
        region = (
            _region_at(index, call) if call.in_atomic else facts.in_transaction.get(call.caller)
        )
        if region is None and not call.in_atomic:
            continue
        where = str(region) if region is not None else "an atomic block"
        ev.append(
            _Evidence(str(call.loc), f"{call.callee} called inside transaction.atomic ({where})")
        )
        out.append(
            Blocker(
                "transaction",
                f"{call.callee} is called inside transaction.atomic ({where})",
                str(call.loc),
                "publish the event with transaction.on_commit (or the outbox) so a rollback "
                "cannot leave the handler's effects behind",
            )
        )


def _own_transactions(
    view: _View, index: CodeIndex, ev: list[Evidence], out: list[Blocker]
) -> None:
    """A member's own ``atomic`` is a blocker when it spans tables that other code also
    writes, or calls back into code that stays: the transaction cannot be split
    between a handler and the monolith."""
    shared = any(_other_writers(t, view, index) for t in view.writes)
    for m in sorted(view.members & index.atomic_by_function.keys()):
        for region in index.atomic_by_function[m]:
            inside = [
                c
                for c in index.calls_from.get(m, ())
                if region.loc.line <= c.loc.line <= region.end_line
                and c.callee is not None
                and c.callee in index.kinds
                and c.callee != m
            ]
            ev.append(_Evidence(str(region.loc), f"{m} opens transaction.atomic ({region.kind})"))
            ev.extend(_Evidence(str(c.loc), f"{m} calls {c.callee} inside it") for c in inside)
            leaves = [c for c in inside if c.callee not in view.members]
            if shared or leaves:
                why = "over tables other code writes" if shared else f"calling {leaves[0].callee}"
                out.append(
                    Blocker(
                        "transaction",
                        f"{m} runs its own transaction.atomic {why}",
                        str(region.loc),
                        "split the transaction first (a saga with compensations), or keep it "
                        "in the monolith",
                    )
                )


def _row_locks(view: _View, index: CodeIndex, ev: list[Evidence], out: list[Blocker]) -> None:
    seen: set[tuple[str, str]] = set()
    for m in sorted(view.members & index.orm_by_function.keys()):
        for access in index.orm_by_function[m]:
            if not access.select_for_update or (m, str(access.loc)) in seen:
                continue
            seen.add((m, str(access.loc)))
            ev.append(_Evidence(str(access.loc), f"{m} locks rows with select_for_update"))
            out.append(
                Blocker(
                    "select_for_update",
                    f"{m} locks {access.model or access.table} rows with "
                    + (
                        "SELECT ... FOR UPDATE"
                        if access.method in ("execute", "executemany")
                        else "select_for_update"
                    ),
                    str(access.loc),
                    "a handler cannot hold the monolith's row locks: make the update "
                    "idempotent (compare-and-set) or keep it in the monolith",
                )
            )


def _global_state(view: _View, index: CodeIndex) -> _Part:
    ev: list[Evidence] = []
    blockers: list[Blocker] = []
    names: set[str] = set()
    for m in sorted(view.members & index.global_uses.keys()):
        for use in index.global_uses[m]:
            shared = sorted(index.global_users.get(use.name, set()) - view.members)
            verb = "writes" if use.writes else "reads"
            note = f" (also used by {shared[0]})" if shared else ""
            defined = index.global_defs.get(use.name)
            where = f", defined at {defined}" if defined is not None else ""
            if defined is not None and use.name not in names:
                ev.append(_Evidence(str(defined), f"module-level mutable {use.name}"))
            ev.append(_Evidence(str(use.loc), f"{m} {verb} module-level {use.name}{note}"))
            names.add(use.name)
            if use.writes and shared:
                blockers.append(
                    Blocker(
                        "global_state",
                        f"{m} mutates module-level {use.name}{where}, shared with {shared[0]}",
                        str(use.loc),
                        "move the state to a shared store (cache or database)"
                        " or pass it explicitly",
                    )
                )
    # Read-only module-level containers are constants in practice: evidence, no cost.
    n = sum(1 for name in names if _mutated(name, index))
    summary = f"{len(names)} module-level mutable values used, {n} of them mutated"
    return ("global_state", n, _half(n, 1), summary, ev, blockers)


def _mutated(name: str, index: CodeIndex) -> bool:
    return any(
        use.writes and use.name == name
        for user in index.global_users.get(name, ())
        for use in index.global_uses.get(user, ())
    )


def _side_effects(view: _View, index: CodeIndex) -> _Part:
    """Slow I/O (mail, HTTP, images, files, subprocesses) is what extraction buys back:
    the more of it a capability causes, the more an asynchronous handler helps. Effects
    of the helpers it calls directly count too (``send_x`` -> shared ``_send`` -> mail)."""
    effects = index.effects_by_function
    found = [(m, e) for m in sorted(view.members & effects.keys()) for e in effects[m]]
    helpers = sorted({c.callee for c in view.outbound if c.callee is not None})
    found += [(h, e) for h in helpers for e in index.effects_by_function.get(h, ())]
    ev = [_Evidence(str(e.loc), f"{m}: {e.kind.value} via {e.callee}") for m, e in found]
    kinds = sorted({e.kind.value for _, e in found})
    score = 1.0 - _half(len(found), 1) * 0.5 if found else 0.25
    summary = f"{len(found)} side effects ({', '.join(kinds) or 'none'})"
    return ("side_effects", len(found), score, summary, ev, [])


def _size(view: _View, index: CodeIndex, facts: GlobalFacts) -> _Part:
    """Large is harder to move (goodness halves at 300 lines that move); small is not
    worth a network hop and a worker. "Small" counts the code a call runs - its own
    lines plus those of the monolith functions it calls directly - because a
    four-line façade over a shared renderer still takes that renderer's work off the
    request path: goodness rises to 1 at ``SUBSTANTIAL`` lines run."""
    top = [m for m in view.members if facts.parents.get(m) not in view.members]
    lines = sum(index.sizes.get(m, 0) for m in top)
    called = {c.callee for c in view.outbound if c.callee is not None}
    runs = lines + sum(index.sizes.get(c, 0) for c in called if facts.parents.get(c) not in called)
    summary = (
        f"{lines} lines in {len(view.members)} functions/classes; runs {runs} with its callees"
    )
    score = min(1.0, runs / SUBSTANTIAL) * _half(lines, 300)
    return ("size", lines, score, summary, [], [])


def _tests(view: _View, index: CodeIndex, facts: GlobalFacts) -> _Part:
    reached = [m for m in view.members if m in facts.tested]
    direct = [
        c for m in view.members for c in index.calls_to.get(m, ()) if c.caller in index.test_code
    ]
    requests = facts.url_requests
    # one list in the order of the places; only what is shown is formatted
    sites: list[tuple[Call, str | None, str]] = [(c, None, "") for c in direct]
    requested = [(c, name, m) for m in view.members for c, name in requests.get(m, ())]
    sites += requested
    sites.sort(key=lambda s: _site_key(s[0]))
    ev = _Truncated(
        [
            _Evidence(
                str(c.loc),
                f"test {c.caller} calls {c.callee}"
                if name is None
                else f"test {c.caller} requests {name!r} ({m})",
            )
            for c, name, m in sites[:MAX_EVIDENCE]
        ],
        len(sites),
    )
    fraction = len(reached) / len(view.members) if view.members else 0.0
    urls = f", {len(requested)} URL requests" if requested else ""
    summary = (
        f"{len(reached)} of {len(view.members)} reached from tests "
        f"({len(direct)} direct calls{urls})"
    )
    return ("tests", round(fraction, 4), fraction, summary, ev, [])
