"""Reading the monolith's modules for the generator: definitions, bindings, free names.

Scope analysis (libcst's ``ScopeProvider``) answers which module-level names a function
uses and how each is bound (an import, a definition, an assignment; unconditionally or
under ``if``/``try``), which is what moving the function elsewhere needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import (
    Assignment,
    BuiltinAssignment,
    GlobalScope,
    ImportAssignment,
    MetadataWrapper,
    Scope,
    ScopeProvider,
)

__all__ = [
    "Binding",
    "Definition",
    "ModuleSource",
    "ParsedModule",
    "absolute_module",
    "parse_source",
]

Definition = cst.FunctionDef | cst.ClassDef | cst.SimpleStatementLine


@dataclass(frozen=True, slots=True)
class ModuleSource:
    """A monolith module's dotted name and text; ``is_package`` for an ``__init__.py``."""

    name: str
    code: str
    is_package: bool = False


@dataclass(frozen=True, slots=True)
class Binding:
    """How a module-level name is bound.

    ``how`` is ``import`` (``module``/``member``/``asname`` give the absolute import),
    ``definition`` (a def/class/assignment in the module itself), ``builtin`` or
    ``undefined``. ``conditional``: bound under ``if``/``try`` (or several times), so
    the only faithful way to get it elsewhere is to import it from the module.
    """

    how: str
    module: str = ""
    member: str | None = None
    asname: str | None = None
    conditional: bool = False
    type_checking: bool = False


def absolute_module(current: str, is_package: bool, level: int, module: str | None) -> str:
    """Resolve ``from <'.' * level><module> import ...`` written in module ``current``."""
    if level == 0:
        return module or ""
    parts = current.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, module] if module else parts)


@dataclass
class ParsedModule:
    """One module, parsed once, with its scopes and top-level definitions indexed."""

    source: ModuleSource
    module: cst.Module
    scopes: dict[cst.CSTNode, Scope]
    global_scope: GlobalScope
    definitions: dict[str, Definition] = field(default_factory=dict)
    top_level: set[int] = field(default_factory=set)  # ids of unconditional statements
    type_checking: set[int] = field(default_factory=set)  # ids of imports under TYPE_CHECKING

    @property
    def star_import(self) -> bool:
        """True when the module has a top-level ``from x import *`` (names scope can't see)."""
        return any(
            isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar)
            for statement in self.module.body
            if isinstance(statement, cst.SimpleStatementLine)
            for small in statement.body
        )

    @property
    def future_annotations(self) -> bool:
        """True when the module starts with ``from __future__ import annotations``."""
        for statement in self.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                return False
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and _is_future_annotations(small):
                    return True
        return False

    def code_for(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def free_names(self, node: cst.CSTNode, exclude: Iterable[cst.CSTNode] = ()) -> list[str]:
        """Module-level (and undefined) names used inside ``node`` but not ``exclude``."""
        names = {name for _, name in self.global_accesses(node, exclude)}
        return sorted(name for name in names if name)

    def global_accesses(
        self, node: cst.CSTNode, exclude: Iterable[cst.CSTNode] = ()
    ) -> Iterator[tuple[cst.CSTNode, str]]:
        """Each access inside ``node`` (not ``exclude``) to a module-level or undefined
        name, with that name: what a copy of ``node`` needs bound, and where a rename
        of one of those names must reach."""
        skipped = {id(n) for part in exclude for n in walk(part)}
        inside = {id(n) for n in walk(node)} - skipped
        for scope in {s for s in self.scopes.values() if s is not None}:
            for access in scope.accesses:
                if id(access.node) not in inside:
                    continue
                referents = access.referents
                if not referents:
                    dotted = cst.helpers.get_full_name_for_node(access.node) or ""
                    yield access.node, dotted.split(".")[0]
                for ref in referents:
                    if ref.scope is self.global_scope and not isinstance(ref, BuiltinAssignment):
                        yield access.node, ref.name

    def binding(self, name: str) -> Binding:
        assignments = list(self.global_scope.assignments[name])
        if not assignments:
            builtin = any(isinstance(a, BuiltinAssignment) for a in self.global_scope[name])
            return Binding("builtin" if builtin else "undefined")
        conditional = len(assignments) > 1 or any(
            isinstance(a, Assignment) and id(a.node) not in self.top_level for a in assignments
        )
        first = assignments[0]
        if isinstance(first, ImportAssignment):
            return self._import_binding(first, conditional)
        return Binding("definition", self.source.name, name, conditional=conditional)

    def _import_binding(self, ref: ImportAssignment, conditional: bool) -> Binding:
        node = ref.node
        guarded = id(node) in self.type_checking
        if guarded:
            conditional = False
        if isinstance(node, cst.Import):
            for alias in node.names:
                if (alias.evaluated_alias or alias.evaluated_name) == ref.name:
                    return Binding(
                        "import",
                        alias.evaluated_name,
                        asname=alias.evaluated_alias,
                        conditional=conditional,
                        type_checking=guarded,
                    )
        if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            module = cst.helpers.get_full_name_for_node(node.module) if node.module else None
            base = absolute_module(
                self.source.name, self.source.is_package, len(node.relative), module
            )
            for alias in node.names:
                if (alias.evaluated_alias or alias.evaluated_name) == ref.name:
                    return Binding(
                        "import",
                        base,
                        alias.evaluated_name,
                        alias.evaluated_alias,
                        conditional=conditional,
                        type_checking=guarded,
                    )
        return Binding("definition", self.source.name, ref.name, conditional=True)


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and every node under it, depth first."""
    yield node
    for child in node.children:
        yield from walk(child)


def parse_source(source: ModuleSource) -> ParsedModule:
    """Parse ``source`` (raises ``libcst.ParserSyntaxError`` when it does not parse)."""
    wrapper = MetadataWrapper(cst.parse_module(source.code))
    scopes = {node: scope for node, scope in wrapper.resolve(ScopeProvider).items() if scope}
    global_scope = next(s for s in scopes.values() if isinstance(s, GlobalScope))
    parsed = ParsedModule(source, wrapper.module, scopes, global_scope)
    _index(parsed, parsed.module.body, conditional=False, guarded=False)
    return parsed


def _index(parsed: ParsedModule, body: Any, *, conditional: bool, guarded: bool) -> None:
    """Record top-level definitions and which import statements are unconditional."""
    for statement in body:
        if isinstance(statement, cst.FunctionDef | cst.ClassDef):
            parsed.definitions.setdefault(statement.name.value, statement)
            if not conditional:
                parsed.top_level.add(id(statement))
        elif isinstance(statement, cst.SimpleStatementLine):
            _index_simple(parsed, statement, conditional=conditional, guarded=guarded)
        elif isinstance(statement, cst.If):
            checking = _is_type_checking(statement.test)
            _index(parsed, statement.body.body, conditional=True, guarded=checking)
            if statement.orelse is not None:
                _index(parsed, [statement.orelse], conditional=True, guarded=False)
        elif isinstance(statement, cst.Else):
            _index(parsed, statement.body.body, conditional=True, guarded=guarded)
        elif isinstance(statement, cst.Try):
            _index(parsed, statement.body.body, conditional=True, guarded=False)
            for handler in statement.handlers:
                _index(parsed, handler.body.body, conditional=True, guarded=False)


def _index_simple(
    parsed: ParsedModule, statement: cst.SimpleStatementLine, *, conditional: bool, guarded: bool
) -> None:
    for small in statement.body:
        if guarded and isinstance(small, cst.Import | cst.ImportFrom):
            parsed.type_checking.add(id(small))
        if conditional:
            continue
        parsed.top_level.add(id(small))
        targets: list[cst.BaseExpression] = []
        if isinstance(small, cst.Assign):
            targets = [target.target for target in small.targets]
        elif isinstance(small, cst.AnnAssign):
            targets = [small.target]
        for target in targets:
            if isinstance(target, cst.Name):
                parsed.top_level.add(id(target))
                parsed.definitions.setdefault(target.value, statement)


def _is_future_annotations(node: cst.ImportFrom) -> bool:
    module = cst.helpers.get_full_name_for_node(node.module) if node.module else ""
    return (
        module == "__future__"
        and not isinstance(node.names, cst.ImportStar)
        and any(alias.evaluated_name == "annotations" for alias in node.names)
    )


def _is_type_checking(test: cst.BaseExpression) -> bool:
    return (isinstance(test, cst.Name) and test.value == "TYPE_CHECKING") or (
        isinstance(test, cst.Attribute) and test.attr.value == "TYPE_CHECKING"
    )
