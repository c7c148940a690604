"""The extraction plan: what ``strangler extract`` will do, decided before anything is written.

Pure over the analysis (the ranked :class:`~analyzers.analysis.Capability`) and the
linked facts: no file is read here beyond what collection already did. The plan says

* what **moves** (the entry points and the functions only they reach: the capability's
  members), what is **copied** (pure helpers that stay in the monolith because other
  code calls them too, but that the handler may carry a copy of), and what **stays**
  and is called back from the handler;
* what **blocks**: the analyzer's hard blockers refuse the extraction unless forced;
  its easy ones (an ORM instance argument) are reported as couplings;
* each entry point's **event**: the JSON Schema of its data (from the annotations as
  written and the argument kinds seen at every production call site; an ORM instance
  travels as ``{"$model", "pk"}`` and is refetched by the handler, which is
  shared-database coupling) and its **dispatch style**: fire-and-forget when no call
  site uses the return value, else request/reply.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from analyzers.analysis import Capability
from analyzers.facts import (
    POSITIONAL_KINDS,
    ArgKind,
    Call,
    Definition,
    DefKind,
    ModelFact,
    ModuleFacts,
    Param,
)
from analyzers.graph import CodeIndex, build_index
from strangler.codemods.generate import USER_SAMPLE
from strangler.codemods.schema import ParamSchema, data_schema

__all__ = [
    "DEFAULT_TARGET",
    "EventArgument",
    "ExtractionPlan",
    "PlannedEntry",
    "feature_name",
    "package_name",
    "plan_extraction",
]

DEFAULT_TARGET = "functions"
FIRE_AND_FORGET = "fire_and_forget"
REQUEST_REPLY = "request_reply"
# When call sites disagree, the argument is as hard to move as its hardest use.
_PRECEDENCE = (
    ArgKind.REQUEST,
    ArgKind.FILE,
    ArgKind.LOCK,
    ArgKind.CALLABLE,
    ArgKind.QUERYSET,
    ArgKind.ORM_INSTANCE,
    ArgKind.UNKNOWN,
    ArgKind.JSON,
)


@dataclass(frozen=True, slots=True)
class EventArgument:
    """One argument of an entry point as it travels in the event."""

    name: str
    kind: ArgKind
    annotation: str | None = None
    param_kind: str = "positional"
    model: str | None = None  # "app_label.ModelName" for an ORM instance
    sample: str | None = None  # Python expression for the generated handler test


@dataclass(frozen=True, slots=True)
class PlannedEntry:
    """One entry point: its routing (feature, task, style) and its event."""

    qualname: str
    module: str
    name: str  # inside its module: ``function`` or ``Class.method``
    feature: str
    task: str
    style: str
    call_sites: tuple[str, ...]  # file:line of every production call
    result_used_at: tuple[str, ...]  # the call sites that use the return value
    arguments: tuple[EventArgument, ...]
    schema: Mapping[str, Any]
    effects: tuple[str, ...] = ()  # side-effect kinds in it or in project code it calls


@dataclass(frozen=True, slots=True)
class ExtractionPlan:
    capability: str
    package: str  # the Python package of the handlers, e.g. ``functions.catalog_make_thumbnail``
    target: str
    entries: tuple[PlannedEntry, ...]
    moves: tuple[str, ...]  # functions copied into handlers.py (members of the capability)
    copies: tuple[str, ...]  # pure helpers used elsewhere too, copied alongside
    stays: tuple[str, ...]  # code outside the capability the handler calls back (imported)
    types: tuple[str, ...]  # classes of the capability: imported, so they keep their identity
    modules: tuple[str, ...]  # every monolith module whose source the generator needs
    blockers: tuple[str, ...]  # hard: refuse unless forced ("message at file:line: fix")
    couplings: tuple[str, ...]  # easy blockers and shared-database coupling, reported
    tables_read: tuple[str, ...]
    tables_written: tuple[str, ...]
    # entry points no handler can stand for (an instance method, a name defined twice):
    # also in ``blockers``, but refused even with --force
    unextractable: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.blockers)

    def to_json(self) -> dict[str, Any]:
        return {
            "capability": self.capability,
            "package": self.package,
            "target": self.target,
            "blocked": self.blocked,
            "entry_points": [_entry_json(e) for e in self.entries],
            "moves": list(self.moves),
            "copies": list(self.copies),
            "stays": list(self.stays),
            "types": list(self.types),
            "blockers": list(self.blockers),
            "unextractable": list(self.unextractable),
            "couplings": list(self.couplings),
            "tables_read": list(self.tables_read),
            "tables_written": list(self.tables_written),
        }


def _entry_json(entry: PlannedEntry) -> dict[str, Any]:
    return {
        "qualname": entry.qualname,
        "feature": entry.feature,
        "task": entry.task,
        "style": entry.style,
        "call_sites": list(entry.call_sites),
        "result_used_at": list(entry.result_used_at),
        "arguments": [
            {"name": a.name, "kind": a.kind.value, "model": a.model} for a in entry.arguments
        ],
        "schema": dict(entry.schema),
        "effects": list(entry.effects),
    }


def package_name(capability: str) -> str:
    """A valid Python package name from the capability's: dots joined by ``_``; a
    community's ``+26`` read as ``_plus_26``; any other character no identifier takes
    (the space and brackets of a clash's ``orders [module]``) one ``_``. The ``+`` had
    made ``functions/core_utils_quantize+26``, whose generated imports did not parse."""
    name = capability.replace(".", "_").replace("+", "_plus_")
    name = re.sub(r"\W+", "_", name, flags=re.ASCII).strip("_")
    return f"_{name}" if name[:1].isdigit() else name or "capability"


def feature_name(qualname: str, module: str) -> str:
    """``<top package>.<name in module>``, e.g. ``notifications.send_order_confirmation``."""
    return f"{module.split('.')[0]}.{qualname[len(module) + 1 :]}"


def plan_extraction(
    capability: Capability, modules: Sequence[ModuleFacts], *, target: str = DEFAULT_TARGET
) -> ExtractionPlan:
    """The plan for ``capability`` over the linked facts ``modules`` (pure)."""
    index = build_index(modules)
    members = set(capability.members)
    package = f"{target}.{package_name(capability.name)}"
    entries = tuple(_entry(q, index, package) for q in capability.entry_points)
    functions = [m for m in sorted(members) if index.kinds.get(m) != "class"]
    called = _called_outside(members, index)
    copies = tuple(sorted(c for c in called if _pure(c, index)))
    stays = tuple(sorted(set(called) - set(copies)))
    involved = {index.functions[q] for q in [*members, *copies] if q in index.functions}
    hard = [b for b in capability.blockers if b.severity == "hard"]
    easy = [b for b in capability.blockers if b.severity != "hard"]
    unextractable = tuple(_unextractable(capability.entry_points, modules))
    return ExtractionPlan(
        capability=capability.name,
        package=package,
        target=target,
        entries=entries,
        moves=tuple(f for f in functions if f not in capability.entry_points),
        copies=copies,
        stays=stays,
        types=tuple(m for m in sorted(members) if index.kinds.get(m) == "class"),
        modules=tuple(sorted(involved)),
        blockers=(*unextractable, *(str(b) for b in hard)),
        couplings=(
            *(str(b) for b in easy),
            *_database_coupling(entries, capability),
            *_settings_coupling(members, modules),
        ),
        tables_read=capability.tables_read,
        tables_written=capability.tables_written,
        unextractable=unextractable,
    )


_DESCRIPTORS = frozenset({"staticmethod", "classmethod"})


def _unextractable(entry_points: Sequence[str], modules: Sequence[ModuleFacts]) -> list[str]:
    """Why an entry point can never be a handler, whatever ``--force`` says.

    A name defined twice: Python binds the last definition, the handler would copy the
    first (and ``@routed`` would wrap both). A method: its ``self`` (or class) is an
    object of the monolith's process that no event carries, so the handler would get
    ``None`` for it.
    """
    found: dict[str, list[Definition]] = {q: [] for q in entry_points}
    for module in modules:
        for definition in module.definitions:
            if definition.qualname in found:
                found[definition.qualname].append(definition)
    reasons: list[str] = []
    for qualname, definitions in found.items():
        if len(definitions) > 1:
            where = ", ".join(str(d.loc) for d in definitions)
            reasons.append(
                f"{qualname} is ambiguous: defined {len(definitions)} times, at {where}: Python "
                "keeps the last, the handler would copy the first; keep one definition"
            )
        elif definitions and definitions[0].kind is DefKind.METHOD:
            reasons.append(_method_reason(definitions[0]))
    return reasons


def _method_reason(method: Definition) -> str:
    names = {d.rpartition(".")[2] for d in method.decorators} & _DESCRIPTORS
    what = f"a {sorted(names)[0]}" if names else "an instance method"
    travels = "its class" if names else "its self"
    return (
        f"{method.qualname} is {what} at {method.loc}: {travels} cannot travel in an "
        "event; move the body to a module-level function taking what it uses (e.g. a "
        "primary key), call that from the method, and extract the function"
    )


def _entry(qualname: str, index: CodeIndex, package: str) -> PlannedEntry:
    module = index.functions.get(qualname, qualname.rpartition(".")[0])
    name = qualname[len(module) + 1 :]
    sites = [c for c in index.calls_to.get(qualname, ()) if c.caller not in index.test_code]
    # A view's result is the response the URL dispatcher returns: used where it is routed.
    used = [str(c.loc) for c in sites if c.result_used]
    used += [str(loc) for loc in index.view_routes.get(qualname, ())]
    arguments = _arguments(index.params.get(qualname, ()), sites, index, method="." in name)
    samples = _samples(arguments, index.calls_to.get(qualname, ()), index, method="." in name)
    arguments = [replace(a, sample=samples.get(a.name)) for a in arguments]
    feature = feature_name(qualname, module)
    params = [ParamSchema(a.name, a.annotation, a.param_kind, a.kind, a.model) for a in arguments]
    return PlannedEntry(
        qualname=qualname,
        module=module,
        name=name,
        feature=feature,
        task=f"{package}.tasks.{name.rpartition('.')[2]}",
        style=_style(qualname, sites, used, index),
        call_sites=tuple(str(c.loc) for c in sites),
        result_used_at=tuple(used),
        arguments=tuple(arguments),
        schema=data_schema(feature, qualname, params),
        effects=_effects(qualname, index),
    )


def _style(qualname: str, sites: Sequence[Call], used: Sequence[str], index: CodeIndex) -> str:
    """Fire-and-forget only on evidence: call sites that all ignore the result, or a
    signal receiver or Celery task, whose result the framework drops. A function no
    analysed code calls has callers the analysis cannot see (another project, a
    framework hook, a dotted path in settings) that may read its result: waiting for
    the reply is right for every caller, while fire-and-forget would hand such a caller
    ``None`` where the monolith returned a value."""
    if used:
        return REQUEST_REPLY
    if sites:
        return FIRE_AND_FORGET
    why = index.external_entries.get(qualname, "")  # a management command's is printed
    return FIRE_AND_FORGET if why.startswith(("receiver of ", "celery task ")) else REQUEST_REPLY


def _effects(qualname: str, index: CodeIndex) -> tuple[str, ...]:
    """The side-effect kinds (mail, http, ...) of the entry point and of the project code
    it calls, transitively: the handler calls it all, moved or called back, so the
    generated test can expect what the capture records (e.g. the mail a helper sends)."""
    seen, todo = {qualname}, [qualname]
    while todo:
        for call in index.calls_from.get(todo.pop(), ()):
            if call.callee in index.kinds and call.callee not in seen:
                seen.add(call.callee)
                todo.append(call.callee)
    return tuple(sorted({e.kind.value for f in seen for e in index.effects_by_function.get(f, ())}))


def _bind(params: Sequence[str], call: Call) -> dict[str, str]:
    """Argument source text by parameter name, for one call site."""
    out: dict[str, str] = {}
    position = 0
    for arg in call.args:
        if arg.keyword == "**":  # ``**kwargs``: none of its values is written here
            continue
        if arg.keyword is not None:
            out[arg.keyword] = arg.text
        elif arg.text.startswith("<starred"):  # ``*args``: what comes after is anyone's
            position = len(params)
        elif position < len(params):
            out[params[position]] = arg.text
            position += 1
    return out


def _samples(
    arguments: Sequence[EventArgument], calls: Sequence[Call], index: CodeIndex, *, method: bool
) -> dict[str, str]:
    """A sample value per parameter for the generated handler test, from evidence: a
    literal passed at some call site (tests included: they hold the best examples), else
    for ``<model>_id`` a row of that model, else for a parameter every call site passes
    ``request.user`` a row of the project's user model (named by the settings, which
    the analysis does not read); parameters with none are left to the generator's
    schema-based sample."""
    positional = [a.name for a in arguments if a.param_kind in POSITIONAL_KINDS][
        1 if method else 0 :
    ]
    literals: dict[str, str] = {}
    users: dict[str, bool] = {}
    for call in sorted(calls, key=lambda c: (c.loc.path, c.loc.line)):
        for name, text in _bind(positional, call).items():
            if name not in literals and (value := _literal(text)) is not None:
                literals[name] = value
            is_user = text == "request.user" or text.endswith(".request.user")
            users[name] = users.get(name, True) and is_user
    for a in arguments:
        if a.name in literals:
            continue
        label = _model_for_id(a.name, index)
        if a.kind is not ArgKind.ORM_INSTANCE and label:
            literals[a.name] = f'self.model_ref("{label}")["pk"]'
        elif a.kind is ArgKind.ORM_INSTANCE and a.model is None and users.get(a.name):
            literals[a.name] = USER_SAMPLE
    return literals


def _literal(text: str) -> str | None:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return repr(value) if value is not None else None


def _model_for_id(name: str, index: CodeIndex) -> str | None:
    """``order_id`` -> the one model named ``Order`` (case-insensitive), as a label."""
    if not name.endswith("_id"):
        return None
    wanted = name[:-3].replace("_", "")
    found = {
        label
        for q in index.models
        if q.rpartition(".")[2].lower() == wanted and (label := _model_label(q, index))
    }
    return found.pop() if len(found) == 1 else None


def _arguments(
    params: Sequence[Param], sites: Sequence[Call], index: CodeIndex, *, method: bool
) -> list[EventArgument]:
    """Each parameter with the hardest argument kind any call site passes for it; one
    a ``*args`` or ``**kwargs`` spread may pass is unknown at that site."""
    seen: dict[str, list[tuple[ArgKind, str | None]]] = {p.name: [] for p in params}
    positional = [p.name for p in params if p.kind in POSITIONAL_KINDS][1 if method else 0 :]
    unknown = (ArgKind.UNKNOWN, None)
    for call in sites:
        given: dict[str, tuple[ArgKind, str | None]] = {}
        spread: list[str] = []
        position = 0
        for arg in call.args:
            if arg.keyword == "**":
                spread.extend(seen)
            elif arg.keyword is not None:
                given[arg.keyword] = (arg.kind, arg.model)
            elif arg.text.startswith("<starred"):
                spread.extend(positional[position:])
                position = len(positional)
            elif position < len(positional):
                given[positional[position]] = (arg.kind, arg.model)
                position += 1
        for name, kind in given.items():
            if name in seen:
                seen[name].append(kind)
        for name in dict.fromkeys(spread):
            if name not in given:
                seen[name].append(unknown)
    return [_argument(p, seen[p.name], index) for p in params]


def _argument(
    param: Param, kinds: Sequence[tuple[ArgKind, str | None]], index: CodeIndex
) -> EventArgument:
    kind = min((k for k, _ in kinds), key=_PRECEDENCE.index, default=ArgKind.JSON)
    if kind is ArgKind.JSON and param.annotation is None and not kinds:
        kind = ArgKind.UNKNOWN  # no call site and no annotation: nothing is known
    models = {m for k, m in kinds if k is ArgKind.ORM_INSTANCE and m}
    label = _model_label(next(iter(models)), index) if len(models) == 1 else None
    return EventArgument(param.name, kind, param.annotation, param.kind, label)


def _model_label(model: str, index: CodeIndex) -> str | None:
    """``app_label.ModelName``, what the shim's encoder writes as ``$model``."""
    fact: ModelFact | None = index.models.get(model)
    if fact is None:
        return None
    return f"{fact.app_label}.{fact.qualname.rpartition('.')[2]}"


def _called_outside(members: set[str], index: CodeIndex) -> list[str]:
    """Project functions outside the capability that its members call."""
    found = {
        c.callee
        for m in members
        for c in index.calls_from.get(m, ())
        if c.callee is not None and c.callee not in members and c.callee in index.kinds
    }
    return sorted(found)


def _pure(function: str, index: CodeIndex) -> bool:
    """The analyzer's rule for a helper that can be copied instead of called back: no ORM,
    no module state, no side effects, and no call into other project code."""
    if index.kinds.get(function) != "function":
        return False
    if (
        index.orm_by_function.get(function)
        or index.global_uses.get(function)
        or index.effects_by_function.get(function)
    ):
        return False
    return not any(c.callee in index.kinds for c in index.calls_from.get(function, ()))


def _settings_coupling(members: set[str], modules: Sequence[ModuleFacts]) -> list[str]:
    """Settings the moved code reads: the worker reads its own (an ``override_settings``
    in a monolith test, or a per-process tweak, does not reach it)."""
    names = sorted({r.name for m in modules for r in m.settings_reads if r.function in members})
    if not names:
        return []
    return [f"settings read by the handler in the worker's process: {', '.join(names)}"]


def _database_coupling(entries: Iterable[PlannedEntry], capability: Capability) -> list[str]:
    out = [
        f"{e.feature}: {a.name} travels as its primary key ({a.model or 'a model'}); the "
        "handler refetches it from the shared database"
        for e in entries
        for a in e.arguments
        if a.kind is ArgKind.ORM_INSTANCE
    ]
    if capability.tables_read or capability.tables_written:
        tables = sorted({*capability.tables_read, *capability.tables_written})
        out.append(f"shared database: the handlers use {', '.join(tables)}")
    return out
