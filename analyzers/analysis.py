"""The analysis use case: facts in, a ranked and explained list of capabilities out.

``analyze`` is pure and deterministic: the same facts and weights give the same
:class:`Analysis`, which is made of frozen values and round-trips through JSON
(:func:`to_json` / :func:`from_json`) so that the CLI can cache it and machines can
consume it. ``SCHEMA_VERSION`` is bumped on any change to that JSON shape; the shape
is described by ``strangler/schemas/analysis.schema.json``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from analyzers._gc import paused_gc
from analyzers.capabilities import Candidate, build_capability_graph, find_candidates
from analyzers.facts import Diagnostic, ModuleFacts
from analyzers.graph import CodeIndex, build_graph, build_index
from analyzers.quality import Quality, partition_quality
from analyzers.scoring import (
    DEFAULT_WEIGHTS,
    Blocker,
    Component,
    Evidence,
    GlobalFacts,
    Role,
    Scored,
    has_entry_point,
    prepare,
    score_candidate,
)

__all__ = [
    "SCHEMA_VERSION",
    "Analysis",
    "Capability",
    "Stats",
    "analyze",
    "analyze_collection",
    "capability_from_json",
    "capability_to_json",
    "find_capability",
    "from_json",
    "to_json",
    "why_not_found",
]

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True, slots=True)
class Capability:
    rank: int
    name: str
    anchor: str
    sources: tuple[str, ...]
    score: float
    entry_points: tuple[str, ...]
    members: tuple[str, ...]
    size: int
    tables_read: tuple[str, ...]
    tables_written: tuple[str, ...]
    components: tuple[Component, ...]
    blockers: tuple[Blocker, ...]
    role: str = Role.CAPABILITY  # or Role.HELPER: pure and small, copy it (see scoring)
    role_reason: str = ""

    def component(self, name: str) -> Component:
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Stats:
    modules: int
    functions: int
    classes: int
    tables: int
    calls: int
    unresolved_calls: int
    nodes: int
    edges: int
    candidates: int
    diagnostics: int


@dataclass(frozen=True, slots=True)
class Analysis:
    schema_version: str
    root: str
    weights: tuple[tuple[str, float], ...]
    capabilities: Sequence[Capability]  # ranked; a tuple, or a lazily decoded cache
    proposed: tuple[str, ...]  # disjoint capabilities picked for the partition metrics
    quality: Quality
    diagnostics: tuple[Diagnostic, ...]
    stats: Stats


class CollectionLike(Protocol):
    """What ``analyzers.collect.Collection`` provides (structural, to keep modules apart)."""

    @property
    def root(self) -> Any: ...
    @property
    def modules(self) -> Sequence[ModuleFacts]: ...
    @property
    def diagnostics(self) -> Sequence[Diagnostic]: ...


def analyze_collection(
    collection: CollectionLike,
    weights: Mapping[str, float] | None = None,
    *,
    proposal_size: int = 10,
) -> Analysis:
    return analyze(
        collection.modules,
        collection.diagnostics,
        root=str(collection.root),
        weights=weights,
        proposal_size=proposal_size,
    )


def analyze(
    modules: Sequence[ModuleFacts],
    diagnostics: Sequence[Diagnostic] = (),
    *,
    root: str = ".",
    weights: Mapping[str, float] | None = None,
    proposal_size: int = 10,
    communities: bool = True,
) -> Analysis:
    """Graph -> candidates -> scores -> ranking -> partition quality.

    The cyclic garbage collector is paused for the duration: the analysis allocates
    hundreds of thousands of small, acyclic values on top of a large heap of facts,
    and full collections were a third of its CPU time on Django's source.
    """
    with paused_gc():
        return _analyze(modules, diagnostics, root, weights, proposal_size, communities)


def _analyze(
    modules: Sequence[ModuleFacts],
    diagnostics: Sequence[Diagnostic],
    root: str,
    weights: Mapping[str, float] | None,
    proposal_size: int,
    communities: bool,
) -> Analysis:
    merged = {**DEFAULT_WEIGHTS, **(weights or {})}
    index = build_index(modules)
    graph = build_graph(modules, index)
    cap_graph = build_capability_graph(graph, index)
    candidates = find_candidates(cap_graph, index, communities=communities)
    facts = prepare(cap_graph.graph, index)
    ranked = _rank(candidates, index, facts, merged)
    proposed = _propose(ranked, proposal_size)
    chosen = [frozenset(c.members) for c in ranked if c.name in proposed]
    rest = frozenset(cap_graph.graph.nodes) - frozenset().union(*chosen)
    quality = partition_quality(cap_graph.graph, [*chosen, rest])
    return Analysis(
        schema_version=SCHEMA_VERSION,
        root=root,
        weights=tuple(sorted(merged.items())),
        capabilities=tuple(ranked),
        proposed=proposed,
        quality=quality,
        diagnostics=tuple(sorted(diagnostics, key=lambda d: (d.path, d.line or 0))),
        stats=_stats(index, graph, len(candidates), len(diagnostics)),
    )


def _rank(
    candidates: Sequence[Candidate],
    index: CodeIndex,
    facts: GlobalFacts,
    weights: Mapping[str, float],
) -> list[Capability]:
    # Nothing calls it and the framework does not either (settings, admin classes,
    # migrations): there is no seam to route, so it is not a capability to extract.
    scored = [
        (c, score_candidate(c.members, index, facts, weights))
        for c in candidates
        if has_entry_point(c.members, index)
    ]
    scored = _drop_subsumed(scored)
    # Shared helpers rank after every capability, whatever their score: they are
    # copied, not extracted (see analyzers.scoring).
    scored.sort(key=lambda p: (p[1].role != Role.CAPABILITY, -p[1].score, p[0].name))
    return [
        Capability(
            rank=i + 1,
            name=c.name,
            anchor=c.anchor,
            sources=c.sources,
            score=s.score,
            entry_points=s.entry_points,
            members=tuple(sorted(c.members)),
            size=s.size,
            tables_read=s.tables_read,
            tables_written=s.tables_written,
            components=s.components,
            blockers=s.blockers,
            role=s.role,
            role_reason=s.role_reason,
        )
        for i, (c, s) in enumerate(scored)
    ]


def _drop_subsumed(scored: list[tuple[Candidate, Scored]]) -> list[tuple[Candidate, Scored]]:
    """Drop a module/app/community candidate that is a strict part of one entry
    point's candidate with that same single entry point.

    Why: the entry candidate is everything that only its entry point reaches (the
    dominator subtree); a smaller set behind the same single seam moves the same
    behaviour but leaves code only it uses behind, as calls back into the monolith.
    It is the same capability with a worse boundary, listed twice.
    """
    by_entry = {c.anchor: c.members for c, _ in scored if c.sources[0] == "entry"}
    kept = []
    for c, s in scored:
        if c.sources[0] != "entry" and len(s.entry_points) == 1:
            whole = by_entry.get(s.entry_points[0])
            if whole is not None and c.members < whole:
                continue
        kept.append((c, s))
    return kept


def _propose(ranked: Sequence[Capability], size: int) -> tuple[str, ...]:
    """Greedy: best-ranked capabilities whose members do not overlap one already chosen."""
    taken: set[str] = set()
    chosen: list[str] = []
    for cap in ranked:
        if len(chosen) >= size:
            break
        if taken.isdisjoint(cap.members):
            chosen.append(cap.name)
            taken.update(cap.members)
    return tuple(chosen)


def _stats(index: CodeIndex, graph: Any, candidates: int, diagnostics: int) -> Stats:
    kinds = list(index.kinds.values())
    return Stats(
        modules=kinds.count("module"),
        functions=kinds.count("function"),
        classes=kinds.count("class"),
        tables=sum(1 for _, k in graph.nodes(data="kind") if k == "table"),
        calls=index.total_calls,
        unresolved_calls=index.unresolved_calls,
        nodes=graph.number_of_nodes(),
        edges=graph.number_of_edges(),
        candidates=candidates,
        diagnostics=diagnostics,
    )


def find_capability(analysis: Analysis, name: str) -> Capability | None:
    """Exact name, else the one capability whose name ends with ``.name``.

    Looks names up first (a lazily decoded sequence offers ``names``), so only the
    capability found is decoded.
    """
    caps = analysis.capabilities
    names = _names(caps)
    if name in names:
        return caps[list(names).index(name)]
    matches = [i for i, n in enumerate(names) if n.endswith("." + name)]
    return caps[matches[0]] if len(matches) == 1 else None


def why_not_found(analysis: Analysis, name: str) -> str:
    """Why :func:`find_capability` found nothing for ``name``, in words for one line.

    A short name that ends several capabilities' names is ambiguous, not unknown:
    saying "no capability named 'views'" when six end in ``.views`` sends the user
    looking for a typo; listing them lets them pick.
    """
    names = _names(analysis.capabilities)
    matches = [n for n in names if n.endswith("." + name)]
    if len(matches) < 2:
        close = close_names(name, names)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return f"no capability named {name!r}{hint}"
    shown = ", ".join(matches[:AMBIGUOUS_SHOWN])
    more = f" and {len(matches) - AMBIGUOUS_SHOWN} more" if len(matches) > AMBIGUOUS_SHOWN else ""
    return f"{name!r} is ambiguous: {len(matches)} capabilities end with it ({shown}{more})"


def close_names(name: str, names: Sequence[str], most: int = 3) -> list[str]:
    """Names ``name`` may be a misspelling of, best first: compared as written, whole
    (``orders.checkout.place_ordr``) or as the last parts of a name (``place_ordr``,
    ``checkout.place_ordr``), as the short forms :func:`find_capability` accepts."""
    depth = name.count(".") + 1
    by_tail: dict[str, list[str]] = {}
    for full in names:
        by_tail.setdefault(".".join(full.split(".")[-depth:]), []).append(full)
    scored = []
    for tail in by_tail:
        matcher = difflib.SequenceMatcher(None, name, tail)
        if matcher.real_quick_ratio() >= CLOSE and matcher.quick_ratio() >= CLOSE:
            scored.append((matcher.ratio(), tail))
    scored.sort(key=lambda pair: -pair[0])
    # only the best few: a long shared prefix (``notifications.emails.``) makes every
    # name of that module look close to a misspelt one
    close = [tail for ratio, tail in scored if ratio >= CLOSE and ratio >= scored[0][0] - 0.05]
    return [full for tail in close for full in by_tail[tail]][:most]


CLOSE = 0.75
"""How alike (difflib's ratio) a name must be to a misspelt one to be suggested."""


def _names(caps: Sequence[Capability]) -> Sequence[str]:
    """Capability names without decoding them (a lazily decoded sequence offers ``names``)."""
    return getattr(caps, "names", None) or [c.name for c in caps]


AMBIGUOUS_SHOWN = 5
"""Names listed in an "ambiguous" message: enough to choose from, one line still."""


# ------------------------------------------------------------------ JSON codec


def to_json(analysis: Analysis, *, top: int | None = None) -> dict[str, Any]:
    """The documented JSON shape (see the schema); ``top`` keeps only the best N."""
    caps = analysis.capabilities if top is None else analysis.capabilities[:top]
    return {
        "schema_version": analysis.schema_version,
        "root": analysis.root,
        "weights": dict(analysis.weights),
        "stats": _stats_json(analysis.stats),
        "quality": _quality_json(analysis.quality),
        "proposed": list(analysis.proposed),
        "diagnostics": [
            {"path": d.path, "reason": d.reason, "line": d.line} for d in analysis.diagnostics
        ],
        "capabilities": [capability_to_json(c) for c in caps],
    }


def _stats_json(s: Stats) -> dict[str, int]:
    return {name: getattr(s, name) for name in Stats.__slots__}


def _quality_json(q: Quality) -> dict[str, float | int]:
    return {name: getattr(q, name) for name in Quality.__slots__}


def capability_to_json(c: Capability) -> dict[str, Any]:
    return {
        "rank": c.rank,
        "name": c.name,
        "anchor": c.anchor,
        "sources": list(c.sources),
        "score": c.score,
        "role": c.role,
        "role_reason": c.role_reason,
        "entry_points": list(c.entry_points),
        "members": list(c.members),
        "size": c.size,
        "tables_read": list(c.tables_read),
        "tables_written": list(c.tables_written),
        "components": [
            {
                "name": p.name,
                "value": p.value,
                "score": p.score,
                "weight": p.weight,
                "summary": p.summary,
                "evidence_total": p.evidence_total,
                "evidence": [{"location": e.location, "detail": e.detail} for e in p.evidence],
            }
            for p in c.components
        ],
        "blockers": [
            {
                "kind": b.kind,
                "severity": b.severity,
                "message": b.message,
                "location": b.location,
                "fix": b.fix,
            }
            for b in c.blockers
        ],
    }


def from_json(data: Mapping[str, Any]) -> Analysis:
    """Inverse of :func:`to_json` (without ``top``); raises ``KeyError``/``TypeError``/
    ``ValueError`` on a malformed document, which the cache treats as a miss."""
    if data["schema_version"] != SCHEMA_VERSION:
        raise ValueError(f"schema {data['schema_version']!r} is not {SCHEMA_VERSION!r}")
    return Analysis(
        schema_version=data["schema_version"],
        root=data["root"],
        weights=tuple(sorted((str(k), float(v)) for k, v in data["weights"].items())),
        capabilities=tuple(capability_from_json(c) for c in data["capabilities"]),
        proposed=tuple(data["proposed"]),
        quality=Quality(**data["quality"]),
        diagnostics=tuple(Diagnostic(**d) for d in data["diagnostics"]),
        stats=Stats(**data["stats"]),
    )


def capability_from_json(c: Mapping[str, Any]) -> Capability:
    return Capability(
        rank=c["rank"],
        name=c["name"],
        anchor=c["anchor"],
        sources=tuple(c["sources"]),
        score=c["score"],
        entry_points=tuple(c["entry_points"]),
        members=tuple(c["members"]),
        size=c["size"],
        tables_read=tuple(c["tables_read"]),
        tables_written=tuple(c["tables_written"]),
        components=tuple(
            Component(
                name=p["name"],
                value=p["value"],
                score=p["score"],
                weight=p["weight"],
                summary=p["summary"],
                evidence=tuple(Evidence(**e) for e in p["evidence"]),
                evidence_total=p["evidence_total"],
            )
            for p in c["components"]
        ),
        blockers=tuple(Blocker(**b) for b in c["blockers"]),
        role=c.get("role", Role.CAPABILITY),
        role_reason=c.get("role_reason", ""),
    )
