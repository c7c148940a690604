"""ModuleFacts <-> JSON-ready lists: the cache format (and the worker-to-parent format).

Why hand-written rather than ``dataclasses.asdict`` and a generic loader: a warm run
must cost under a third of ``ast.parse`` (issue 3), and decoding is most of it. Facts
are encoded positionally (lists, not dicts), the module's path is stored once rather
than in every :class:`~analyzers.facts.Location`, and each type has one straight-line
decoder. JSON only: a cache file is data, never code (no pickle).

Bump :data:`SCHEMA_VERSION` whenever a fact type or this layout changes: the cache key
includes it, so old entries are simply not found.
"""

from __future__ import annotations

from typing import Any

from analyzers._make import maker
from analyzers.facts import (
    ArgKind,
    Argument,
    AtomicRegion,
    BindingKind,
    Call,
    CeleryTask,
    Definition,
    DefKind,
    Diagnostic,
    EffectKind,
    GlobalState,
    GlobalUse,
    ImportFact,
    Location,
    ManagerFact,
    ModelBinding,
    ModelFact,
    ModuleFacts,
    OrmAccess,
    OrmOp,
    Param,
    RawSql,
    Relation,
    SettingsRead,
    SideEffect,
    SignalHandler,
    UrlRoute,
    Variable,
)

__all__ = ["SCHEMA_VERSION", "decode", "encode"]

SCHEMA_VERSION = 10

_ARG_KINDS = {k.value: k for k in ArgKind}
_DEF_KINDS = {k.value: k for k in DefKind}
_EFFECTS = {k.value: k for k in EffectKind}
_OPS = {k.value: k for k in OrmOp}
_BINDINGS = {k.value: k for k in BindingKind}
# positional constructors for the types decoded by the tens of thousands (see _make)
_Location = maker(Location)
_Call = maker(Call)
_Argument = maker(Argument)
_Param = maker(Param)
_Definition = maker(Definition)
_ImportFact = maker(ImportFact)
_Variable = maker(Variable)

Encoded = list[Any]
"""Enum members are put in as they are, not as ``.value``: they are ``StrEnum``s, so
they *are* their value for any JSON encoder, and ``.value`` (a Python-level enum
property) was a fifth of encoding a module."""


def encode(facts: ModuleFacts | Diagnostic, *, compact: bool = False) -> Encoded:
    """A JSON-serialisable list; ``decode(json.loads(json.dumps(encode(f)))) == f``.

    ``compact``: call strings, arguments and parameters go to per-module tables that
    calls and definitions refer to by index. Encoding costs a little more, decoding
    builds each distinct Argument/Param once (half of them repeat) and shares strings:
    what the warm path loads (the linked snapshot) is written this way.
    """
    if isinstance(facts, Diagnostic):
        return ["D", facts.path, facts.reason, facts.line]
    f = facts
    tables = _Tables(f.calls, f.definitions) if compact else None
    encoded: Encoded = [
        "C" if compact else "M",
        f.module,
        f.path,
        f.lines,
        f.is_test,
        f.is_package,
        [_definition(d, tables) for d in f.definitions],
        [[i.target, i.bound_as, i.loc.line, i.loc.col, i.conditional] for i in f.imports],
        [_call(c) for c in f.calls] if tables is None else tables.calls(f.calls),
        [_model(m) for m in f.models],
        [
            [o.function, o.model, o.op, o.method, o.loc.line, o.loc.col, o.select_for_update]
            + ([o.table] if o.table is not None else [])
            for o in f.orm
        ],
        [[u.pattern, u.view, u.name, u.loc.line, u.loc.col, u.include, u.router] for u in f.urls],
        [[s.receiver, s.signal, s.sender, s.loc.line, s.loc.col] for s in f.signals],
        [[t.qualname, t.loc.line, t.loc.col, t.name] for t in f.tasks],
        [[a.function, a.loc.line, a.loc.col, a.end_line, a.kind] for a in f.atomics],
        [[e.function, e.kind, e.callee, e.loc.line, e.loc.col] for e in f.effects],
        [[g.qualname, g.loc.line, g.loc.col, g.kind] for g in f.globals],
        [[u.function, u.name, u.loc.line, u.loc.col, u.writes] for u in f.global_uses],
        [[s.function, s.name, s.loc.line, s.loc.col] for s in f.settings_reads],
        [[v.qualname, v.loc.line, v.loc.col, v.type_ref] for v in f.variables],
        [_model(m) for m in f.model_candidates],
        [[r.function, r.callee, r.method, r.loc.line, r.loc.col, r.sql] for r in f.raw_sql],
        [
            [b.owner, b.kind, b.model, b.loc.line, b.loc.col, b.callee, b.attr]
            for b in f.model_bindings
        ],
        sorted(f.value_names),
    ]
    if tables is not None:
        encoded += [tables.strings, tables.args, tables.params]
    return encoded


class _Tables:
    """Interning tables of one compact-encoded module (index 0 of strings is None).

    Built in bulk (``dict.fromkeys`` over all values, then one index lookup each): a
    method call per string cost twice as much on Django's 36k call sites.
    """

    def __init__(self, calls: tuple[Call, ...], definitions: tuple[Definition, ...]) -> None:
        values: list[str | None] = [None]
        values += [c.caller for c in calls]
        values += [c.callee for c in calls]
        values += [c.text for c in calls]
        strings = dict.fromkeys(values)
        self.strings: list[str | None] = list(strings)
        self._strings = {value: i for i, value in enumerate(self.strings)}
        # tuple keys, not the dataclasses: a dataclass __hash__ is Python code
        arg_keys = dict.fromkeys(
            [(a.text, a.kind, a.keyword, a.model, a.ref) for c in calls for a in c.args]
        )
        self.args: list[Encoded] = [[t, k, kw, m, r] for t, k, kw, m, r in arg_keys]
        self._args = {key: i for i, key in enumerate(arg_keys)}
        param_keys = dict.fromkeys(
            [
                (p.name, p.annotation, p.kind, p.has_default, p.default_json, p.mutated)
                for d in definitions
                for p in d.params
            ]
        )
        self.params: list[Encoded] = [list(key) for key in param_keys]
        self._params = {key: i for i, key in enumerate(param_keys)}

    def param(self, p: Param) -> int:
        return self._params[
            (p.name, p.annotation, p.kind, p.has_default, p.default_json, p.mutated)
        ]

    def calls(self, calls: tuple[Call, ...]) -> list[Encoded]:
        s, a = self._strings, self._args
        return [
            [
                s[c.caller],
                s[c.callee],
                s[c.text],
                c.loc.line,
                c.loc.col,
                [a[(x.text, x.kind, x.keyword, x.model, x.ref)] for x in c.args] if c.args else [],
                c.result_used,
                c.in_atomic,
            ]
            for c in calls
        ]


def _definition(d: Definition, tables: _Tables | None = None) -> Encoded:
    return [
        d.qualname,
        d.kind,
        d.loc.line,
        d.loc.col,
        d.end_line,
        d.parent,
        [[p.name, p.annotation, p.kind, p.has_default, p.default_json, p.mutated] for p in d.params]
        if tables is None
        else [tables.param(p) for p in d.params],
        list(d.decorators),
        list(d.bases),
        d.is_async,
        d.docstring,
        d.returns,
    ]


def _call(c: Call) -> Encoded:
    args = [[a.text, a.kind, a.keyword, a.model, a.ref] for a in c.args]
    return [c.caller, c.callee, c.text, c.loc.line, c.loc.col, args, c.result_used, c.in_atomic]


def _model(m: ModelFact) -> Encoded:
    return [
        m.qualname,
        m.app_label,
        m.table,
        m.loc.line,
        m.loc.col,
        m.abstract,
        list(m.relations),
        [[r.name, r.target, r.kind, r.related_name] for r in m.relation_fields],
        m.proxy,
        [[g.name, g.manager, g.queryset] for g in m.managers],
        [list(f) for f in m.value_fields],
    ]


def decode(data: Encoded) -> ModuleFacts | Diagnostic:
    """Inverse of :func:`encode`. Raises (ValueError, TypeError, IndexError, KeyError)
    on malformed data: the cache treats that as a miss."""
    tag = data[0]
    if tag == "D":
        return Diagnostic(str(data[1]), str(data[2]), data[3])
    if tag == "M":
        path = data[2]
        definitions = tuple([_decode_definition(d, path) for d in data[6]])
        return _assemble(data, definitions, _decode_calls(data[8], path))
    if tag == "C":
        return _decode_compact(data)
    raise ValueError("not an encoded ModuleFacts")


def _decode_calls(calls: Encoded, path: str) -> tuple[Call, ...]:
    L = _Location  # local aliases: the hot loop of a warm run
    A = _Argument
    kinds = _ARG_KINDS
    return tuple(
        [
            _Call(
                caller,
                callee,
                text,
                L(path, ln, co),
                tuple([A(a[0], kinds[a[1]], a[2], a[3], a[4]) for a in args]) if args else (),
                used,
                atomic,
            )
            for caller, callee, text, ln, co, args, used, atomic in calls
        ]
    )


def _decode_compact(data: Encoded) -> ModuleFacts:
    path = data[2]
    strings, arg_rows, param_rows = data[24], data[25], data[26]
    kinds = _ARG_KINDS
    args = [_Argument(t, kinds[k], kw, m, r) for t, k, kw, m, r in arg_rows]
    params = [_Param(n, a, k, h, j, u) for n, a, k, h, j, u in param_rows]
    L = _Location
    S = strings
    calls = tuple(
        [
            _Call(
                S[caller],
                S[callee],
                S[text],
                L(path, ln, co),
                tuple([args[i] for i in indices]) if indices else (),
                used,
                atomic,
            )
            for caller, callee, text, ln, co, indices, used, atomic in data[8]
        ]
    )
    kinds_of_def = _DEF_KINDS
    definitions = tuple(
        [
            _Definition(
                qual,
                kinds_of_def[kind],
                L(path, line, col),
                end,
                parent,
                tuple([params[i] for i in ps]) if ps else (),
                tuple(decorators) if decorators else (),
                tuple(bases) if bases else (),
                is_async,
                doc,
                returns,
            )
            for (
                qual,
                kind,
                line,
                col,
                end,
                parent,
                ps,
                decorators,
                bases,
                is_async,
                doc,
                returns,
            ) in data[6]
        ]
    )
    return _assemble(data, definitions, calls)


def _assemble(
    data: Encoded, definitions: tuple[Definition, ...], calls: tuple[Call, ...]
) -> ModuleFacts:
    (
        _,
        module,
        path,
        lines,
        is_test,
        is_package,
        _,
        imports,
        _,
        models,
        orm,
        urls,
        signals,
        tasks,
        atomics,
        effects,
        globals_,
        uses,
        settings,
        variables,
        candidates,
        raw_sql,
        bindings,
        value_names,
    ) = data[:24]
    L = _Location
    return ModuleFacts(
        module=module,
        path=path,
        lines=lines,
        is_test=is_test,
        is_package=is_package,
        definitions=definitions,
        imports=tuple([_ImportFact(t, b, L(path, ln, co), c) for t, b, ln, co, c in imports])
        if imports
        else (),
        calls=calls,
        models=tuple([_decode_model(m, path) for m in models]) if models else (),
        orm=tuple([_decode_orm(o, path) for o in orm]) if orm else (),
        urls=tuple([UrlRoute(p, v, n, L(path, ln, co), i, r) for p, v, n, ln, co, i, r in urls])
        if urls
        else (),
        signals=tuple([SignalHandler(r, s, snd, L(path, ln, co)) for r, s, snd, ln, co in signals])
        if signals
        else (),
        tasks=tuple([CeleryTask(q, L(path, ln, co), n) for q, ln, co, n in tasks]) if tasks else (),
        atomics=tuple([AtomicRegion(f, L(path, ln, co), end, k) for f, ln, co, end, k in atomics])
        if atomics
        else (),
        effects=tuple(
            [SideEffect(f, _EFFECTS[k], c, L(path, ln, co)) for f, k, c, ln, co in effects]
        )
        if effects
        else (),
        globals=tuple([GlobalState(q, L(path, ln, co), k) for q, ln, co, k in globals_])
        if globals_
        else (),
        global_uses=tuple([GlobalUse(f, n, L(path, ln, co), w) for f, n, ln, co, w in uses])
        if uses
        else (),
        settings_reads=tuple([SettingsRead(f, n, L(path, ln, co)) for f, n, ln, co in settings])
        if settings
        else (),
        variables=tuple([_Variable(q, L(path, ln, co), t) for q, ln, co, t in variables])
        if variables
        else (),
        model_candidates=tuple([_decode_model(m, path) for m in candidates]) if candidates else (),
        raw_sql=tuple(
            [RawSql(f, c, meth, L(path, ln, co), sql) for f, c, meth, ln, co, sql in raw_sql]
        )
        if raw_sql
        else (),
        model_bindings=tuple(
            [
                ModelBinding(o, _BINDINGS[k], m, L(path, ln, co), c, a)
                for o, k, m, ln, co, c, a in bindings
            ]
        )
        if bindings
        else (),
        value_names=frozenset(value_names) if value_names else frozenset(),
    )


def _decode_orm(o: Encoded, path: str) -> OrmAccess:
    """The table is written only for raw SQL (an 8th item): ORM rows stay 7 long."""
    f, m, op, meth, ln, co, sfu, *table = o
    return OrmAccess(f, m, _OPS[op], meth, _Location(path, ln, co), sfu, *table)


def _decode_definition(d: Encoded, path: str) -> Definition:
    qual, kind, line, col, end, parent, params, decorators, bases, is_async, doc, returns = d
    return _Definition(
        qual,
        _DEF_KINDS[kind],
        _Location(path, line, col),
        end,
        parent,
        tuple([_Param(n, a, k, h, j, u) for n, a, k, h, j, u in params]) if params else (),
        tuple(decorators),
        tuple(bases),
        is_async,
        doc,
        returns,
    )


def _decode_model(m: Encoded, path: str) -> ModelFact:
    qual, label, table, line, col, abstract, relations, fields, proxy, managers, values = m
    return ModelFact(
        qual,
        label,
        table,
        Location(path, line, col),
        abstract,
        tuple(relations),
        tuple([Relation(n, t, k, r) for n, t, k, r in fields]),
        proxy,
        tuple([ManagerFact(n, g, q) for n, g, q in managers]),
        tuple([(n, f) for n, f in values]),
    )
