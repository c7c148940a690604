"""Generating ``functions/<capability>/``: handlers, tasks, Celery wiring, schemas, tests.

Input is what the extraction plan knows (entry points, their argument kinds, what moves
and what is copied) plus the text of the monolith modules involved; output is a dict of
relative path -> file text, written by :mod:`strangler.codemods.apply` with the rest.

``handlers.py`` holds the code moved from the monolith *as written* (only its imports
are rewritten: relative imports become absolute, names defined in the monolith module
are imported from it, helpers listed in ``moves``/``copies`` are copied alongside; an
import that would clash with another name of handlers.py gets an alias, and the moved
code's references to it are renamed), and
one plain ``handle_<entry>(event)`` per entry point that decodes ``event["data"]`` into
the original arguments and calls the moved function. Keeping the moved function intact
rather than inlining its body means ``return``, recursion and early exits need no
rewriting at all.
"""

from __future__ import annotations

import functools
import json
import keyword
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import libcst as cst
from libcst.metadata import BuiltinAssignment

from analyzers.facts import ArgKind
from strangler.codemods._cst import routed_feature
from strangler.codemods._imports import ImportLine, member_key, render_imports
from strangler.codemods.retire import is_retired
from strangler.codemods.routed import STYLES, RoutedSpec, decorator_name, format_call
from strangler.codemods.schema import ParamSchema, data_schema, sample_value
from strangler.codemods.source import Definition, ModuleSource, ParsedModule, parse_source, walk

__all__ = [
    "DECODE_IMPORT",
    "HANDLER_IMPORT",
    "ArgSpec",
    "EntryPointSpec",
    "GeneratedPackage",
    "GenerationFailure",
    "HandlerPackageSpec",
    "generate_handler_package",
    "routed_spec",
    "task_name",
]

# The shim names generated code depends on, each imported from exactly one place.
DECODE_IMPORT = ImportLine("shims.encoding", "decode_arguments")
ENCODE_IMPORTS = (
    ImportLine("shims.encoding", "encode_value"),
    ImportLine("shims.encoding", "UnencodableArgument"),
)
HANDLER_IMPORT = ImportLine("shims.handlers", "handler")
BUILD_APP_IMPORT = ImportLine("shims.celery", "build_app")
JSON_ONLY_IMPORT = ImportLine("shims.celery", "ensure_json_only")
CAPTURE_IMPORT = ImportLine("shims.effects", "capture")
# Effects the generated tests can observe (``shims.effects.capture`` records them).
_CAPTURED = {"mail": "mail", "http": "HTTP requests"}
_TRAVELS = frozenset({ArgKind.JSON, ArgKind.ORM_INSTANCE, ArgKind.UNKNOWN})
_RESERVED = frozenset({"app", "handler", "handlers", "json", "Path", "Any"})
_SCHEMA_LOADER = '''
_SCHEMAS = Path(__file__).resolve().parent / "schemas"


def _schema(entry: str) -> dict[str, Any]:
    """The JSON Schema of one entry point's event data, checked on every delivery."""
    loaded: dict[str, Any] = json.loads((_SCHEMAS / f"{entry}.json").read_text("utf-8"))
    return loaded

'''
# Helpers every handlers.py defines next to the moved code.
_HANDLER_HELPERS = '''

def _event_data(event: Any) -> Any:
    """The arguments by name: ``event["data"]`` of a CloudEvent dict, or ``event.data``
    of the ``shims.events.Event`` the shim's handler base passes."""
    return event["data"] if isinstance(event, dict) else event.data


def _json_result(value: Any) -> Any:
    """The result as the shim compares and replies it: JSON, a model instance as its
    reference; a value that cannot travel becomes its repr, as on the monolith side."""
    try:
        return encode_value(value, "result")
    except UnencodableArgument:
        return repr(value)
'''


USER_SAMPLE = "self.model_ref(settings.AUTH_USER_MODEL)"
"""The generated test's sample of a ``request.user`` argument: a row of the user model
the monolith's settings name (the analysis reads no setting's value)."""


@dataclass(frozen=True, slots=True)
class ArgSpec:
    """What the analysis knows about one argument of an entry point."""

    name: str
    kind: ArgKind = ArgKind.JSON
    model: str | None = None  # "app_label.ModelName" for an ORM instance
    sample: str | None = None  # Python expression for the generated test's sample event


@dataclass(frozen=True, slots=True)
class EntryPointSpec:
    """A function of the monolith that becomes an event handler.

    ``name`` is a module-level function or ``Class.method`` of a module-level class.
    ``effects``: the side-effect kinds the analysis found in it or in what it calls
    (``mail``, ``http``, ...): the generated test asserts those it can capture.
    """

    module: str
    name: str
    feature: str
    style: str = "fire_and_forget"
    args: tuple[ArgSpec, ...] = ()
    effects: tuple[str, ...] = ()

    @property
    def function(self) -> str:
        """The function's own name (``name`` may be ``Class.method``)."""
        return self.name.rpartition(".")[2]


@dataclass(frozen=True, slots=True)
class HandlerPackageSpec:
    """Everything the generator needs; ``moves``/``copies`` are qualified names.

    ``celery_app`` is the monolith's app as ``package.module:app`` (or ``...module.app``);
    ``None`` builds a JSON-only app with ``shims.celery.build_app``. ``first_party`` adds
    top-level packages to sort as first party (the modules' own are always).
    """

    capability: str
    entry_points: tuple[EntryPointSpec, ...]
    modules: tuple[ModuleSource, ...]
    moves: tuple[str, ...] = ()
    copies: tuple[str, ...] = ()
    celery_app: str | None = None
    target: str = "functions"
    first_party: tuple[str, ...] = ()
    line_length: int = 88
    test_fixtures: tuple[str, ...] = ()

    @property
    def package(self) -> str:
        return f"{self.target}.{self.capability}"


@dataclass(frozen=True, slots=True)
class GeneratedPackage:
    """Relative path -> text. ``create_only``: shared files (the target folder's own
    ``__init__.py``) to write only when missing, never to overwrite."""

    files: Mapping[str, str]
    notes: tuple[str, ...] = ()
    create_only: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GenerationFailure:
    reasons: tuple[str, ...]


def task_name(spec: HandlerPackageSpec, entry: EntryPointSpec) -> str:
    return f"{spec.package}.tasks.{entry.function}"


def routed_spec(spec: HandlerPackageSpec, entry: EntryPointSpec, **options: Any) -> RoutedSpec:
    """The ``@routed(...)`` arguments matching the generated task (options: key_expr, ...)."""
    return RoutedSpec(entry.feature, task=task_name(spec, entry), style=entry.style, **options)


# --------------------------------------------------------------------------- collection


@dataclass(frozen=True, slots=True, order=True)
class _Origin:
    """What one name of handlers.py stands for: ``kind`` is ``helper`` (generated code),
    ``definition`` (a moved or copied one: ``module.member``) or ``import`` (``member``
    of ``module``; ``None`` for ``import module``). ``name`` is the name it wants."""

    kind: str
    module: str
    member: str | None
    name: str

    def __str__(self) -> str:
        if self.kind == "helper":
            return self.module
        if self.kind == "definition":
            return f"{self.module}.{self.member}"
        plain = self.member if self.member else self.module.split(".")[0]
        return f"{self.module}:{self.member or ''}:{'' if self.name == plain else self.name}"


_RANK = {"helper": 0, "definition": 1, "import": 2}


@dataclass
class _Copy:
    """A definition copied into handlers.py and, per name it uses, what that name is."""

    qualname: str
    why: str
    parsed: ParsedModule
    node: Definition
    uses: dict[str, _Origin] = field(default_factory=dict)


@dataclass
class _Collected:
    imports: set[ImportLine] = field(default_factory=set)
    # qualname -> (qualname, "moved" | "copied", code); ``order``: dependencies first
    definitions: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Mover:
    """Copies definitions into handlers.py, following the names they use (hand-written
    worklist: what to copy is the plan's decision, so no import-graph library helps).

    Names are settled at the end (:meth:`finish`): moved code from several modules may
    use one spelling for different things (every Django module's ``logger``). Generated
    names and moved definitions keep theirs; imports that would clash with them or with
    each other are imported under an alias named after their module
    (``from orders.checkout import logger as orders_checkout_logger``) and the moved
    code's references to them are renamed, scope-aware."""

    def __init__(self, spec: HandlerPackageSpec) -> None:
        self.spec = spec
        self.sources = {source.name: source for source in spec.modules}
        self.parsed: dict[str, ParsedModule] = {}
        # An entry point the moved code calls is the moved one too, not an import of the
        # monolith's (now routed) function: that would publish a second event per call.
        self.entries = {f"{e.module}.{e.name}" for e in spec.entry_points if "." not in e.name}
        self.movable = set(spec.moves) | set(spec.copies) | self.entries
        self.copies: dict[str, _Copy] = {}
        self.origins: dict[_Origin, set[ImportLine]] = {}  # an import's lines as written
        self.fixed: set[_Origin] = set()  # never aliased: generated names, definitions
        self.rivals: dict[_Origin, _Origin] = {}  # an aliased import -> one it clashed with
        self.out = _Collected()

    def module(self, name: str) -> ParsedModule | None:
        if name not in self.parsed:
            source = self.sources.get(name)
            if source is None:
                return None
            try:
                self.parsed[name] = parse_source(source)
            except cst.ParserSyntaxError as exc:
                self.out.problems.append(f"{name} does not parse: {exc.message}")
                return None
        return self.parsed[name]

    def copy(self, qualname: str, why: str) -> _Origin | None:
        module_name, _, name = qualname.rpartition(".")
        parsed = self.module(module_name)
        node = parsed.definitions.get(name) if parsed else None
        if parsed is None or node is None:
            self.out.problems.append(f"cannot copy {qualname}: its source was not given")
            return None
        return self.copy_node(qualname, name, why, parsed, node)

    def copy_node(
        self, qualname: str, local: str, why: str, parsed: ParsedModule, node: Definition
    ) -> _Origin:
        """Copy ``node`` (from ``parsed``) as ``local``, then resolve the names it uses."""
        origin = _Origin("definition", qualname.rpartition(".")[0], local, local)
        if qualname in self.copies:
            return origin
        own = local if parsed.definitions.get(local) is node else None  # not a method
        self.origins.setdefault(origin, set())
        self.fixed.add(origin)
        if parsed.future_annotations:  # annotations of the moved code stay unevaluated
            self.out.imports.add(ImportLine("__future__", "annotations"))
        copied = self.copies[qualname] = _Copy(qualname, why, parsed, node)
        routed = [d for d in getattr(node, "decorators", ()) if routed_feature(d) is not None]
        for used in parsed.free_names(node, exclude=routed):
            if used != own and (target := self.resolve(parsed, used, qualname)) is not None:
                copied.uses[used] = target
        self.out.order.append(qualname)
        return origin

    def resolve(self, parsed: ParsedModule, name: str, user: str) -> _Origin | None:
        """What ``name``, used by ``user`` in ``parsed``, is in handlers.py (None: a builtin
        or undefined)."""
        binding = parsed.binding(name)
        module = parsed.source.name
        if binding.how == "builtin":
            return None
        if binding.how == "undefined" and not parsed.star_import:
            self.out.notes.append(f"{user} uses {name!r}, which {module} does not define")
            return None
        if binding.how == "import" and not binding.conditional:
            target = f"{binding.module}.{binding.member}" if binding.member else binding.module
            if binding.member and target in self.movable:
                return self.copy(target, self.why(target))
            return self.import_name(
                ImportLine(binding.module, binding.member, binding.asname, binding.type_checking)
            )
        qualname = f"{module}.{name}"
        if binding.how == "definition" and qualname in self.movable and not binding.conditional:
            return self.copy(qualname, self.why(qualname))
        return self.import_name(ImportLine(module, name))

    def why(self, qualname: str) -> str:
        """How a definition reaches handlers.py: an entry point or a move, or a copy."""
        moved = qualname in self.spec.moves or qualname in self.entries
        return "moved" if moved else "copied"

    def import_name(self, line: ImportLine, *, fixed: bool = False) -> _Origin:
        """Record an import the moved (or, ``fixed``, the generated) code needs."""
        if line.name is None and line.asname is None:  # ``import a.b`` binds ``a``
            origin = _Origin("import", line.bound, None, line.bound)
        else:
            origin = _Origin("import", line.module, line.name, line.bound)
        self.origins.setdefault(origin, set()).add(line)
        if fixed:
            self.fixed.add(origin)
        return origin

    def helper(self, name: str, what: str) -> None:
        """A name the generated code defines."""
        origin = _Origin("helper", what, None, name)
        self.origins.setdefault(origin, set())
        self.fixed.add(origin)

    # ------------------------------------------------------------------- settling names

    def finish(self) -> None:
        """Give every origin its name in handlers.py, alias what would clash, and render
        the moved definitions (renamed where they use an alias)."""
        local = self._names()
        for origin, lines in self.origins.items():
            name = local.get(origin)
            for line in lines:
                if name is None or name == origin.name:
                    self.out.imports.add(line)
                else:
                    self.out.imports.add(replace(line, asname=name))
        for qualname in self.out.order:
            copied = self.copies[qualname]
            renames = {
                used: local[origin]
                for used, origin in copied.uses.items()
                if origin in local and local[origin] != used
            }
            for used, new in renames.items():
                if (reason := _rename_problem(copied, used, new)) is not None:
                    self._refuse_rename(copied, used, reason)
            node = self._renamed(copied, renames) if renames else copied.node
            code = _definition_code(copied.parsed, node)
            self.out.definitions[qualname] = (qualname, copied.why, code)

    def _refuse_rename(self, copied: _Copy, used: str, reason: str) -> None:
        origin = copied.uses[used]
        if origin in self.rivals:
            self._clash(origin.name, self.rivals[origin], origin, reason)
        else:  # a definition its module imports under another name
            module = copied.parsed.source.name
            self.out.problems.append(f"{origin} is imported as {used!r} in {module}: {reason}")

    def _names(self) -> dict[_Origin, str]:
        groups: dict[str, list[_Origin]] = {}
        for origin in self.origins:
            groups.setdefault(origin.name, []).append(origin)
        taken = set(groups) | _GENERATED_LOCALS
        for copied in self.copies.values():
            taken.update(n.value for n in walk(copied.node) if isinstance(n, cst.Name))
        local: dict[_Origin, str] = {}
        for name in sorted(groups):
            group = sorted(groups[name], key=lambda o: (_RANK[o.kind], str(o)))
            if len(group) == 1:
                local[group[0]] = name
                continue
            fixed = [origin for origin in group if origin in self.fixed]
            if len(fixed) > 1:
                self._clash(name, fixed[0], fixed[1])
                continue
            for origin in group:
                if origin in self.fixed:
                    local[origin] = name
                    continue
                self.rivals[origin] = next(o for o in group if o != origin)
                if (alias := self._alias(origin, taken)) is not None:
                    local[origin] = alias
        return local

    def _alias(self, origin: _Origin, taken: set[str]) -> str | None:
        """``<module>_<name>``, dots as ``_``; ``<module>_module`` for ``import module``;
        a constant's in capitals; a leading ``_`` kept in front; a number when taken."""
        lines = self.origins[origin]
        if origin.member is None and any(ln.asname is None and "." in ln.module for ln in lines):
            dotted = next(ln.module for ln in lines if "." in ln.module)
            reason = f"'import {dotted}' cannot be aliased (its uses are dotted)"
            self._clash(origin.name, self.rivals[origin], origin, reason)
            return None
        member = origin.member or "module"
        stem = member.lstrip("_")
        prefix = origin.module.replace(".", "_")
        if stem.isupper():
            prefix = prefix.upper()
        base = f"{'_' * (len(member) - len(stem))}{prefix}_{stem}"
        alias, number = base, 1
        while alias in taken or keyword.iskeyword(alias):
            number += 1
            alias = f"{base}_{number}"
        taken.add(alias)
        return alias

    def _renamed(self, copied: _Copy, renames: Mapping[str, str]) -> Definition:
        targets = _references(copied, renames)
        renamed = copied.node.visit(_Rename(targets))
        assert isinstance(renamed, cst.FunctionDef | cst.ClassDef | cst.SimpleStatementLine)
        return renamed

    def _clash(self, local: str, first: _Origin, second: _Origin, reason: str = "") -> None:
        self.out.problems.append(
            f"the name {local!r} would mean two things in handlers.py ({first} and {second})"
            + (f": {reason}" if reason else "")
        )


# Names the generated handler functions use locally (an alias never takes them).
_GENERATED_LOCALS = frozenset({"event", "arguments", "result", "value"})
# Builtins that look module-level names up by their text: a rename would not follow.
_BY_TEXT = frozenset({"globals", "vars", "eval", "exec"})


def _rename_problem(copied: _Copy, used: str, new: str) -> str | None:
    """Why the moved definition's references to its module-level ``used`` cannot become
    ``new`` safely, if they cannot."""
    where = copied.qualname
    parsed = copied.parsed
    references = list(_reference_nodes(copied, used))
    annotations = {id(node) for node, _ in references if isinstance(node, cst.SimpleString)}
    for node in walk(copied.node):
        if isinstance(node, cst.Global) and any(n.name.value == used for n in node.names):
            return f"{where} declares {used!r} global: cannot rename it"
        if isinstance(node, cst.Name) and node.value in _BY_TEXT:
            return f"{where} reads names by their text ({node.value}): cannot rename {used!r}"
        if (
            isinstance(node, cst.SimpleString)
            and id(node) not in annotations
            and _string_value(node) == used
        ):
            return f"{where} names {used!r} in a string: cannot rename it"
    for node, exact in references:
        if not exact:
            return f"{where} uses {used!r} in a way that cannot be renamed ({type(node).__name__})"
        scope = parsed.scopes.get(node)
        if scope is not None and any(
            assignment.scope is not parsed.global_scope
            and not isinstance(assignment, BuiltinAssignment)
            for assignment in scope[new]
        ):
            return f"{where} binds {new!r} itself: cannot rename {used!r} to it"
    return None


def _string_value(node: cst.SimpleString) -> str | None:
    value = node.evaluated_value
    return value if isinstance(value, str) else None


def _reference_nodes(copied: _Copy, used: str) -> Iterator[tuple[cst.CSTNode, bool]]:
    """The nodes referring to module-level ``used``, each with whether it can be renamed
    as it is (a name, or a string annotation that is exactly the name)."""
    for node, name in copied.parsed.global_accesses(copied.node):
        if name != used:
            continue
        if isinstance(node, cst.Name):
            yield node, node.value == used
        elif isinstance(node, cst.SimpleString):
            yield node, _string_value(node) == used
        else:
            yield node, False


def _references(copied: _Copy, renames: Mapping[str, str]) -> dict[int, str]:
    """Node id -> new name for every reference the renames cover."""
    return {
        id(node): renames[used]
        for used in renames
        for node, exact in _reference_nodes(copied, used)
        if exact
    }


class _Rename(cst.CSTTransformer):
    """Renames exactly the nodes given by id (references to one module-level binding),
    nothing else: locals, parameters, attributes and keywords of the same spelling stay."""

    def __init__(self, targets: Mapping[int, str]) -> None:
        super().__init__()
        self.targets = targets

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self.targets.get(id(original_node))
        return updated_node.with_changes(value=new) if new else updated_node

    def leave_SimpleString(
        self, original_node: cst.SimpleString, updated_node: cst.SimpleString
    ) -> cst.SimpleString:
        new = self.targets.get(id(original_node))
        if not new:
            return updated_node
        quote = original_node.quote
        return updated_node.with_changes(value=f"{original_node.prefix}{quote}{new}{quote}")


def _definition_code(parsed: ParsedModule, node: cst.CSTNode) -> str:
    """The definition's source, without ``@routed`` and without blank lines above it,
    its lines ending in ``\\n`` like the generated code around it (a CRLF module's
    code would otherwise make a file of mixed line endings)."""
    if isinstance(node, cst.FunctionDef):
        kept = [d for d in node.decorators if routed_feature(d) is None]
        node = node.with_changes(decorators=kept)
    if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.SimpleStatementLine):
        lines = list(node.leading_lines)
        while lines and lines[0].comment is None:
            lines.pop(0)
        node = node.with_changes(leading_lines=lines)
    code = parsed.code_for(node).replace("\r\n", "\n").replace("\r", "\n")  # ours: "\n" only
    return code.strip("\n") + "\n"


# --------------------------------------------------------------------------- entry points


@dataclass(frozen=True, slots=True)
class _Entry:
    spec: EntryPointSpec
    parsed: ParsedModule
    node: cst.FunctionDef
    params: tuple[ParamSchema, ...]


def _entry(mover: _Mover, entry: EntryPointSpec) -> _Entry | None:
    problems = mover.out.problems
    where = f"{entry.module}.{entry.name}"
    parsed = mover.module(entry.module)
    if parsed is None:
        problems.append(f"{where}: the source of {entry.module} was not given")
        return None
    node = _function_node(parsed, entry.name)
    if node is None:
        problems.append(f"{where}: no module-level function or method of that name")
        return None
    if "." in entry.name and (reason := _unmovable_method(node) or _self_stays(node, entry)):
        problems.append(f"{where}: {reason}")
        return None
    if is_retired(node, entry.feature):  # its handler would re-publish its own event
        problems.append(f"{where}: retired (its body is the dispatch_only call): no code to move")
        return None
    if node.asynchronous is not None:
        problems.append(f"{where}: async def entry points are not supported")
        return None
    if entry.style not in STYLES:
        problems.append(f"{where}: unknown dispatch style {entry.style!r}")
        return None
    if entry.function in _RESERVED:
        problems.append(f"{where}: the name {entry.function!r} is reserved in the tasks module")
        return None
    params = _params(node.params, {arg.name: arg for arg in entry.args}, where, problems)
    return _Entry(entry, parsed, node, params)


def _function_node(parsed: ParsedModule, name: str) -> cst.FunctionDef | None:
    """A module-level function, or a method ``Class.method`` of a module-level class."""
    owner, _, function = name.rpartition(".")
    if not owner:
        node = parsed.definitions.get(function)
        return node if isinstance(node, cst.FunctionDef) else None
    if "." in owner:
        return None
    cls = parsed.definitions.get(owner)
    if not isinstance(cls, cst.ClassDef) or not isinstance(cls.body, cst.IndentedBlock):
        return None
    for statement in cls.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == function:
            return statement
    return None


class _ClassBound(cst.CSTVisitor):
    """Finds what only works inside its class: ``super()``, ``__class__``, ``self.__x``."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in {"super", "__class__"}:
            self.found.append(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        if attr.startswith("__") and not attr.endswith("__"):
            self.found.append(f".{attr}")


def _unmovable_method(node: cst.FunctionDef) -> str | None:
    """Why a method's body cannot run as a plain function taking ``self``, if it cannot."""
    names = {decorator_name(d).rpartition(".")[2] for d in node.decorators}
    kinds = names & {"staticmethod", "classmethod", "property", "cached_property", "setter"}
    if kinds:
        return f"a {sorted(kinds)[0]} is not moved as a handler"
    visitor = _ClassBound()
    node.body.visit(visitor)
    if visitor.found:
        return f"uses {visitor.found[0]}, which only works inside its class"
    return None


def _self_stays(node: cst.FunctionDef, entry: EntryPointSpec) -> str | None:
    """An instance method moves only when its ``self`` travels: a row of a known model,
    refetched by the handler. Anything else would reach the moved body as ``None``."""
    first = [*node.params.posonly_params, *node.params.params][:1]
    args = {arg.name: arg for arg in entry.args}
    arg = args.get(first[0].name.value) if first else None
    if arg is not None and arg.kind is ArgKind.ORM_INSTANCE and arg.model:
        return None
    return (
        "an instance method whose self is not a row of a known model cannot travel in "
        "an event: extract a module-level function it calls"
    )


def _params(
    params: cst.Parameters, args: Mapping[str, ArgSpec], where: str, problems: list[str]
) -> tuple[ParamSchema, ...]:
    out: list[ParamSchema] = []
    groups: list[tuple[str, Sequence[cst.Param]]] = [
        ("positional_only", params.posonly_params),
        ("positional", params.params),
    ]
    if isinstance(params.star_arg, cst.Param):
        groups.append(("var_positional", [params.star_arg]))
    groups.append(("keyword_only", params.kwonly_params))
    if params.star_kwarg is not None:
        groups.append(("var_keyword", [params.star_kwarg]))
    empty = cst.Module([])
    for kind, group in groups:
        for param in group:
            name = param.name.value
            arg = args.get(name, ArgSpec(name))
            if arg.kind not in _TRAVELS:
                problems.append(
                    f"{where}: argument {name!r} is a {arg.kind.value}: cannot travel in an event"
                )
            annotation = (
                empty.code_for_node(param.annotation.annotation) if param.annotation else None
            )
            out.append(ParamSchema(name, annotation, kind, arg.kind, arg.model))
    return tuple(out)


def _call(entry: _Entry, width: int) -> str:
    """How the handler calls the moved function with the decoded ``arguments``."""
    kinds = {param.kind for param in entry.params}
    name = entry.spec.function
    if not kinds & {"positional_only", "var_positional"}:
        return f"{name}(**arguments)"
    parts: list[str] = []
    for param in entry.params:
        value = f"arguments[{json.dumps(param.name)}]"
        if param.kind == "var_positional":
            parts.append(f"*{value}")
        elif param.kind == "var_keyword":
            parts.append(f"**{value}")
        elif param.kind in {"positional_only", "positional"}:
            parts.append(value)
        else:
            parts.append(f"{param.name}={value}")
    text = format_call(name, parts, "    result = ", "    ", width)
    return text.replace("\n", "\n    ")  # continuation lines: inside the handler's body


# --------------------------------------------------------------------------- rendering


def generate_handler_package(spec: HandlerPackageSpec) -> GeneratedPackage | GenerationFailure:
    """Render the package, or say why it cannot be generated (nothing partial)."""
    mover = _Mover(spec)
    entries = [_entry(mover, entry) for entry in spec.entry_points]
    if not spec.entry_points:
        mover.out.problems.append(f"{spec.capability}: no entry point to generate a handler for")
    if spec.celery_app is not None and not _dotted(spec.celery_app.replace(":", ".", 1)):
        mover.out.problems.append(f"celery_app {spec.celery_app!r} is not module:attr")
    for entry in entries:
        if entry is not None:
            qualname = f"{entry.spec.module}.{entry.spec.name}"
            mover.copy_node(qualname, entry.spec.function, "moved", entry.parsed, entry.node)
            for line in (DECODE_IMPORT, *ENCODE_IMPORTS, ImportLine("typing", "Any")):
                mover.import_name(line, fixed=True)
            for helper in ("_event_data", "_json_result"):
                mover.helper(helper, "generated helper")
            mover.helper(f"handle_{entry.spec.function}", "generated handler")
    if not mover.out.problems:
        mover.finish()
    if mover.out.problems:
        return GenerationFailure(tuple(dict.fromkeys(mover.out.problems)))
    ready = [entry for entry in entries if entry is not None]
    first_party = _first_party(spec)
    base = spec.package.replace(".", "/")
    files = {
        f"{base}/__init__.py": _init_py(spec),
        f"{base}/handlers.py": _handlers_py(spec, ready, mover.out, first_party),
        f"{base}/tasks.py": _tasks_py(spec, ready, first_party),
        f"{base}/celery.py": _celery_py(spec, first_party),
        f"{base}/tests/__init__.py": _doc(f"Tests of ``{spec.capability}`` (generated)."),
        f"{base}/tests/test_handlers.py": _tests_py(spec, ready, first_party),
    }
    for entry in ready:
        files[f"{base}/schemas/{entry.spec.function}.json"] = _schema_json(entry)
    shared = _target_inits(spec)
    files.update(shared)
    return GeneratedPackage(files, tuple(dict.fromkeys(mover.out.notes)), tuple(shared))


def _dotted(name: str) -> bool:
    """Identifiers joined by dots: safe to write into an import line."""
    parts = name.split(".")
    return len(parts) > 1 and all(p.isidentifier() and not keyword.iskeyword(p) for p in parts)


def _target_inits(spec: HandlerPackageSpec) -> dict[str, str]:
    """``__init__.py`` of the target folder (and its parents): a regular package."""
    parts = spec.target.split(".")
    return {
        "/".join([*parts[: depth + 1], "__init__.py"]): _doc(
            "Capabilities extracted from the monolith by strangler, one package each."
        )
        for depth in range(len(parts))
    }


def _first_party(spec: HandlerPackageSpec) -> set[str]:
    names = {source.name.split(".")[0] for source in spec.modules}
    return names | set(spec.first_party) | {spec.target.split(".")[0]}


def _doc(text: str) -> str:
    return f'"""{text}"""\n'


def _init_py(spec: HandlerPackageSpec) -> str:
    return (
        _doc(
            f"The ``{spec.capability}`` capability (extracted by strangler).\n\n"
            "``handlers`` holds the stateless event handlers, ``tasks`` binds them to Celery.\n"
        )
        + "\n__all__: list[str] = []\n"
    )


def _handlers_py(
    spec: HandlerPackageSpec, entries: Sequence[_Entry], out: _Collected, first_party: set[str]
) -> str:
    imports = set(out.imports)
    header = _doc(
        f"Event handlers of ``{spec.capability}`` (generated by strangler).\n\n"
        "Each ``handle_<entry>(event)`` is plain and stateless: it decodes the event's\n"
        "``data`` into the entry point's arguments and runs the code moved from the monolith.\n"
    )
    blocks = []
    for key in out.order:
        qualname, how, code = out.definitions[key]
        blocks.append(f"# {how} from {qualname.rpartition('.')[0]}\n{code}")
    blocks.append(_HANDLER_HELPERS.strip("\n") + "\n")
    blocks.extend(_handler_function(entry, spec.line_length) for entry in entries)
    body = "\n\n".join(blocks)
    return f"{header}\n{render_imports(imports, first_party, spec.line_length)}\n\n{body}"


def _handler_function(entry: _Entry, width: int) -> str:
    name, feature = entry.spec.function, entry.spec.feature
    return (
        f"def handle_{name}(event: Any) -> Any:\n"
        f'    """Handle one ``{feature}`` event.\n\n'
        f"    Decodes the arguments, runs ``{name}`` as moved from the monolith and\n"
        f"    returns its result as JSON ({entry.spec.style}).\n"
        '    """\n'
        "    arguments = decode_arguments(_event_data(event))\n"
        f"    result = {_call(entry, width)}\n"
        "    return _json_result(result)\n"
    )


def _tasks_py(spec: HandlerPackageSpec, entries: Sequence[_Entry], first_party: set[str]) -> str:
    imports = {
        HANDLER_IMPORT,
        ImportLine("json"),
        ImportLine("pathlib", "Path"),
        ImportLine("typing", "Any"),
        ImportLine(spec.package, "handlers"),
        ImportLine(f"{spec.package}.celery", "app"),
    }
    header = _doc(
        f"Celery tasks of ``{spec.capability}`` (generated by strangler).\n\n"
        "Each task binds a handler through the shim's handler base: idempotency by event\n"
        "id, late acks, retries with backoff and jitter, dead letters.\n"
    )
    tasks = "".join(
        f"\n{entry.spec.function} = handler(\n"
        f"    app,\n"
        f"    {json.dumps(task_name(spec, entry.spec))},\n"
        f"    schema=_schema({json.dumps(entry.spec.function)}),\n"
        f")(handlers.handle_{entry.spec.function})\n"
        for entry in entries
    )
    names = ", ".join(json.dumps(name) for name in sorted(_names(entries), key=member_key))
    return (
        f"{header}\n{render_imports(imports, first_party, spec.line_length)}{_SCHEMA_LOADER}"
        f"{tasks}\n__all__ = [{names}]\n"
    )


def _names(entries: Sequence[_Entry]) -> list[str]:
    return [entry.spec.function for entry in entries]


def _celery_py(spec: HandlerPackageSpec, first_party: set[str]) -> str:
    if spec.celery_app:
        module, _, attr = spec.celery_app.replace(":", ".").rpartition(".")
        imports = {JSON_ONLY_IMPORT, ImportLine(module, attr, "app" if attr != "app" else None)}
        paragraphs = [
            f"Celery app of ``{spec.package}`` (generated by strangler).",
            "The monolith's own app, whose worker finds the tasks module by autodiscovery: "
            f"``{module}.{attr}``. Start a worker with "
            f"``celery -A {spec.package}.celery worker``.",
        ]
        discover = format_call(
            "app.autodiscover_tasks",
            [f"[{json.dumps(spec.package)}]"],
            "",
            "    ",
            spec.line_length,
        )
        code = f"ensure_json_only(app)\n{discover}\n"
    else:
        imports = {BUILD_APP_IMPORT}
        paragraphs = [
            f"Celery app of ``{spec.package}`` (generated by strangler).",
            "A JSON-only app built from the shim's settings. Start a worker with "
            f"``celery -A {spec.package}.celery worker``.",
        ]
        arguments = [
            f"name={json.dumps(spec.package)}",
            f"include=[{json.dumps(spec.package + '.tasks')}]",
        ]
        code = format_call("app = build_app", arguments, "", "    ", spec.line_length) + "\n"
    doc = _wrapped(paragraphs, spec.line_length)
    return (
        f"{_doc(doc)}\n{render_imports(imports, first_party, spec.line_length)}\n{code}"
        '\n__all__ = ["app"]\n'
    )


def _wrapped(paragraphs: Sequence[str], width: int) -> str:
    """Docstring paragraphs filled to ``width`` (less the opening quotes). A dotted name
    longer than a line stays whole on a line of its own, which ruff's E501 accepts
    (a single word): package names grow with the capability's and the target's."""
    fill = functools.partial(
        textwrap.fill, width=width - 3, break_long_words=False, break_on_hyphens=False
    )
    return "\n\n".join(fill(paragraph) for paragraph in paragraphs) + "\n"


def _schema_json(entry: _Entry) -> str:
    schema = data_schema(entry.spec.feature, f"{entry.spec.module}.{entry.spec.name}", entry.params)
    return json.dumps(schema, indent=2) + "\n"


def _sample(entry: _Entry, param: ParamSchema) -> str:
    given = {arg.name: arg.sample for arg in entry.spec.args if arg.sample}
    if param.name in given:
        return given[param.name] or "None"
    if param.arg_kind is ArgKind.ORM_INSTANCE:  # "": the model is unknown, the test says so
        return f"self.model_ref({json.dumps(param.model or '')})"
    schema = data_schema("", "", [param])["properties"][param.name]
    return repr(sample_value(schema))


def _unknown_note(entry: _Entry, param: ParamSchema) -> str:
    """A comment on a sample nothing told us: the analysis could not say what the
    argument is and no call site passes a literal, so ``None`` stands in. When the test
    then fails deep in the moved code (``int(None)``), this line says why."""
    given = any(arg.name == param.name and arg.sample for arg in entry.spec.args)
    if given or param.arg_kind is not ArgKind.UNKNOWN:
        return ""
    return "            # unknown kind, no literal at any call site: write a real sample\n"


def _tests_py(spec: HandlerPackageSpec, entries: Sequence[_Entry], first_party: set[str]) -> str:
    imports = {
        ImportLine("json"),
        ImportLine("typing", "Any"),
        ImportLine("django.apps", "apps"),
        ImportLine("django.test", "TestCase"),
        ImportLine(spec.package, "handlers"),
    }
    if any(entry.spec.style != "request_reply" for entry in entries):
        imports.add(CAPTURE_IMPORT)
    tests = "".join(_test_method(entry, spec.line_length) for entry in entries)
    if USER_SAMPLE in tests:
        imports.add(ImportLine("django.conf", "settings"))
    names = [json.dumps(name) for name in spec.test_fixtures]
    fixtures = f"{names[0]}," if len(names) == 1 else ", ".join(names)
    return (
        _doc(
            f"Tests of the ``{spec.capability}`` handlers (generated by strangler).\n\n"
            "Each feeds a sample event through one handler and checks what it can: the\n"
            "result travels as JSON; a fire-and-forget handler runs under the shim's effect\n"
            "capture (nothing is sent, database writes are rolled back) and must record the\n"
            "mail or HTTP calls the analysis found in it. Model arguments are rows of the\n"
            "test database (the monolith's fixtures): with none, the test fails and says so.\n"
        )
        + f"\n{render_imports(imports, first_party, spec.line_length)}\n\n"
        + "class HandlerTests(TestCase):\n"
        + f"    fixtures = ({fixtures})\n\n"
        + "    def model_ref(self, label: str) -> dict[str, Any]:\n"
        + '        """The first row of ``label``, referenced the way the shim sends it."""\n'
        + "        if not label:\n"
        + "            self.fail(\n"
        + '                "the analysis could not tell which model this argument is a row of: "\n'
        + '                \'write its sample as {"$model": "app_label.Model", "pk": ...}\'\n'
        + "            )\n"
        + "        model = apps.get_model(label)\n"
        + '        instance = model._default_manager.order_by("pk").first()\n'
        + "        if instance is None:\n"
        + "            self.fail(\n"
        + '                f"no {label} row in the test database for a sample event: add one "\n'
        + '                "to a fixture (<app>/fixtures/*.json) listed in `fixtures`"\n'
        + "            )\n"
        + '        return {"$model": label, "pk": instance.pk}\n\n'
        + "    def event(self, feature: str, data: dict[str, Any]) -> dict[str, Any]:\n"
        + "        return {\n"
        + '            "specversion": "1.0",\n'
        + '            "id": f"sample-{feature}",\n'
        + '            "source": "strangler/generated-tests",\n'
        + '            "type": feature,\n'
        + '            "datacontenttype": "application/json",\n'
        + '            "data": data,\n'
        + "        }\n"
        + tests
    )


def _event_line(feature: str, width: int) -> str:
    call = format_call("event = self.event", [json.dumps(feature), "data"], " " * 8, "    ", width)
    return call.replace("\n", "\n        ")


def _test_method(entry: _Entry, width: int) -> str:
    name = entry.spec.function
    data = "".join(
        f"{_unknown_note(entry, param)}            {json.dumps(param.name)}: "
        f"{_sample(entry, param)},\n"
        for param in entry.params
    )
    data_text = f"{{\n{data}        }}" if data else "{}"
    head = (
        f"\n    def test_{name}(self) -> None:\n"
        f"        data: dict[str, Any] = {data_text}\n"
        f"        {_event_line(entry.spec.feature, width)}\n"
    )
    call = f"handlers.handle_{name}(event)"
    if entry.spec.style == "request_reply":
        return (
            f"{head}        result = {call}\n"
            "        json.dumps(result)  # a request/reply result travels back as JSON\n"
        )
    checks = "".join(_effect_check(kind) for kind in entry.spec.effects if kind in _CAPTURED)
    bound = " as effects" if checks else ""
    return (
        f"{head}        with capture(){bound}:  # records mail/HTTP, rolls back writes\n"
        f"            result = {call}\n"
        "        json.dumps(result)  # it completed; its result is what the shim compares\n"
        f"{checks}"
    )


def _effect_check(kind: str) -> str:
    """Assert one captured effect kind the analysis found reachable from the entry point."""
    message = f"the analysis says this entry point sends {_CAPTURED[kind]}; none was captured"
    arguments = f"            effects.{kind},\n            {json.dumps(message)},\n"
    return f"        self.assertTrue(\n{arguments}        )\n"
