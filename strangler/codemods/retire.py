"""``strangler retire``: the monolith path of a fully migrated feature goes away.

For each function decorated ``@routed("<feature>", ...)`` the decorator and the body are
replaced by a dispatch-only call (docstring kept)::

    def send_order_confirmation(order):
        \"\"\"Email the customer.\"\"\"
        return dispatch_only(
            "notifications.send_order_confirmation",
            task="functions.notifications.tasks.send_order_confirmation",
            style="fire_and_forget",
            timeout=5.0,
            outbox=False,
            arguments={"order": order},
        )

``shims.dispatch_only`` always takes the function path: no route lookup and no fallback
(there is no monolith path left to fall back to). ``task``/``style``/``timeout``/
``outbox`` are copied from the decorator as written. With ``remove=True`` (the caller
knows nothing calls it) the function is deleted instead. Running it again changes
nothing: a function whose body already is that call is recognised as retired.
"""

from __future__ import annotations

from collections.abc import Mapping

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from strangler.codemods._cst import (
    LOCALS,
    ROUTED,
    TrackingCommand,
    call_keyword,
    parse_statement,
    routed_feature,
    str_literal,
)
from strangler.codemods.routed import SHIMS, format_call

__all__ = ["DISPATCH_ONLY", "RetireMonolithPath", "is_retired", "retired_functions"]

DISPATCH_ONLY = "dispatch_only"
_DEFAULTS = {"style": '"fire_and_forget"', "timeout": "5.0", "outbox": "False"}
_EMPTY = cst.Module([])


class RetireMonolithPath(TrackingCommand):
    """Replace the monolith path of ``feature`` by a dispatch-only call, or remove it.

    ``prune_imports`` also removes imports that only the old bodies used (off by default:
    another module may import a name *through* this one, which libcst cannot see).
    """

    DESCRIPTION = "Retire the monolith path of a routed feature."

    def __init__(self, feature: str, *, remove: bool = False, prune_imports: bool = False) -> None:
        super().__init__()
        self.feature = feature
        self.remove = remove
        self.prune_imports = prune_imports
        self.wrap_metadata = prune_imports  # remove_unused_import_by_node resolves scopes
        self._seen = False

    def visit_Module(self, node: cst.Module) -> bool:
        self._seen = False
        return super().visit_Module(node)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self._seen:
            self.note(self.feature, "no function is routed for this feature here", refused=False)
        return updated_node

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.BaseSuite:
        super().leave_IndentedBlock(original_node, updated_node)
        if not updated_node.body:  # the removed function was alone in its block
            return updated_node.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
        return updated_node

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        qualname = self.pop_function()
        routed = [d for d in updated_node.decorators if routed_feature(d) == self.feature]
        if not routed:
            self._seen = self._seen or is_retired(updated_node, self.feature)
            return updated_node
        self._seen = True
        decorator = routed[0].decorator
        assert isinstance(decorator, cst.Call)
        if self.remove:
            self._schedule_imports(original_node, dispatch=False)
            self.changed.append(qualname)
            return cst.RemovalSentinel.REMOVE
        if call_keyword(decorator, "task") is None:
            self.note(qualname, "its @routed(...) has no task=...: nothing to dispatch to")
            return updated_node
        self._schedule_imports(original_node, dispatch=True)
        self.changed.append(qualname)
        kept = [d for d in updated_node.decorators if routed_feature(d) != self.feature]
        body = self._dispatch_body(updated_node, decorator)
        return updated_node.with_changes(decorators=kept, body=body)

    def _schedule_imports(self, original: cst.FunctionDef, *, dispatch: bool) -> None:
        if dispatch:
            AddImportsVisitor.add_needed_import(self.context, SHIMS, DISPATCH_ONLY)
        RemoveImportsVisitor.remove_unused_import(self.context, SHIMS, ROUTED)
        if self.prune_imports:
            RemoveImportsVisitor.remove_unused_import_by_node(self.context, original.body)

    def _dispatch_body(self, node: cst.FunctionDef, decorator: cst.Call) -> cst.IndentedBlock:
        args = [str_literal(self.feature)]
        for name in ("task", "style", "timeout", "outbox"):
            value = call_keyword(decorator, name)
            args.append(f"{name}={_EMPTY.code_for_node(value) if value else _DEFAULTS[name]}")
        args.append(f"arguments={_arguments_dict(node.params)}")
        text = format_call(f"return {DISPATCH_ONLY}", args, self.indent + self.step, self.step)
        statements = [*_docstring(node), parse_statement(text)]
        if isinstance(node.body, cst.IndentedBlock):
            return node.body.with_changes(body=statements)
        return cst.IndentedBlock(body=statements)


def _arguments_dict(params: cst.Parameters) -> str:
    """``{"a": a, "args": args, ...}``: every parameter bound by name, as the shim sends them."""
    names = [p.name.value for p in (*params.posonly_params, *params.params)]
    if isinstance(params.star_arg, cst.Param):
        names.append(params.star_arg.name.value)
    names.extend(p.name.value for p in params.kwonly_params)
    if params.star_kwarg is not None:
        names.append(params.star_kwarg.name.value)
    return "{" + ", ".join(f"{str_literal(name)}: {name}" for name in names) + "}"


def _docstring(node: cst.FunctionDef) -> list[cst.BaseStatement]:
    body = node.body
    if not isinstance(body, cst.IndentedBlock) or node.get_docstring(clean=False) is None:
        return []
    return [body.body[0]]


def retired_functions(code: str, features: Mapping[str, str]) -> tuple[str, ...]:
    """Which of ``features`` (name in the module, ``f`` or ``Class.method`` -> feature)
    ``code`` defines as retired: the body is the dispatch-only call, the monolith path is
    gone. ``extract`` must then never read that body as the code to move."""
    try:
        module = cst.parse_module(code)
    except cst.ParserSyntaxError:
        return ()
    finder = _RetiredFinder(features)
    module.visit(finder)
    return tuple(sorted(finder.found))


class _RetiredFinder(cst.CSTVisitor):
    def __init__(self, features: Mapping[str, str]) -> None:
        self.features = features
        self.scopes: list[str] = []
        self.found: set[str] = set()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        qualname = ".".join([*self.scopes, node.name.value])
        feature = self.features.get(qualname)
        if feature is not None and is_retired(node, feature):
            self.found.add(qualname)
        self.scopes.extend((node.name.value, LOCALS))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        del self.scopes[-2:]


def is_retired(node: cst.FunctionDef, feature: str) -> bool:
    """True when the body (docstring aside) is ``return dispatch_only("<feature>", ...)``."""
    body = node.body
    if not isinstance(body, cst.IndentedBlock):
        return False
    statements = body.body[len(_docstring(node)) :]
    if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
        return False
    inner = statements[0].body
    value = inner[0].value if len(inner) == 1 and isinstance(inner[0], cst.Return) else None
    if not isinstance(value, cst.Call) or not value.args:
        return False
    func = value.func
    named = isinstance(func, cst.Name | cst.Attribute) and (
        (func.value if isinstance(func, cst.Name) else func.attr.value) == DISPATCH_ONLY
    )
    first = value.args[0].value
    return named and isinstance(first, cst.SimpleString) and first.evaluated_value == feature
