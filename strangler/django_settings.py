"""The Django settings a routed monolith needs: the shim's app and its routing-key middleware.

``strangler extract`` adds them (a libcst codemod, formatting and comments kept) so the
extracted feature is routed per user from the first request: ``"shims.django"`` at the
end of ``INSTALLED_APPS`` and ``RoutingKeyMiddleware`` right after Django's
``AuthenticationMiddleware`` in ``MIDDLEWARE`` (it reads ``request.user``). Only
module-level list or tuple literals are edited; anything else (settings built by code,
split modules) is left alone with a note saying what to add by hand. Idempotent: an
entry already present is not added again. Never removed by ``--revert``: other extracted
features may rely on it, and the lines are harmless with no ``@routed`` left.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import Codemod

__all__ = ["APP", "AUTH_MIDDLEWARE", "MIDDLEWARE", "AddShimSettings"]

APP = "shims.django"
MIDDLEWARE = "shims.django.middleware.RoutingKeyMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


class AddShimSettings(Codemod):
    """Adds the shim's app and middleware to a settings module's list literals
    (``remove=True``: takes them out again, the exact inverse, for ``--revert``)."""

    def __init__(self, *, remove: bool = False) -> None:
        super().__init__(context=cst.codemod.CodemodContext())
        self.remove = remove

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        transformer = _Settings(self.remove)
        updated = tree.visit(transformer)
        for name, entry in (("INSTALLED_APPS", APP), ("MIDDLEWARE", MIDDLEWARE)):
            if name not in transformer.seen and not self.remove:
                self.warn(f"{name} is not a list literal here: add {entry!r} by hand")
        return updated


class _Settings(cst.CSTTransformer):
    def __init__(self, remove: bool) -> None:
        self.seen: set[str] = set()
        self.remove = remove

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # module level only

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        if len(updated_node.targets) != 1:
            return updated_node
        target = updated_node.targets[0].target
        value = updated_node.value
        if not isinstance(target, cst.Name) or not isinstance(value, cst.List | cst.Tuple):
            return updated_node
        entries = {"INSTALLED_APPS": (APP, None), "MIDDLEWARE": (MIDDLEWARE, AUTH_MIDDLEWARE)}
        if target.value not in entries:
            return updated_node
        self.seen.add(target.value)
        entry, after = entries[target.value]
        changed = _remove(value, entry) if self.remove else _insert(value, entry, after=after)
        return updated_node.with_changes(value=changed)


def _strings(node: cst.List | cst.Tuple) -> list[str | None]:
    return [
        e.value.evaluated_value
        if isinstance(e.value, cst.SimpleString) and isinstance(e.value.evaluated_value, str)
        else None
        for e in node.elements
    ]


def _insert(node: cst.List | cst.Tuple, entry: str, *, after: str | None) -> cst.List | cst.Tuple:
    """``entry`` after ``after`` (else at the end), laid out like its neighbours."""
    values = _strings(node)
    if entry in values or not node.elements:
        return node
    index = values.index(after) + 1 if after in values else len(values)
    elements = list(node.elements)
    value = cst.SimpleString(f'"{entry}"')
    if index < len(elements):  # between two elements: copy the comma before it
        elements.insert(index, cst.Element(value, comma=elements[index - 1].comma))
        return node.with_changes(elements=elements)
    last, inner = elements[-1], elements[-2].comma if len(elements) > 1 else None
    closing = node.rbracket.whitespace_before if isinstance(node, cst.List) else None
    if (
        isinstance(node, cst.List)
        and isinstance(last.comma, cst.Comma)
        and isinstance(inner, cst.Comma)
        and isinstance(inner.whitespace_after, cst.ParenthesizedWhitespace)
        and isinstance(closing, cst.ParenthesizedWhitespace)
    ):
        # One entry per line, trailing comma: the comment after the old last entry
        # (held by the closing bracket) stays on its line; the new entry takes the
        # line break before the bracket.
        step = inner.whitespace_after
        own_line = step.with_changes(first_line=closing.first_line, empty_lines=())
        elements[-1] = last.with_changes(comma=inner.with_changes(whitespace_after=own_line))
        elements.append(cst.Element(value, comma=last.comma))
        bracket = node.rbracket.with_changes(
            whitespace_before=closing.with_changes(first_line=cst.TrailingWhitespace())
        )
        return node.with_changes(elements=elements, rbracket=bracket)
    elements[-1] = last.with_changes(comma=inner or cst.Comma(_SPACE))
    elements.append(cst.Element(value, comma=last.comma))
    return node.with_changes(elements=elements)


def _remove(node: cst.List | cst.Tuple, entry: str) -> cst.List | cst.Tuple:
    """The inverse of :func:`_insert`: the same bytes as before it ran."""
    values = _strings(node)
    if entry not in values:
        return node
    index = values.index(entry)
    elements = list(node.elements)
    gone = elements.pop(index)
    if index < len(elements) or not elements:
        return node.with_changes(elements=elements)
    previous = elements[-1]
    own = previous.comma.whitespace_after if isinstance(previous.comma, cst.Comma) else None
    closing = node.rbracket.whitespace_before if isinstance(node, cst.List) else None
    if (
        isinstance(node, cst.List)
        and isinstance(own, cst.ParenthesizedWhitespace)
        and isinstance(closing, cst.ParenthesizedWhitespace)
    ):
        elements[-1] = previous.with_changes(comma=gone.comma)
        bracket = node.rbracket.with_changes(
            whitespace_before=closing.with_changes(first_line=own.first_line)
        )
        return node.with_changes(elements=elements, rbracket=bracket)
    elements[-1] = previous.with_changes(comma=gone.comma)
    return node.with_changes(elements=elements)


_SPACE = cst.SimpleWhitespace(" ")
