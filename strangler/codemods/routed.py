"""Route monolith entry points through the shim: add (and remove) ``@routed(...)``.

``AddRoutedDecorator`` is what ``strangler extract`` does to the monolith: each entry
point gets ``@routed("<feature>", task=..., style=..., ...)`` as its outermost decorator
and ``from shims import routed``; its body stays, it is the monolith path.
``RemoveRouted`` is ``extract --revert``: it removes exactly that decorator, and the
import when nothing else uses it, restoring the bytes the extraction started from.

``async def`` entry points are refused (a note, the function untouched): the shim's
decorator dispatches synchronously, and wrapping a coroutine function in a synchronous
wrapper would silently hand callers a different kind of object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from strangler.codemods._cst import (
    ROUTED,
    TrackingCommand,
    call_keyword,
    is_routed_call,
    parse_decorator,
    routed_feature,
    str_literal,
)

__all__ = [
    "STYLES",
    "AddRoutedDecorator",
    "RemoveRouted",
    "RoutedNameConflict",
    "RoutedSpec",
    "decorator_name",
    "format_call",
]

SHIMS = "shims"
STYLES = ("fire_and_forget", "request_reply")
# Descriptors must stay outermost: routing the descriptor object itself would break it.
_DESCRIPTORS = frozenset({"staticmethod", "classmethod"})
_PROPERTIES = frozenset({"property", "cached_property", "functools.cached_property"})


class RoutedNameConflict(RuntimeError):
    """The module already binds ``routed`` to something that is not ``shims.routed``."""


@dataclass(frozen=True, slots=True)
class RoutedSpec:
    """How one entry point is routed: the arguments of its ``@routed(...)`` decorator.

    ``key_expr`` is Python source for the routing key (``None`` or e.g.
    ``"lambda order: order.customer_id"``), emitted verbatim.
    """

    feature: str
    task: str
    style: str = "fire_and_forget"
    key_expr: str | None = None
    timeout: float = 5.0
    fallback: bool = True
    outbox: bool = False

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, not {self.style!r}")
        if self.outbox and self.style != "fire_and_forget":
            raise ValueError("outbox=True needs style='fire_and_forget' (a reply cannot wait)")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, not {self.timeout}")
        if self.key_expr is not None:
            try:
                cst.parse_expression(self.key_expr)
            except cst.ParserSyntaxError:
                raise ValueError(
                    f"key_expr is not a Python expression: {self.key_expr!r}"
                ) from None

    def arguments(self) -> list[str]:
        return [
            str_literal(self.feature),
            f"task={str_literal(self.task)}",
            f"style={str_literal(self.style)}",
            f"key={self.key_expr or 'None'}",
            f"timeout={float(self.timeout)!r}",
            f"fallback={self.fallback!r}",
            f"outbox={self.outbox!r}",
        ]


def format_call(func: str, args: Sequence[str], indent: str, step: str, width: int = 100) -> str:
    """``func(a, b)`` on one line when it fits in ``width``, else one argument a line.

    ``indent`` only counts towards the width: continuation lines are written relative to
    the statement, and libcst re-indents them with the enclosing blocks when rendering.
    """
    one_line = f"{func}({', '.join(args)})"
    if len(indent) + len(one_line) <= width:
        return one_line
    inner = "".join(f"{step}{arg},\n" for arg in args)
    return f"{func}(\n{inner})"


def decorator_name(decorator: cst.Decorator) -> str:
    node = decorator.decorator
    if isinstance(node, cst.Call):
        node = node.func
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
    return ".".join(reversed(parts))


class _RoutedBindings(cst.CSTVisitor):
    """Gathers every binding of the name ``routed`` that does not come from ``shims``."""

    def __init__(self) -> None:
        self.foreign: list[str] = []

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = cst.helpers.get_full_name_for_node(node.module) if node.module else ""
        if isinstance(node.names, cst.ImportStar) or (module == SHIMS and not node.relative):
            return False
        for alias in node.names:
            bound = alias.evaluated_alias or alias.evaluated_name
            if bound == ROUTED:
                self.foreign.append(f"from {'.' * len(node.relative)}{module} import ...")
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        if any(alias.evaluated_alias == ROUTED for alias in node.names):
            self.foreign.append("import ... as routed")
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if node.name.value == ROUTED:
            self.foreign.append("def routed")
        return True

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        if node.name.value == ROUTED:
            self.foreign.append("class routed")
        return True

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
        if isinstance(node.target, cst.Name) and node.target.value == ROUTED:
            self.foreign.append("routed = ...")
        return False


class AddRoutedDecorator(TrackingCommand):
    """Add ``@routed(...)`` to each target (by qualname in the module: ``f``, ``Cls.meth``).

    Idempotent: a target already routed for its feature is left as it is. A target routed
    for another feature, an ``async def``, or a property is refused with a note. The
    decorator goes outermost, except below ``@staticmethod``/``@classmethod``.
    Every definition of a target is decorated (``if``/``else`` variants included).
    """

    DESCRIPTION = "Route entry points through shims.routed."

    def __init__(self, targets: Mapping[str, RoutedSpec]) -> None:
        super().__init__()
        self.targets = dict(targets)
        self._found: set[str] = set()

    def visit_Module(self, node: cst.Module) -> bool:
        self._found = set()
        self._module: cst.Module | None = node
        return super().visit_Module(node)

    def descend(self, qualname: str) -> bool:
        return any(target.startswith(f"{qualname}.") for target in self.targets)

    def _check_bindings(self) -> None:
        """Once per module, before the first decoration: is ``routed`` free to use?"""
        if self._module is None:
            return
        bindings = _RoutedBindings()
        self._module.visit(bindings)
        self._module = None
        if bindings.foreign:
            raise RoutedNameConflict(
                f"the module already binds 'routed' ({bindings.foreign[0]}); "
                "rename it before routing entry points here"
            )

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        for qualname in sorted(set(self.targets) - self._found):
            self.note(qualname, "not found in this module", refused=False)
        return updated_node

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        qualname = self.pop_function()
        spec = self.targets.get(qualname)
        if spec is None:
            return updated_node
        self._found.add(qualname)
        if any(decorator_name(d).endswith("overload") for d in updated_node.decorators):
            return updated_node  # a typing stub: only the implementation is routed
        refusal = self._refusal(updated_node, spec)
        if refusal == "":
            AddImportsVisitor.add_needed_import(self.context, SHIMS, ROUTED)
            for name in _differences(updated_node, spec):
                self.note(
                    qualname,
                    f"already routed; its {name}= differs from the plan "
                    "(left as written: revert and extract again to change it)",
                    refused=False,
                )
            return updated_node
        if refusal is not None:
            self.note(qualname, refusal)
            return updated_node
        return self._decorate(qualname, updated_node, spec)

    def _refusal(self, node: cst.FunctionDef, spec: RoutedSpec) -> str | None:
        """None: decorate; "": already routed for this feature; else the reason to refuse."""
        if node.asynchronous is not None:
            return "async def is not supported: shims.routed wraps synchronous callables"
        for decorator in node.decorators:
            call = decorator.decorator
            if isinstance(call, cst.Call) and is_routed_call(call):
                feature = routed_feature(decorator)
                return "" if feature == spec.feature else f"already routed as {feature!r}"
            if decorator_name(decorator).split(".")[-1] in _PROPERTIES | {"setter"}:
                return "properties are not routed: route the function the property calls"
        return None

    def _decorate(self, qualname: str, node: cst.FunctionDef, spec: RoutedSpec) -> cst.FunctionDef:
        self._check_bindings()
        text = format_call(f"@{ROUTED}", spec.arguments(), self.indent, self.step)
        decorators = list(node.decorators)
        position = 0
        while position < len(decorators) and decorator_name(decorators[position]) in _DESCRIPTORS:
            position += 1
        decorators.insert(position, parse_decorator(text))
        AddImportsVisitor.add_needed_import(self.context, SHIMS, ROUTED)
        self.changed.append(qualname)
        return node.with_changes(decorators=decorators)


class RemoveRouted(TrackingCommand):
    """Remove ``@routed("<feature>", ...)`` wherever it decorates a function.

    The ``shims.routed`` import goes too when nothing uses it any more. Together with
    :class:`AddRoutedDecorator` this restores the original bytes (see ``_tidy_top``).
    """

    DESCRIPTION = "Remove shims.routed for one feature (extract --revert)."

    def __init__(self, feature: str) -> None:
        super().__init__()
        self.feature = feature

    def transform_module(self, tree: cst.Module) -> cst.Module:
        return _tidy_top(tree, super().transform_module(tree))

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        qualname = self.pop_function()
        kept = [d for d in updated_node.decorators if routed_feature(d) != self.feature]
        if len(kept) == len(updated_node.decorators):
            return updated_node
        RemoveImportsVisitor.remove_unused_import(self.context, SHIMS, ROUTED)
        self.changed.append(qualname)
        return updated_node.with_changes(decorators=kept)


def _differences(node: cst.FunctionDef, spec: RoutedSpec) -> list[str]:
    """Which of task/style the existing ``@routed`` writes differently from ``spec``."""
    wanted = {"task": spec.task, "style": spec.style}
    for decorator in node.decorators:
        call = decorator.decorator
        if isinstance(call, cst.Call) and routed_feature(decorator) == spec.feature:
            return [
                name
                for name, value in wanted.items()
                if _literal(call_keyword(call, name)) not in (value, None)
            ]
    return []


def _literal(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _is_shims_routed_import(statement: cst.BaseStatement) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    node = statement.body[0]
    return (
        isinstance(node, cst.ImportFrom)
        and not node.relative
        and node.module is not None
        and cst.helpers.get_full_name_for_node(node.module) == SHIMS
        and not isinstance(node.names, cst.ImportStar)
        and [alias.evaluated_name for alias in node.names] == [ROUTED]
    )


def _tidy_top(before: cst.Module, after: cst.Module) -> cst.Module:
    """Undo the blank line AddImportsVisitor leaves when it created the module's first import.

    When ``from shims import routed`` was the module's first statement and is gone, the
    next statement kept the blank line that separated it from the import: drop leading
    blank lines (never comments) from the new first statement.
    """
    if not before.body or not after.body or not _is_shims_routed_import(before.body[0]):
        return after
    if _is_shims_routed_import(after.body[0]):
        return after
    first = after.body[0]
    lines = list(first.leading_lines)
    while lines and lines[0].comment is None:
        lines.pop(0)
    return after.with_changes(body=[first.with_changes(leading_lines=lines), *after.body[1:]])
