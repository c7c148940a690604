"""Small libcst helpers shared by the codemods: where am I, which decorator is ours.

Hand-written because libcst's ``QualifiedNameProvider`` answers a different question
(what a *name* refers to) and costs a scope analysis per module; the codemods only need
the dotted path of the definition being visited and its indentation, which a stack
maintained during the visit gives for free - this keeps a no-op run over a large tree
(the Django source) cheap.
"""

from __future__ import annotations

import json

import libcst as cst
from libcst.codemod import VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

__all__ = [
    "ROUTED",
    "TrackingCommand",
    "call_keyword",
    "is_routed_call",
    "parse_decorator",
    "parse_statement",
    "routed_feature",
    "str_literal",
]

ROUTED = "routed"
_CONTAINERS = (
    cst.Module,
    cst.IndentedBlock,
    cst.ClassDef,
    cst.FunctionDef,
    cst.If,
    cst.Else,
    cst.For,
    cst.While,
    cst.Try,
    cst.TryStar,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.Finally,
    cst.With,
    cst.Match,
    cst.MatchCase,
)
LOCALS = "<locals>"


class TrackingCommand(VisitorBasedCodemodCommand):
    """A codemod command that knows the qualname and indentation of what it visits."""

    def __init__(self) -> None:
        # The context is set per module by :func:`strangler.codemods.results.run_codemod`.
        from libcst.codemod import CodemodContext

        super().__init__(CodemodContext())
        self.wrap_metadata = False  # True when a scheduled helper needs the tree's metadata
        self._scopes: list[str] = []
        self._indents: list[str] = []
        self._default_indent = "    "
        self.changed: list[str] = []
        self.refused: list[str] = []

    def transform_module(self, tree: cst.Module) -> cst.Module:
        """Run the pass, then the import helpers it scheduled.

        Same as ``CodemodCommand.transform_module`` minus the ``MetadataWrapper`` around
        the main pass: these commands resolve no metadata, and the wrapper deep-copies
        the tree, which dominated a no-op run over a large code base.
        """
        if self.wrap_metadata:
            return super().transform_module(tree)
        tree = self.transform_module_impl(tree)
        for helper in (AddImportsVisitor, RemoveImportsVisitor):
            if helper.CONTEXT_KEY in self.context.scratch:
                tree = helper(self.context).transform_module(tree)
        return tree

    def visit_Module(self, node: cst.Module) -> bool:
        self._scopes, self._indents = [], []
        self.changed, self.refused = [], []
        self._default_indent = node.default_indent
        return True

    def descend(self, qualname: str) -> bool:
        """Visit inside the class or function ``qualname``? (Override to prune the walk.)"""
        return True

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._scopes.append(node.name.value)
        return self.descend(".".join(self._scopes))

    def on_visit(self, node: cst.CSTNode) -> bool:
        """Walk only what can contain a ``def``: blocks and compound statements.

        Expressions, simple statements, decorators and whitespace are never entered
        (leaves still run on what is visited), which makes a no-op pass over a large
        tree several times cheaper; the codemods read decorators and bodies from the
        ``FunctionDef`` node itself.
        """
        if not isinstance(node, _CONTAINERS):
            return False
        return super().on_visit(node)

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        self._scopes.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._scopes.extend((node.name.value, LOCALS))
        return self.descend(".".join(self._scopes))

    def pop_function(self) -> str:
        """Leave a function scope; returns the function's qualname (``Class.method``)."""
        self._scopes.pop()
        name = self._scopes.pop()
        return ".".join([*self._scopes, name])

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> bool:
        self._indents.append(self._default_indent if node.indent is None else node.indent)
        return True

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.BaseSuite:
        self._indents.pop()
        return updated_node

    @property
    def indent(self) -> str:
        """Indentation of the statement being left (its own block already popped)."""
        return "".join(self._indents)

    @property
    def step(self) -> str:
        return self._default_indent

    def note(self, qualname: str, message: str, *, refused: bool = True) -> None:
        self.warn(f"{qualname}: {message}")
        if refused:
            self.refused.append(qualname)


def routed_feature(decorator: cst.Decorator) -> str | None:
    """The feature named by ``@routed("feature", ...)`` (or ``@shims.routed``), else None."""
    call = decorator.decorator
    if not isinstance(call, cst.Call) or not is_routed_call(call):
        return None
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value == "feature":
            return _string_value(arg.value)
    return None


def is_routed_call(call: cst.Call) -> bool:
    func = call.func
    if isinstance(func, cst.Name):
        return func.value == ROUTED
    return isinstance(func, cst.Attribute) and func.attr.value == ROUTED


def call_keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def _string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def str_literal(value: str) -> str:
    """A double-quoted Python string literal (JSON escapes are valid Python escapes)."""
    return json.dumps(value)


def parse_decorator(text: str) -> cst.Decorator:
    """Parse ``@...`` source written at indentation zero (libcst re-indents it)."""
    module = cst.parse_module(f"{text}\ndef _():\n    pass\n")
    func = module.body[0]
    assert isinstance(func, cst.FunctionDef)
    return func.decorators[0]


def parse_statement(text: str) -> cst.BaseStatement:
    return cst.parse_statement(text)
